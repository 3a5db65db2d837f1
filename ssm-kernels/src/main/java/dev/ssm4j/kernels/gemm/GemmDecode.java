package dev.ssm4j.kernels.gemm;

import static dev.ssm4j.kernels.gemm.GemmKernel.L;
import static dev.ssm4j.kernels.gemm.GemmKernel.S;

import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * The streaming path for few rows (m ≤ {@link #MAX_M}: decoding one token per sequence, or a few):
 * C (m × n) = α·op(A)·op(B) + β·C where op(B) is the big operand (a weight matrix) and is read
 * exactly once, straight from where it lives, with no packing. Such products do 2·m FLOPs per
 * element of B, so their speed is the speed at which B streams in from memory; the kernels keep all
 * m rows of A (copied into a small buffer that stays in L1; zero-padded to mp ∈ {1, 4, 8} rows for
 * the dot kernels) and apply every loaded piece of B to all of them.
 *
 * <ul>
 *   <li>op(B) = Bᵀ with B n × k row-major (transB = true; every {@code Linear} weight): row j of B
 *       is contiguous, so C(i, j) is a dot product along k ({@link GemmDots}). Works on float[],
 *       f32 segments and bf16 segments.</li>
 *   <li>op(B) = B with B k × n row-major (transB = false): C's row i is Σ_p A(i, p)·B[p, :], an
 *       "axpy" along n: B is streamed row by row in runs of {@link #AXPY_W} columns into
 *       L1-resident accumulators ({@link #axpyColumns}).</li>
 * </ul>
 *
 * Threads split n; each element is computed by the same instructions whatever the split, so
 * results are bitwise identical for any pool.
 */
final class GemmDecode {
    private GemmDecode() {}

    /** Largest m that takes this path. */
    static final int MAX_M = 8;

    /** Rows the kernels work on for m rows: 1, 4 or 8. */
    static int paddedRows(int m) {
        return m == 1 ? 1 : m <= 4 ? 4 : 8;
    }

    /** sgemm for 1 ≤ m ≤ MAX_M, n, k ≥ 1, α ≠ 0; arguments checked. */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
            float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, ForkJoinPool pool) {
        int mp = paddedRows(m);
        GemmScratch owner = GemmScratch.local();
        float[] xs = owner.takeShared(mp * k);
        try {
            // xs (mp × k, row stride k) = op(A), rows m..mp zero.
            for (int i = 0; i < mp; i++) {
                for (int p = 0; p < k; p++) {
                    xs[i * k + p] = i >= m ? 0f : transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                }
            }
            if (transB) {
                int grain = dotGrain(k);
                if (Parallel.serial(pool, n, grain)) {
                    GemmDots.rows(GemmDots.ARRAY, b, null, bOff, ldb, xs, mp, m, k, 0, n, alpha, null, beta, c, cOff, ldc);
                } else {
                    Parallel.forRange(pool, n, grain, (j0, j1) -> GemmDots.rows(GemmDots.ARRAY, b, null, bOff, ldb,
                            xs, mp, m, k, j0, j1, alpha, null, beta, c, cOff, ldc));
                }
            } else {
                // Split n in whole vectors, at least 256 columns per task.
                int vecs = (n + L - 1) / L, grain = Math.max(1, 256 / L);
                if (Parallel.serial(pool, vecs, grain)) {
                    axpyColumns(xs, m, k, b, bOff, ldb, 0, n, alpha, beta, c, cOff, ldc);
                } else {
                    Parallel.forRange(pool, vecs, grain, (v0, v1) ->
                            axpyColumns(xs, m, k, b, bOff, ldb, v0 * L, Math.min(n, v1 * L), alpha, beta, c, cOff, ldc));
                }
            }
        } finally {
            owner.releaseShared(xs);
        }
    }

    /** y (m × n) = x (m × k) · Wᵀ + bias for 1 ≤ m ≤ MAX_M; arguments checked. */
    static void linear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, int k, WeightMatrix w,
            float[] bias, ForkJoinPool pool) {
        int n = w.rows(), mp = paddedRows(m);
        GemmScratch owner = GemmScratch.local();
        float[] xs = owner.takeShared(mp * k);
        try {
            for (int i = 0; i < m; i++) System.arraycopy(x, xOff + i * ldx, xs, i * k, k);
            java.util.Arrays.fill(xs, m * k, mp * k, 0f);
            int kind = GemmDots.kindOf(w), grain = dotGrain(k);
            long wOff = kind == GemmDots.ARRAY ? w.arrayOffset : w.byteOffset;
            if (Parallel.serial(pool, n, grain)) {
                GemmDots.rows(kind, w.array, w.segment, wOff, w.rowStride, xs, mp, m, k, 0, n, 1f, bias, 0f, y, yOff, ldy);
            } else {
                Parallel.forRange(pool, n, grain, (j0, j1) -> GemmDots.rows(kind, w.array, w.segment, wOff, w.rowStride,
                        xs, mp, m, k, j0, j1, 1f, bias, 0f, y, yOff, ldy));
            }
        } finally {
            owner.releaseShared(xs);
        }
    }

    /** Rows of B per task: about 64 K multiply-adds per row of A. */
    private static int dotGrain(int k) {
        return Math.max(16, 65536 / Math.max(1, k));
    }

    /** Columns of C per pass of the axpy path (its accumulators, m × AXPY_W floats, stay in L1). */
    static final int AXPY_W = 512;

    /**
     * C[0:m, j0:j1] for op(B) = B (k × n, row-major). B is read row after row in runs of up to
     * AXPY_W contiguous columns (prefetch-friendly, unlike a walk down a narrow column block, which
     * would jump a whole row of B at every step); the m × AXPY_W accumulators live in the L1-resident
     * tile, four rows of B at a time are folded into them with one load and one store per vector.
     * Element (i, j) is the FMA chain over p in order, whatever the chunking.
     */
    private static void axpyColumns(float[] xs, int m, int k, float[] b, int bOff, int ldb, int j0, int j1,
            float alpha, float beta, float[] c, int cOff, int ldc) {
        float[] acc = GemmScratch.local().tile;
        for (int jc = j0; jc < j1; jc += AXPY_W) {
            int w = Math.min(AXPY_W, j1 - jc), wv = w - w % L;
            java.util.Arrays.fill(acc, 0, m * AXPY_W, 0f);
            int p = 0;
            for (; p <= k - 4; p += 4) {
                int r0 = bOff + p * ldb + jc, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
                for (int i = 0; i < m; i++) {
                    int xi = i * k + p, ai = i * AXPY_W;
                    FloatVector x0 = FloatVector.broadcast(S, xs[xi]), x1 = FloatVector.broadcast(S, xs[xi + 1]);
                    FloatVector x2 = FloatVector.broadcast(S, xs[xi + 2]), x3 = FloatVector.broadcast(S, xs[xi + 3]);
                    int j = 0;
                    for (; j < wv; j += L) {
                        FloatVector a = FloatVector.fromArray(S, acc, ai + j);
                        a = x0.fma(FloatVector.fromArray(S, b, r0 + j), a);
                        a = x1.fma(FloatVector.fromArray(S, b, r1 + j), a);
                        a = x2.fma(FloatVector.fromArray(S, b, r2 + j), a);
                        a = x3.fma(FloatVector.fromArray(S, b, r3 + j), a);
                        a.intoArray(acc, ai + j);
                    }
                    if (j < w) {
                        VectorMask<Float> mask = S.indexInRange(j, w);
                        FloatVector a = FloatVector.fromArray(S, acc, ai + j);
                        a = x0.fma(FloatVector.fromArray(S, b, r0 + j, mask), a);
                        a = x1.fma(FloatVector.fromArray(S, b, r1 + j, mask), a);
                        a = x2.fma(FloatVector.fromArray(S, b, r2 + j, mask), a);
                        a = x3.fma(FloatVector.fromArray(S, b, r3 + j, mask), a);
                        a.intoArray(acc, ai + j);
                    }
                }
            }
            for (; p < k; p++) {
                int r0 = bOff + p * ldb + jc;
                for (int i = 0; i < m; i++) {
                    int ai = i * AXPY_W;
                    FloatVector x0 = FloatVector.broadcast(S, xs[i * k + p]);
                    for (int j = 0; j < w; j += L) {
                        VectorMask<Float> mask = S.indexInRange(j, w);
                        x0.fma(FloatVector.fromArray(S, b, r0 + j, mask), FloatVector.fromArray(S, acc, ai + j)).intoArray(acc, ai + j);
                    }
                }
            }
            GemmKernel.update(acc, AXPY_W, m, w, alpha, beta, c, cOff + jc, ldc);
        }
    }
}
