package dev.ssm4j.kernels.gemm;

import dev.ssm4j.kernels.Parallel;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * SIMD GEMM entry points (no dispatch: always the vector code; {@link Gemm} chooses between this
 * and {@link GemmScalar}). Same conventions as {@link GemmScalar}. Path by shape:
 *
 * <ul>
 *   <li>m ≤ {@value GemmDecode#MAX_M}: the streaming decode path ({@link GemmDecode}) — op(B) read
 *       once, in place, no packing;</li>
 *   <li>otherwise the packed, cache-blocked path ({@link GemmPacked}).</li>
 * </ul>
 * The choice depends only on the shape, never on the pool, and both paths give bitwise-identical
 * results for any number of threads.
 */
public final class GemmSimd {
    private GemmSimd() {}

    /** Below this many multiply-adds a call runs on the calling thread even when given a pool. */
    static final long PARALLEL_MIN_WORK = 1L << 18;

    /** C = α·op(A)·op(B) + β·C (row-major BLAS semantics, see {@link GemmScalar}). */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
            ForkJoinPool pool) {
        GemmArgs.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        sgemmUnchecked(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, pool);
    }

    static void sgemmUnchecked(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
            ForkJoinPool pool) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scale(beta, m, n, c, cOff, ldc);
            return;
        }
        if ((long) m * n * k < PARALLEL_MIN_WORK) pool = null;
        if (m <= GemmDecode.MAX_M) {
            GemmDecode.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, pool);
        } else {
            GemmPacked.gemm(transA, m, n, k, alpha, a, aOff, lda, new GemmPack.ArrayB(b, bOff, ldb, transB),
                    beta, c, cOff, ldc, pool);
        }
    }

    /**
     * {@code batch} independent products; item t reads A at {@code aOff + t·strideA}, B at
     * {@code bOff + t·strideB} and writes C at {@code cOff + t·strideC}. With a pool and at least
     * as many items as threads, items run in parallel (each on one thread); otherwise one after the
     * other, each using the pool.
     */
    public static void sgemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch, ForkJoinPool pool) {
        GemmArgs.checkBatch(batch, m, n, k, transA, transB, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC);
        if ((long) batch * m * n * k < PARALLEL_MIN_WORK) pool = null;
        int threads = Parallel.threads(pool);
        if (threads > 1 && batch >= threads) {
            Parallel.forRange(pool, batch, 1, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    sgemmUnchecked(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
                            beta, c, cOff + t * strideC, ldc, null);
                }
            });
        } else {
            for (int t = 0; t < batch; t++) {
                sgemmUnchecked(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
                        beta, c, cOff + t * strideC, ldc, pool);
            }
        }
    }

    /**
     * A linear layer: y (m × n) = x (m × k) · Wᵀ + bias, W (n × k) a {@link WeightMatrix}; bias (n)
     * may be null. Rows of x and y are contiguous.
     */
    public static void linear(float[] y, int yOff, float[] x, int xOff, int m, int k, WeightMatrix w, float[] bias,
            ForkJoinPool pool) {
        if (w == null) throw new IllegalArgumentException("w is null");
        linear(y, yOff, w.rows(), x, xOff, k, m, k, w, bias, pool);
    }

    /**
     * {@link #linear(float[], int, float[], int, int, int, WeightMatrix, float[], ForkJoinPool)} with
     * row strides: y(i, j) = {@code y[yOff + i·ldy + j]} (ldy ≥ n), x(i, p) = {@code x[xOff + i·ldx + p]}
     * (ldx ≥ k), e.g. to read or write one part of a fused projection's rows.
     */
    public static void linear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, int k, WeightMatrix w,
            float[] bias, ForkJoinPool pool) {
        if (w == null) throw new IllegalArgumentException("w is null");
        GemmArgs.checkLinear(y, yOff, ldy, x, xOff, ldx, m, k, w, bias);
        int n = w.rows();
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                if (bias == null) Arrays.fill(y, yOff + i * ldy, yOff + i * ldy + n, 0f);
                else System.arraycopy(bias, 0, y, yOff + i * ldy, n);
            }
            return;
        }
        if ((long) m * n * k < PARALLEL_MIN_WORK) pool = null;
        if (m <= GemmDecode.MAX_M) {
            GemmDecode.linear(y, yOff, ldy, x, xOff, ldx, m, k, w, bias, pool);
            return;
        }
        float beta = 0f;
        if (bias != null) {
            for (int i = 0; i < m; i++) System.arraycopy(bias, 0, y, yOff + i * ldy, n);
            beta = 1f;
        }
        GemmPacked.gemm(false, m, n, k, 1f, x, xOff, ldx, new GemmPack.WeightB(w), beta, y, yOff, ldy, pool);
    }

    /** C = β·C on m × n (β = 0 writes zeros without reading C). */
    static void scale(float beta, int m, int n, float[] c, int cOff, int ldc) {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            if (beta == 0f) Arrays.fill(c, ci, ci + n, 0f);
            else for (int j = 0; j < n; j++) c[ci + j] *= beta;
        }
    }
}
