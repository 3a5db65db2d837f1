package dev.ssm4j.train.backward;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * The matrix products of the linear layers' backward passes (a stand-in for the gemm branch's
 * sgemm; ADAPTER: when dev.ssm4j.kernels.gemm lands, these entry points should delegate to it).
 *
 * <p>A linear layer y = x·Wᵀ (+ b) with x (T, in), W (out, in), y (T, out) has the gradients
 * <pre>
 *   dx (T, in)   += dy (T, out) · W (out, in)        {@link #nn}   "NN": both operands as stored
 *   dW (out, in) += dyᵀ (out, T) · x (T, in)         {@link #tn}   "TN": the first operand transposed
 *   db (out)     += Σ_t dy[t, :]                     {@link #colSum}
 * </pre>
 * Both products are C (m, n) (+)= A·B with B (k, n) row-major; they differ only in how A (m, k) is
 * addressed: A(i, p) = a[aOff + i·aRow + p·aCol], NN has (aRow, aCol) = (lda, 1), TN (A stored as
 * (k, m)) has (1, lda). One kernel serves both ({@link #mulAdd}). Every matrix is (array, offset,
 * leading dimension), so column slices of token-major activations (e.g. dt_low = xdbl[:, 0:R])
 * are read and written in place.
 *
 * <p>Rows of C are split over the pool; each element of C is computed by one thread in a fixed
 * order, so the result does not depend on the number of threads (bitwise).
 */
public final class Matmul {
    private Matmul() {}

    /** C (m, n) (+)= A (m, k) · B (k, n); all row-major with leading dimensions. */
    public static void nn(float[] c, int cOff, int ldc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        mulAdd(c, cOff, ldc, a, aOff, lda, 1, b, bOff, ldb, m, n, k, accumulate, pool);
    }

    /** C (m, n) (+)= Aᵀ · B where A is stored (k, m) row-major with leading dimension lda, B (k, n). */
    public static void tn(float[] c, int cOff, int ldc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        mulAdd(c, cOff, ldc, a, aOff, 1, lda, b, bOff, ldb, m, n, k, accumulate, pool);
    }

    /**
     * C (m, n) (+)= A·B with A(i, p) = a[aOff + i·aRow + p·aCol] and B (k, n) row-major at (bOff, ldb).
     * {@code accumulate = false} overwrites C.
     */
    public static void mulAdd(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                              int bOff, int ldb, int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        check(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k);
        if (KernelConfig.FORCE_SCALAR) {
            MatmulScalar.mulAdd(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, accumulate);
        } else {
            MatmulSimd.mulAdd(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, accumulate, pool);
        }
    }

    /** dst[dstOff + j] += Σ_{r < rows} src[srcOff + r·ld + j] for j < cols (a bias gradient). */
    public static void colSum(float[] dst, int dstOff, float[] src, int srcOff, int ld, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("colSum: rows and cols must be >= 0, got ("
                + rows + ", " + cols + ")");
        if (rows == 0 || cols == 0) return;
        need("colSum src", src, srcOff, (long) (rows - 1) * ld + cols);
        need("colSum dst", dst, dstOff, cols);
        // Sum in double per column (rows can be many thousand tokens), then add once.
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int r = 0, o = srcOff + j; r < rows; r++, o += ld) s += src[o];
            dst[dstOff + j] += (float) s;
        }
    }

    private static void check(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                              int bOff, int ldb, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("matmul sizes (m, n, k) = (" + m + ", " + n + ", " + k
                    + ") must be >= 0");
        }
        if (m == 0 || n == 0) return;
        if (ldc < n) throw new IllegalArgumentException("matmul: ldc = " + ldc + " < n = " + n);
        if (ldb < n) throw new IllegalArgumentException("matmul: ldb = " + ldb + " < n = " + n);
        if (aRow < 0 || aCol < 0) throw new IllegalArgumentException("matmul: A strides must be >= 0");
        need("C (" + m + ", " + n + ")", c, cOff, (long) (m - 1) * ldc + n);
        if (k == 0) return;
        need("B (" + k + ", " + n + ")", b, bOff, (long) (k - 1) * ldb + n);
        need("A (" + m + ", " + k + ")", a, aOff, (long) (m - 1) * aRow + (long) (k - 1) * aCol + 1);
    }

    private static void need(String what, float[] x, int off, long span) {
        if (x == null) throw new IllegalArgumentException("matmul: " + what + " is null");
        if (off < 0 || off + span > x.length) {
            throw new IllegalArgumentException("matmul: " + what + " needs floats [" + off + ", " + (off + span)
                    + ") but the array has length " + x.length);
        }
    }
}
