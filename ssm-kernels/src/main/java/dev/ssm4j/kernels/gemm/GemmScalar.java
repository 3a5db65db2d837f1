package dev.ssm4j.kernels.gemm;

/**
 * Scalar twins of the GEMM kernels: plain loops written to be read, the definition the SIMD code
 * in {@link GemmSimd} is tested against (and what {@link Gemm} runs under
 * {@code -Dssm4j.kernels.scalar=true}). Single-threaded; no blocking, no packing.
 *
 * <h2>Conventions (BLAS sgemm, row-major)</h2>
 * C (m × n) = α · op(A) · op(B) + β · C, with op(X) = X or Xᵀ:
 * <ul>
 *   <li>transA = false: A is m × k, element (i, p) at {@code a[aOff + i·lda + p]};
 *       transA = true: A is stored k × m, op(A)(i, p) = {@code a[aOff + p·lda + i]}.</li>
 *   <li>transB = false: B is k × n, op(B)(p, j) = {@code b[bOff + p·ldb + j]};
 *       transB = true: B is stored n × k, op(B)(p, j) = {@code b[bOff + j·ldb + p]}.</li>
 *   <li>C(i, j) = {@code c[cOff + i·ldc + j]}. β = 0 means C is only written, never read, so it may
 *       hold NaN or garbage; α = 0 means A and B are not read.</li>
 * </ul>
 * Sums are accumulated in float, in order of p, with fused multiply-adds.
 */
public final class GemmScalar {
    private GemmScalar() {}

    /** C = α·op(A)·op(B) + β·C; see the class comment for the layouts. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        GemmArgs.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        sgemmUnchecked(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    static void sgemmUnchecked(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        // Step between consecutive p along a row of op(A), and between consecutive rows i.
        int aStepP = transA ? lda : 1, aStepI = transA ? 1 : lda;
        // Step between consecutive p down a column of op(B), and between consecutive columns j.
        int bStepP = transB ? 1 : ldb, bStepJ = transB ? ldb : 1;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                if (alpha != 0f) {
                    int ai = aOff + i * aStepI, bj = bOff + j * bStepJ;
                    for (int p = 0; p < k; p++) {
                        sum = Math.fma(a[ai + p * aStepP], b[bj + p * bStepP], sum);
                    }
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * sum : alpha * sum + beta * c[ci];
            }
        }
    }

    /**
     * {@code batch} independent products: item t uses A at {@code aOff + t·strideA}, B at
     * {@code bOff + t·strideB}, C at {@code cOff + t·strideC} (a stride of 0 shares that operand).
     */
    public static void sgemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch) {
        GemmArgs.checkBatch(batch, m, n, k, transA, transB, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC);
        for (int t = 0; t < batch; t++) {
            sgemmUnchecked(transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb,
                    beta, c, cOff + t * strideC, ldc);
        }
    }

    /**
     * A linear layer: y (m × n) = x (m × k) · Wᵀ + bias, with W (n × k) a {@link WeightMatrix}
     * (f32 or bf16, array or segment) and bias (n) optional. Rows of x and y are contiguous
     * (leading dimensions k and n).
     */
    public static void linear(float[] y, int yOff, float[] x, int xOff, int m, int k, WeightMatrix w, float[] bias) {
        if (w == null) throw new IllegalArgumentException("w is null");
        linear(y, yOff, w.rows(), x, xOff, k, m, k, w, bias);
    }

    /** {@link #linear(float[], int, float[], int, int, int, WeightMatrix, float[])} with row strides ldy ≥ n, ldx ≥ k. */
    public static void linear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, int k, WeightMatrix w,
            float[] bias) {
        if (w == null) throw new IllegalArgumentException("w is null");
        GemmArgs.checkLinear(y, yOff, ldy, x, xOff, ldx, m, k, w, bias);
        int n = w.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum = Math.fma(x[xOff + i * ldx + p], w.at(j, p), sum);
                }
                y[yOff + i * ldy + j] = bias == null ? sum : sum + bias[j];
            }
        }
    }
}
