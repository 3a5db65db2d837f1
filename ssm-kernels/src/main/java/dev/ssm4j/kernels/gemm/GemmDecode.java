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
 * m rows of A (copied, zero-padded to mp ∈ {1, 4, 8} rows, into a small buffer that stays in L1) and
 * apply every loaded piece of B to all of them.
 *
 * <ul>
 *   <li>op(B) = Bᵀ with B n × k row-major (transB = true; every {@code Linear} weight): row j of B
 *       is contiguous, so C(i, j) is a dot product along k ({@link GemmDots}). Works on float[],
 *       f32 segments and bf16 segments.</li>
 *   <li>op(B) = B with B k × n row-major (transB = false): C's row i is Σ_p A(i, p)·B[p, :], an
 *       "axpy" along n; kernels hold an mp × (JB·L) block of C in registers and walk down k
 *       ({@link #axpy1}, {@link #axpy4}, {@link #axpy8}).</li>
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
                GemmDots.Source src = GemmDots.Source.array(b, bOff, ldb);
                Parallel.forRange(pool, n, dotGrain(k), (j0, j1) ->
                        GemmDots.rows(src, xs, mp, m, k, j0, j1, alpha, null, beta, c, cOff, ldc));
            } else {
                int width = (mp == 8 ? 2 : 4) * L;
                int blocks = (n + width - 1) / width;
                Parallel.forRange(pool, blocks, Math.max(1, 8192 / (width * k / L + 1)), (s0, s1) ->
                        axpyColumns(xs, mp, m, k, b, bOff, ldb, s0 * width, Math.min(n, s1 * width), width,
                                alpha, beta, c, cOff, ldc));
            }
        } finally {
            owner.releaseShared(xs);
        }
    }

    /** y (m × n) = x (m × k) · Wᵀ + bias for 1 ≤ m ≤ MAX_M; arguments checked. */
    static void linear(float[] y, int yOff, float[] x, int xOff, int m, int k, WeightMatrix w, float[] bias,
            ForkJoinPool pool) {
        int n = w.rows(), mp = paddedRows(m);
        GemmScratch owner = GemmScratch.local();
        float[] xs = owner.takeShared(mp * k);
        try {
            System.arraycopy(x, xOff, xs, 0, m * k);
            java.util.Arrays.fill(xs, m * k, mp * k, 0f);
            GemmDots.Source src = GemmDots.Source.of(w);
            Parallel.forRange(pool, n, dotGrain(k), (j0, j1) ->
                    GemmDots.rows(src, xs, mp, m, k, j0, j1, 1f, bias, 0f, y, yOff, n));
        } finally {
            owner.releaseShared(xs);
        }
    }

    /** Rows of B per task: about 64 K multiply-adds per row of A. */
    private static int dotGrain(int k) {
        return Math.max(16, 65536 / Math.max(1, k));
    }

    /** C[0:m, j0:j1] for op(B) = B (k × n): blocks of {@code width} columns, then a masked tail. */
    private static void axpyColumns(float[] xs, int mp, int m, int k, float[] b, int bOff, int ldb, int j0, int j1,
            int width, float alpha, float beta, float[] c, int cOff, int ldc) {
        float[] tile = GemmScratch.local().tile;
        int j = j0;
        for (; j + width <= j1; j += width) {
            if (mp == 1) axpy1(k, xs, b, bOff + j, ldb, tile);
            else if (mp == 4) axpy4(k, xs, b, bOff + j, ldb, tile);
            else axpy8(k, xs, b, bOff + j, ldb, tile);
            GemmKernel.update(tile, width, m, width, alpha, beta, c, cOff + j, ldc);
        }
        // Tail (< width columns): one masked vector at a time, row by row; same FMA chain per element.
        for (; j < j1; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, j1);
            for (int i = 0; i < m; i++) {
                FloatVector acc = FloatVector.zero(S);
                for (int p = 0; p < k; p++) {
                    acc = FloatVector.broadcast(S, xs[i * k + p]).fma(FloatVector.fromArray(S, b, bOff + p * ldb + j, mask), acc);
                }
                acc.intoArray(tile, i * L);
            }
            GemmKernel.update(tile, L, m, Math.min(L, j1 - j), alpha, beta, c, cOff + j, ldc);
        }
    }

    /** tile (1 × 4L) = xs[0, :] · B[:, 0:4L] (B at bOff, row stride ldb). */
    static void axpy1(int k, float[] xs, float[] b, int bOff, int ldb, float[] tile) {
        FloatVector z = FloatVector.zero(S), c0 = z, c1 = z, c2 = z, c3 = z;
        for (int p = 0; p < k; p++) {
            int bo = bOff + p * ldb;
            FloatVector x = FloatVector.broadcast(S, xs[p]);
            c0 = x.fma(FloatVector.fromArray(S, b, bo), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bo + L), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bo + 2 * L), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bo + 3 * L), c3);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
        c2.intoArray(tile, 2 * L);
        c3.intoArray(tile, 3 * L);
    }

    /** tile (4 × 4L, row stride 4L) = xs[0:4, :] · B[:, 0:4L]. */
    static void axpy4(int k, float[] xs, float[] b, int bOff, int ldb, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z,
                c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int p = 0; p < k; p++) {
            int bo = bOff + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L), b3 = FloatVector.fromArray(S, b, bo + 3 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, xs[p]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, xs[k + p]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, xs[2 * k + p]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, xs[3 * k + p]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        int w = 4 * L;
        c00.intoArray(tile, 0);     c01.intoArray(tile, L);         c02.intoArray(tile, 2 * L);         c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, w);     c11.intoArray(tile, w + L);     c12.intoArray(tile, w + 2 * L);     c13.intoArray(tile, w + 3 * L);
        c20.intoArray(tile, 2 * w); c21.intoArray(tile, 2 * w + L); c22.intoArray(tile, 2 * w + 2 * L); c23.intoArray(tile, 2 * w + 3 * L);
        c30.intoArray(tile, 3 * w); c31.intoArray(tile, 3 * w + L); c32.intoArray(tile, 3 * w + 2 * L); c33.intoArray(tile, 3 * w + 3 * L);
    }

    /** tile (8 × 2L, row stride 2L) = xs[0:8, :] · B[:, 0:2L]. */
    static void axpy8(int k, float[] xs, float[] b, int bOff, int ldb, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z,
                c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < k; p++) {
            int bo = bOff + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector x;
            x = FloatVector.broadcast(S, xs[p]);         c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, xs[k + p]);     c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, xs[2 * k + p]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, xs[3 * k + p]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, xs[4 * k + p]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, xs[5 * k + p]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, xs[6 * k + p]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, xs[7 * k + p]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        int w = 2 * L;
        c00.intoArray(tile, 0);     c01.intoArray(tile, L);
        c10.intoArray(tile, w);     c11.intoArray(tile, w + L);
        c20.intoArray(tile, 2 * w); c21.intoArray(tile, 2 * w + L);
        c30.intoArray(tile, 3 * w); c31.intoArray(tile, 3 * w + L);
        c40.intoArray(tile, 4 * w); c41.intoArray(tile, 4 * w + L);
        c50.intoArray(tile, 5 * w); c51.intoArray(tile, 5 * w + L);
        c60.intoArray(tile, 6 * w); c61.intoArray(tile, 6 * w + L);
        c70.intoArray(tile, 7 * w); c71.intoArray(tile, 7 * w + L);
    }
}
