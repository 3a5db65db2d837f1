package dev.ssm4j.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * sgemm: SIMD and scalar against a naive triple loop in double, on odd shapes, every transpose,
 * α/β ≠ 1/0, offsets and leading dimensions above the minimum, β = 0 over NaN; batched; threads.
 *
 * <p>Accuracy criterion: |got − exact| ≤ 2·(k + 2)·u·(|α|·Σ_p |A(i,p)·B(p,j)| + |β·C(i,j)|) with
 * u = 2⁻²⁴, the classic worst-case bound for a float dot product of length k (any summation order),
 * doubled for headroom. Elements of the arrays outside the addressed matrices hold a sentinel that
 * must survive.
 */
class GemmTest {
    static final int[] DIMS = {1, 2, 3, 7, 17, 33, 65, 129};
    static final float SENTINEL = -7777.25f;
    static ForkJoinPool pool2, pool3;

    @BeforeAll
    static void pools() {
        pool2 = new ForkJoinPool(2);
        pool3 = new ForkJoinPool(3);
    }

    @AfterAll
    static void closePools() {
        pool2.shutdownNow();
        pool3.shutdownNow();
    }

    /** One sgemm problem with padded storage. */
    static final class Problem {
        final boolean ta, tb;
        final int m, n, k, aOff, lda, bOff, ldb, cOff, ldc;
        final float alpha, beta;
        final float[] a, b, c0;

        Problem(SplittableRandom rng, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, boolean nanC) {
            this.ta = ta;
            this.tb = tb;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
            aOff = rng.nextInt(4);
            lda = Math.max(1, ac) + rng.nextInt(3);
            bOff = rng.nextInt(4);
            ldb = Math.max(1, bc) + rng.nextInt(3);
            cOff = rng.nextInt(4);
            ldc = Math.max(1, n) + rng.nextInt(3);
            a = filled(rng, aOff, lda, ar, ac);
            b = filled(rng, bOff, ldb, br, bc);
            c0 = filled(rng, cOff, ldc, m, n);
            if (nanC) {
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c0[cOff + i * ldc + j] = Float.NaN;
            }
        }

        static float[] filled(SplittableRandom rng, int off, int ld, int rows, int cols) {
            float[] x = new float[off + Math.max(0, rows - 1) * ld + cols + rng.nextInt(3)];
            java.util.Arrays.fill(x, SENTINEL);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) x[off + r * ld + j] = (float) (2 * rng.nextDouble() - 1);
            }
            return x;
        }

        float opA(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float opB(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        float[] runSimd(ForkJoinPool pool) {
            float[] c = c0.clone();
            GemmSimd.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, pool);
            return c;
        }

        float[] runScalar() {
            float[] c = c0.clone();
            GemmScalar.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return c;
        }

        /** Checks c against the double-precision product and that nothing outside C changed. */
        void check(String what, float[] c) {
            double u = Math.ulp(1f) / 2;
            for (int idx = 0; idx < c.length; idx++) {
                int rel = idx - cOff;
                int i = rel < 0 ? -1 : rel / ldc, j = rel < 0 ? -1 : rel % ldc;
                if (i < 0 || i >= m || j >= n) {
                    if (Float.floatToIntBits(c[idx]) != Float.floatToIntBits(c0[idx])) {
                        fail(what + ": wrote outside C at index " + idx + " (" + c0[idx] + " -> " + c[idx] + ")");
                    }
                    continue;
                }
                double exact = 0, abs = 0;
                for (int p = 0; p < k && alpha != 0; p++) {
                    double t = (double) opA(i, p) * opB(p, j);
                    exact += t;
                    abs += Math.abs(t);
                }
                exact *= alpha;
                abs *= Math.abs(alpha);
                if (beta != 0) {
                    exact += (double) beta * c0[idx];
                    abs += Math.abs((double) beta * c0[idx]);
                }
                double bound = 2 * (k + 2) * u * abs + 1e-30;
                if (!(Math.abs(c[idx] - exact) <= bound)) {
                    fail(String.format("%s: C(%d,%d) = %.9g, exact %.9g, |err| %.3g > bound %.3g", what, i, j, c[idx],
                            exact, Math.abs(c[idx] - exact), bound));
                }
            }
        }

        @Override
        public String toString() {
            return (ta ? "T" : "N") + (tb ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha + " beta="
                    + beta + " offs=" + aOff + "/" + bOff + "/" + cOff + " ld=" + lda + "/" + ldb + "/" + ldc;
        }
    }

    static List<int[]> shapes(SplittableRandom rng, int count) {
        List<int[]> s = new ArrayList<>();
        for (int d : DIMS) s.add(new int[] {d, d, d});
        s.add(new int[] {1, 129, 65});
        s.add(new int[] {129, 1, 65});
        s.add(new int[] {65, 129, 1});
        s.add(new int[] {8, 33, 17});
        s.add(new int[] {9, 33, 17});
        while (s.size() < count) {
            s.add(new int[] {DIMS[rng.nextInt(DIMS.length)], DIMS[rng.nextInt(DIMS.length)], DIMS[rng.nextInt(DIMS.length)]});
        }
        return s;
    }

    @Test
    void simdAndScalarMatchDoubleOnOddShapesAllTransposes() {
        SplittableRandom rng = new SplittableRandom(1);
        float[][] ab = {{1f, 0f}, {0.75f, -0.5f}, {-1.5f, 1f}, {2f, 0.25f}};
        int cases = 0;
        for (int[] s : shapes(rng, 40)) {
            for (int t = 0; t < 4; t++) {
                float[] coef = ab[rng.nextInt(ab.length)];
                Problem pr = new Problem(rng, (t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], coef[0], coef[1], false);
                pr.check("simd " + pr, pr.runSimd(null));
                pr.check("scalar " + pr, pr.runScalar());
                cases++;
            }
        }
        assertTrue(cases >= 160);
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int[] s : new int[][] {{1, 17, 33}, {5, 65, 7}, {33, 17, 65}, {129, 65, 3}}) {
            for (int t = 0; t < 4; t++) {
                Problem pr = new Problem(rng, (t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 1.25f, 0f, true);
                pr.check("simd " + pr, pr.runSimd(null));
                pr.check("scalar " + pr, pr.runScalar());
            }
        }
    }

    @Test
    void alphaZeroOrEmptyKScalesC() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int k : new int[] {0, 5}) {
            for (float beta : new float[] {0f, 1f, -2f}) {
                Problem pr = new Problem(rng, false, true, 9, 11, k, k == 0 ? 1f : 0f, beta, false);
                // A may hold NaN when α = 0: it must not be read.
                if (k > 0) java.util.Arrays.fill(pr.a, Float.NaN);
                pr.check("simd " + pr, pr.runSimd(null));
                pr.check("scalar " + pr, pr.runScalar());
            }
        }
        // m = 0 or n = 0: nothing happens (C untouched).
        float[] c = {1, 2, 3};
        GemmSimd.sgemm(false, false, 0, 3, 4, 1f, new float[0], 0, 4, new float[12], 0, 3, 0f, c, 0, 3, null);
        assertArrayEquals(new float[] {1, 2, 3}, c);
    }

    @Test
    void crossesEveryBlockBoundary() {
        // k > KC, m > MC, n > NC, and sizes that leave edge slivers in every direction.
        SplittableRandom rng = new SplittableRandom(4);
        int[][] shapes = {
            {GemmPacked.MC + 9, 2 * GemmKernel.NR + 5, GemmPacked.KC + 37},
            {GemmDecode.MAX_M + 1, GemmPacked.NC + 29, 19},
            {2 * GemmPacked.MC + 3, 31, 2 * GemmPacked.KC + 1},
        };
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                Problem pr = new Problem(rng, (t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0.5f, 1.5f, false);
                float[] simd = pr.runSimd(null);
                pr.check("simd " + pr, simd);
                assertArrayEquals(simd, pr.runSimd(pool3), "threads 3 vs 1: " + pr);
            }
        }
    }

    /** Multithreaded results are bitwise identical to single-threaded ones (packed and decode paths). */
    @Test
    void threadsGiveBitwiseIdenticalResults() {
        SplittableRandom rng = new SplittableRandom(5);
        int[][] shapes = {{129, 129, 65}, {65, 257, 129}, {17, 1000, 300}, {1, 3001, 129}, {3, 1031, 257}, {8, 515, 300},
            {5, 2000, 77}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                Problem pr = new Problem(rng, (t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0.75f, -0.5f, false);
                float[] one = pr.runSimd(null);
                pr.check("simd " + pr, one);
                assertArrayEquals(one, pr.runSimd(pool2), "threads 2 vs 1: " + pr);
                assertArrayEquals(one, pr.runSimd(pool3), "threads 3 vs 1: " + pr);
            }
        }
    }

    @Test
    void decodePathRowsOneToNine() {
        SplittableRandom rng = new SplittableRandom(6);
        for (int m = 1; m <= 9; m++) {
            for (int t = 0; t < 4; t++) {
                Problem pr = new Problem(rng, (t & 1) != 0, (t & 2) != 0, m, 67 + 16 * m, 45 + m, 1f, m % 2 == 0 ? 0f : 0.5f, false);
                pr.check("simd " + pr, pr.runSimd(null));
            }
        }
    }

    @Test
    void dispatcherMatchesSimd() {
        SplittableRandom rng = new SplittableRandom(7);
        Problem pr = new Problem(rng, false, true, 33, 17, 65, 1f, 0f, false);
        float[] c = pr.c0.clone();
        Gemm.sgemm(false, true, pr.m, pr.n, pr.k, 1f, pr.a, pr.aOff, pr.lda, pr.b, pr.bOff, pr.ldb, 0f, c, pr.cOff, pr.ldc, null);
        float[] expected = dev.ssm4j.kernels.KernelConfig.FORCE_SCALAR ? pr.runScalar() : pr.runSimd(null);
        assertArrayEquals(expected, c);
    }

    /**
     * Both micro-kernels directly (only one of them is selected by the tile setting of this JVM):
     * rows of A through row offsets, packed B with row stride NR; the 3 × 3 kernel fills the first
     * 3 vectors of each tile row. (The 5 × 4 kernel needs NR = 4 vectors, so under the 3x3 tile
     * setting only the 3 × 3 kernel can be called.)
     */
    @Test
    void bothMicroKernelsMatchDouble() {
        SplittableRandom rng = new SplittableRandom(16);
        int l = GemmKernel.L, nr = GemmKernel.NR, kc = 37, lda = 41;
        float[] a = TestArrays.uniform(rng, 3 + 6 * lda, -1, 1);
        float[] bp = TestArrays.uniform(rng, 5 + kc * nr, -1, 1);
        int[] rows = {3, 3 + 2 * lda, 3 + lda, 3 + 5 * lda, 3 + 4 * lda};
        for (int variant = GemmKernel.NV == 4 ? 0 : 1; variant < 2; variant++) {
            float[] tile = new float[5 * nr];
            int mr = variant == 0 ? 5 : 3, width = variant == 0 ? 4 * l : 3 * l;
            if (variant == 0) GemmKernel.kernel5x4(kc, a, rows[0], rows[1], rows[2], rows[3], rows[4], bp, 5, tile);
            else GemmKernel.kernel3x3(kc, a, rows[0], rows[1], rows[2], bp, 5, tile);
            for (int r = 0; r < mr; r++) {
                for (int j = 0; j < Math.min(width, nr); j++) {
                    double exact = 0, abs = 0;
                    for (int p = 0; p < kc; p++) {
                        double t = (double) a[rows[r] + p] * bp[5 + p * nr + j];
                        exact += t;
                        abs += Math.abs(t);
                    }
                    double bound = 2 * (kc + 2) * Math.ulp(1f) / 2 * abs;
                    assertTrue(Math.abs(tile[r * nr + j] - exact) <= bound,
                            "kernel " + (variant == 0 ? "5x4" : "3x3") + " (" + r + "," + j + "): " + tile[r * nr + j] + " vs " + exact);
                }
            }
        }
    }

    /** The decode path's transposing lane-sum tree equals the scalar pairwise tree bit for bit. */
    @Test
    void laneSumTreeMatchesPairwiseOrder() {
        SplittableRandom rng = new SplittableRandom(10);
        int l = GemmKernel.L;
        for (int rep = 0; rep < 20; rep++) {
            float[] part = TestArrays.uniform(rng, 3 + l * l, -1000, 1000);
            float[] sums = new float[l], tmp = new float[Math.max(l, l * l / 2)];
            GemmDots.reduce(part, 3, sums, tmp);
            for (int r = 0; r < l; r++) {
                float[] lanes = java.util.Arrays.copyOfRange(part, 3 + r * l, 3 + (r + 1) * l);
                for (int w = l / 2; w >= 1; w >>= 1) for (int i = 0; i < w; i++) lanes[i] += lanes[i + w];
                assertEquals(Float.floatToIntBits(lanes[0]), Float.floatToIntBits(sums[r]), "row " + r);
            }
        }
    }

    // ---- batched -----------------------------------------------------------------------------------

    @Test
    void batchedMatchesOneProductAtATime() {
        SplittableRandom rng = new SplittableRandom(8);
        int[][] shapes = {{17, 33, 7}, {64, 64, 64}, {3, 17, 65}, {65, 16, 33}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2], batch = 5;
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
                int sa = (ta ? k : m) * lda + 3, sb = t == 3 ? 0 : (tb ? n : k) * ldb + 1, sc = m * ldc + 2;
                float[] a = TestArrays.uniform(rng, 2 + batch * sa, -1, 1);
                float[] b = TestArrays.uniform(rng, 1 + Math.max(1, batch * sb) + (tb ? n : k) * ldb, -1, 1);
                float[] c0 = TestArrays.uniform(rng, 3 + batch * sc, -1, 1);
                float[] expected = c0.clone();
                for (int q = 0; q < batch; q++) {
                    GemmScalar.sgemm(ta, tb, m, n, k, 0.5f, a, 2 + q * sa, lda, b, 1 + q * sb, ldb, 2f, expected, 3 + q * sc, ldc);
                }
                float[] scalar = c0.clone();
                GemmScalar.sgemmBatched(ta, tb, m, n, k, 0.5f, a, 2, lda, sa, b, 1, ldb, sb, 2f, scalar, 3, ldc, sc, batch);
                assertArrayEquals(expected, scalar);
                float[] one = c0.clone();
                GemmSimd.sgemmBatched(ta, tb, m, n, k, 0.5f, a, 2, lda, sa, b, 1, ldb, sb, 2f, one, 3, ldc, sc, batch, null);
                TestArrays.assertClose("batched simd " + m + "x" + n + "x" + k + " t=" + t, expected, one, 1e-5, 1e-5);
                for (ForkJoinPool pool : new ForkJoinPool[] {pool2, pool3}) {
                    float[] par = c0.clone();
                    GemmSimd.sgemmBatched(ta, tb, m, n, k, 0.5f, a, 2, lda, sa, b, 1, ldb, sb, 2f, par, 3, ldc, sc, batch, pool);
                    assertArrayEquals(one, par, "batched threads vs 1");
                }
            }
        }
    }

    @Test
    void batchedInterleavedHeads() {
        // C is (tokens × heads·dim): head h writes columns [h·dim, (h+1)·dim) — strideC = dim, ldc = heads·dim.
        SplittableRandom rng = new SplittableRandom(9);
        int tokens = 37, heads = 3, dim = 20, k = 24;
        float[] a = TestArrays.uniform(rng, heads * tokens * k, -1, 1);
        float[] b = TestArrays.uniform(rng, heads * k * dim, -1, 1);
        float[] c = new float[tokens * heads * dim];
        float[] expected = new float[c.length];
        for (int h = 0; h < heads; h++) {
            GemmScalar.sgemm(false, false, tokens, dim, k, 1f, a, h * tokens * k, k, b, h * k * dim, dim, 0f, expected, h * dim, heads * dim);
        }
        Gemm.sgemmBatched(false, false, tokens, dim, k, 1f, a, 0, k, tokens * k, b, 0, dim, k * dim, 0f, c, 0, heads * dim, dim, heads, pool2);
        TestArrays.assertClose("interleaved heads", expected, c, 1e-5, 1e-5);
    }

    // ---- argument checks -----------------------------------------------------------------------------

    private static void assertIae(String mustContain, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(mustContain), "message '" + e.getMessage() + "' should mention '" + mustContain + "'");
    }

    @Test
    void badArgumentsAreNamed() {
        float[] a = new float[6 * 4], b = new float[4 * 5], c = new float[6 * 5];
        assertIae("m must be >= 0", () -> GemmSimd.sgemm(false, false, -1, 5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 5, null));
        assertIae("n must be >= 0", () -> GemmScalar.sgemm(false, false, 6, -5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 5));
        assertIae("k must be >= 0", () -> Gemm.sgemm(false, false, 6, 5, -4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 5, null));
        assertIae("lda must be >= 4", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 0, 3, b, 0, 5, 0, c, 0, 5, null));
        assertIae("lda must be >= 6", () -> GemmSimd.sgemm(true, false, 6, 5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 5, null));
        assertIae("ldb must be >= 5", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 0, 4, b, 0, 4, 0, c, 0, 5, null));
        assertIae("ldb must be >= 4", () -> GemmSimd.sgemm(false, true, 6, 5, 4, 1, a, 0, 4, b, 0, 3, 0, c, 0, 5, null));
        assertIae("ldc must be >= 5", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 4, null));
        assertIae("need a.length >= 25", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 1, 4, b, 0, 5, 0, c, 0, 5, null));
        assertIae("need b.length >= 23", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 0, 4, b, 0, 6, 0, c, 0, 5, null));
        assertIae("need c.length >= 31", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 1, 5, null));
        assertIae("aOff must be >= 0", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, a, -1, 4, b, 0, 5, 0, c, 0, 5, null));
        assertIae("a is null", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, null, 0, 4, b, 0, 5, 0, c, 0, 5, null));
        float[] shared = new float[100];
        assertIae("overlap", () -> GemmSimd.sgemm(false, false, 6, 5, 4, 1, shared, 0, 4, b, 0, 5, 0, shared, 20, 5, null));
        // Disjoint parts of one array are fine.
        GemmSimd.sgemm(false, false, 6, 5, 4, 1, shared, 0, 4, b, 0, 5, 0, shared, 24, 5, null);
        assertIae("strideC=5", () -> GemmSimd.sgemmBatched(false, false, 6, 5, 4, 1, a, 0, 4, 0, b, 0, 5, 0, 0, new float[100], 0, 5, 5, 2, null));
        assertIae("strideA must be >= 0", () -> GemmSimd.sgemmBatched(false, false, 6, 5, 4, 1, a, 0, 4, -1, b, 0, 5, 0, 0, new float[100], 0, 5, 30, 2, null));
        assertIae("need a.length >= 48", () -> GemmSimd.sgemmBatched(false, false, 6, 5, 4, 1, a, 0, 4, 24, b, 0, 5, 0, 0, new float[100], 0, 5, 30, 2, null));
        assertIae("batch must be >= 0", () -> GemmScalar.sgemmBatched(false, false, 6, 5, 4, 1, a, 0, 4, 0, b, 0, 5, 0, 0, c, 0, 5, 30, -1));
    }
}
