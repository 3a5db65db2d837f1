package dev.ssm4j.kernels.gemm;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * fp32 matrix products for the model: the dispatching entry points. Each runs the SIMD code
 * ({@link GemmSimd}) unless {@code -Dssm4j.kernels.scalar=true} ({@link KernelConfig#FORCE_SCALAR}),
 * in which case it runs the plain scalar twin ({@link GemmScalar}, single-threaded).
 *
 * <h2>Conventions (row-major BLAS sgemm)</h2>
 * C (m × n) = α · op(A) · op(B) + β · C.
 * <ul>
 *   <li>A: transA = false → m × k, A(i, p) = {@code a[aOff + i·lda + p]}, lda ≥ k;
 *       transA = true → stored k × m, op(A)(i, p) = {@code a[aOff + p·lda + i]}, lda ≥ m.</li>
 *   <li>B: transB = false → k × n, op(B)(p, j) = {@code b[bOff + p·ldb + j]}, ldb ≥ n;
 *       transB = true → stored n × k, op(B)(p, j) = {@code b[bOff + j·ldb + p]}, ldb ≥ k.</li>
 *   <li>C(i, j) = {@code c[cOff + i·ldc + j]}, ldc ≥ n. β = 0: C is write-only (NaN in C is
 *       ignored); α = 0 or k = 0: C = β·C and A, B are not read. C must not overlap A or B.</li>
 * </ul>
 * Model uses: a Linear layer y = x·Wᵀ (W is PyTorch's n × k weight) is transB = true; its
 * backward is dX = dY·W (transB = false) and dW += dYᵀ·X (transA = true, β = 1).
 *
 * <p>Bad arguments (negative sizes, a leading dimension below the row length, an array too short
 * for its shape, offset and leading dimension, C aliasing an input) throw
 * {@link IllegalArgumentException} naming the argument and the size it needs.
 *
 * <p>Threads: {@code pool} null runs on the calling thread; otherwise work is split over the
 * pool. Results are bitwise identical for every pool (each element of C is computed by the same
 * operations in the same order however the work is split). Packing buffers are per-thread scratch
 * that grows to the largest shape seen and is then reused (see {@code GemmScratch}).
 */
public final class Gemm {
    private Gemm() {}

    /** C = α·op(A)·op(B) + β·C. See the class comment for layouts. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
            ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            GemmScalar.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            GemmSimd.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, pool);
        }
    }

    /**
     * {@code batch} products of the same shape (e.g. the per-chunk, per-head products of Mamba-2's
     * SSD): item t reads A at {@code aOff + t·strideA}, B at {@code bOff + t·strideB} and writes C
     * at {@code cOff + t·strideC}. A stride of 0 shares an input between items. Output matrices must
     * not overlap: strideC ≥ (m−1)·ldc + n (stacked), or strideC ≥ n with (batch−1)·strideC + n ≤ ldc
     * (side by side within the rows of one wide matrix, e.g. heads of a (tokens × heads·dim) array).
     */
    public static void sgemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            GemmScalar.sgemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                    beta, c, cOff, ldc, strideC, batch);
        } else {
            GemmSimd.sgemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                    beta, c, cOff, ldc, strideC, batch, pool);
        }
    }

    /**
     * A linear layer y (m × n) = x (m × k) · Wᵀ + bias with W (n × k, n = {@code w.rows()}) an f32
     * or bf16 {@link WeightMatrix} (Java array or memory segment, e.g. a mapped safetensors file) and
     * bias (length ≥ n) optional. Rows of x (length k) and y (length n) are contiguous. m ≤ 8 streams
     * W once without packing (bf16 then moves half the bytes of f32); larger m packs panels of W,
     * widening bf16 while packing.
     */
    public static void linear(float[] y, int yOff, float[] x, int xOff, int m, int k, WeightMatrix w, float[] bias,
            ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            GemmScalar.linear(y, yOff, x, xOff, m, k, w, bias);
        } else {
            GemmSimd.linear(y, yOff, x, xOff, m, k, w, bias, pool);
        }
    }

    /**
     * {@link #linear(float[], int, float[], int, int, int, WeightMatrix, float[], ForkJoinPool)} with row
     * strides: y(i, j) = {@code y[yOff + i·ldy + j]} (ldy ≥ n) and x(i, p) = {@code x[xOff + i·ldx + p]}
     * (ldx ≥ k), to read or write a column block of wider row-major buffers.
     */
    public static void linear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, int k, WeightMatrix w,
            float[] bias, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            GemmScalar.linear(y, yOff, ldy, x, xOff, ldx, m, k, w, bias);
        } else {
            GemmSimd.linear(y, yOff, ldy, x, xOff, ldx, m, k, w, bias, pool);
        }
    }
}
