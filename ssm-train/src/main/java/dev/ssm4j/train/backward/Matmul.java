package dev.ssm4j.train.backward;

import dev.ssm4j.kernels.gemm.Gemm;
import java.util.concurrent.ForkJoinPool;

/**
 * The matrix products of the linear layers' backward passes, as a thin facade over the gemm
 * kernel ({@link Gemm#sgemm}) plus the bias-gradient column sum.
 *
 * <p>A linear layer y = x·Wᵀ (+ b) with x (T, in), W (out, in), y (T, out) has the gradients
 * <pre>
 *   dx (T, in)   (+)= dy (T, out) · W (out, in)       {@link #nn}   both operands as stored
 *   dW (out, in) +=   dyᵀ (out, T) · x (T, in)        {@link #tn}   the first operand transposed
 *   db (out)     +=   Σ_t dy[t, :]                    {@link #colSum}
 * </pre>
 * Every matrix is (array, offset, leading dimension), so column slices of token-major activations
 * (e.g. dt_low = xdbl[:, 0:R]) are read and written in place. The gemm kernel's result does not
 * depend on the number of threads (bitwise), which keeps training reproducible.
 */
public final class Matmul {
    private Matmul() {}

    /** C (m, n) (+)= A (m, k) · B (k, n); all row-major with leading dimensions. */
    public static void nn(float[] c, int cOff, int ldc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        Gemm.sgemm(false, false, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, accumulate ? 1f : 0f, c, cOff, ldc, pool);
    }

    /** C (m, n) (+)= Aᵀ · B where A is stored (k, m) row-major with leading dimension lda, B (k, n). */
    public static void tn(float[] c, int cOff, int ldc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        Gemm.sgemm(true, false, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, accumulate ? 1f : 0f, c, cOff, ldc, pool);
    }

    /** dst[dstOff + j] += Σ_{r < rows} src[srcOff + r·ld + j] for j < cols (a bias gradient). */
    public static void colSum(float[] dst, int dstOff, float[] src, int srcOff, int ld, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("colSum: rows and cols must be >= 0, got ("
                + rows + ", " + cols + ")");
        if (rows == 0 || cols == 0) return;
        need("colSum src", src, srcOff, (long) (rows - 1) * ld + cols);
        need("colSum dst", dst, dstOff, cols);
        // Row by row (streaming through memory) into double sums (rows can be many thousand tokens).
        double[] acc = new double[cols];
        for (int r = 0; r < rows; r++) {
            int o = srcOff + r * ld;
            for (int j = 0; j < cols; j++) acc[j] += src[o + j];
        }
        for (int j = 0; j < cols; j++) dst[dstOff + j] += (float) acc[j];
    }

    private static void need(String what, float[] x, int off, long span) {
        if (x == null) throw new IllegalArgumentException("matmul: " + what + " is null");
        if (off < 0 || off + span > x.length) {
            throw new IllegalArgumentException("matmul: " + what + " needs floats [" + off + ", " + (off + span)
                    + ") but the array has length " + x.length);
        }
    }
}
