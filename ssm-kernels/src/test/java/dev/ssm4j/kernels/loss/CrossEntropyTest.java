package dev.ssm4j.kernels.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    static final int IGN = CrossEntropy.IGNORE_INDEX;

    /** Double reference: mean over non-ignored rows (0 if none); per-row losses into rowLoss. */
    static double ref(double[] x, int off, int stride, int[] t, int rows, int vocab, double[] rowLoss) {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (t[r] == IGN) continue;
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int i = 0; i < vocab; i++) m = Math.max(m, x[off + r * stride + i]);
            for (int i = 0; i < vocab; i++) s += Math.exp(x[off + r * stride + i] - m);
            double loss = m + Math.log(s) - x[off + r * stride + t[r]];
            if (rowLoss != null) rowLoss[r] = loss;
            sum += loss;
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    static int[] targets(SplittableRandom rng, int rows, int vocab, boolean someIgnored) {
        int[] t = new int[rows];
        for (int r = 0; r < rows; r++) t[r] = someIgnored && r % 3 == 1 ? IGN : rng.nextInt(vocab);
        return t;
    }

    static double forward(boolean scalar, float[] rowLoss, float[] lse, float[] x, int off, int stride, int[] t, int rows, int vocab) {
        float[] losses = rowLoss;
        if (scalar) CrossEntropyScalar.forwardRows(losses, lse, x, off, stride, t, 0, vocab, IGN, 0, rows);
        else CrossEntropySimd.forwardRows(losses, lse, x, off, stride, t, 0, vocab, IGN, 0, rows);
        double s = 0;
        for (int r = 0; r < rows; r++) s += losses[r];
        int c = CrossEntropy.countTargets(t, 0, rows, IGN);
        return c == 0 ? 0 : s / c;
    }

    @Test
    void twinsMatchTheReferenceOnOddShapes() {
        SplittableRandom rng = new SplittableRandom(61);
        for (int rows : new int[] {1, 7, 37}) {
            for (int vocab : new int[] {1, 2, 17, 37, 100, 1000}) {
                for (boolean strided : new boolean[] {false, true}) {
                    int off = strided ? 5 : 0, stride = strided ? vocab + 3 : vocab;
                    float[] x = TestArrays.uniform(rng, off + rows * stride, -8, 8);
                    int[] t = targets(rng, rows, vocab, rows > 1);
                    double[] wantRows = new double[rows];
                    double want = ref(TestArrays.toDouble(x), off, stride, t, rows, vocab, wantRows);
                    String what = "rows=" + rows + " vocab=" + vocab + (strided ? " strided" : "");
                    float[][] lse = new float[2][rows], loss = new float[2][rows], d = new float[2][];
                    for (int k = 0; k < 2; k++) {
                        boolean scalar = k == 0;
                        double mean = forward(scalar, loss[k], lse[k], x, off, stride, t, rows, vocab);
                        assertEquals(want, mean, 1e-5 * (1 + Math.abs(want)), what);
                        TestArrays.assertClose("row loss " + what, wantRows, loss[k], 1e-5, 1e-5);
                        d[k] = new float[x.length];
                        float scale = 0.7f / CrossEntropy.countTargets(t, 0, rows, IGN);
                        if (scalar) CrossEntropyScalar.backwardRows(d[k], off, stride, x, off, stride, lse[k], t, 0, vocab, IGN, scale, 0, rows);
                        else CrossEntropySimd.backwardRows(d[k], off, stride, x, off, stride, lse[k], t, 0, vocab, IGN, scale, 0, rows);
                    }
                    TestArrays.assertClose("lse simd vs scalar " + what, lse[0], lse[1], 1e-5, 1e-6);
                    TestArrays.assertClose("dlogits simd vs scalar " + what, d[0], d[1], 1e-7, 1e-5);
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(62);
        for (boolean scalar : new boolean[] {true, false}) {
            int rows = 5, vocab = 37;
            float[] x = TestArrays.uniform(rng, rows * vocab, -4, 4);
            int[] t = {3, IGN, 36, 0, IGN};
            double dloss = 0.7;
            double[] fd = FiniteDifference.gradient(TestArrays.toDouble(x), 1e-6,
                    q -> dloss * ref(q, 0, vocab, t, rows, vocab, null));
            float[] lse = new float[rows], d = new float[x.length];
            Arrays.fill(d, 42f);                                          // written, not accumulated
            CrossEntropy.forward(null, lse, x, 0, vocab, t, 0, rows, vocab, IGN, null);
            if (scalar) CrossEntropyScalar.backwardRows(d, 0, vocab, x, 0, vocab, lse, t, 0, vocab, IGN, (float) dloss / 3, 0, rows);
            else CrossEntropy.backward(d, 0, vocab, x, 0, vocab, lse, t, 0, rows, vocab, IGN, (float) dloss, null);
            TestArrays.assertClose((scalar ? "scalar" : "simd") + " dlogits vs finite differences", fd, d, 1e-6, 1e-4);
        }
    }

    @Test
    void inPlaceBackwardRecomputedLseAndThreads() {
        SplittableRandom rng = new SplittableRandom(63);
        int rows = 40, vocab = 5003;
        float[] x = TestArrays.uniform(rng, rows * vocab, -10, 10);
        int[] t = targets(rng, rows, vocab, true);
        float[] lse = new float[rows], loss1 = new float[rows], loss2 = new float[rows];
        ForkJoinPool pool = Parallel.pool(2);
        try {
            double m1 = CrossEntropy.forward(loss1, lse, x, 0, vocab, t, 0, rows, vocab, IGN, null);
            double m2 = CrossEntropy.forward(loss2, null, x, 0, vocab, t, 0, rows, vocab, IGN, pool);
            assertEquals(m1, m2);
            assertArrayEquals(loss1, loss2);
            float[] d = new float[x.length], d2 = new float[x.length], xi = x.clone();
            CrossEntropy.backward(d, 0, vocab, x, 0, vocab, lse, t, 0, rows, vocab, IGN, 1f, null);
            CrossEntropy.backward(d2, 0, vocab, x, 0, vocab, null, t, 0, rows, vocab, IGN, 1f, pool);
            assertArrayEquals(d, d2);
            CrossEntropy.backward(xi, 0, vocab, xi, 0, vocab, lse, t, 0, rows, vocab, IGN, 1f, pool);   // in place
            assertArrayEquals(d, xi);
            double rowSum = 0;                                           // each kept row of dlogits sums to 0
            for (int i = 0; i < vocab; i++) rowSum += d[i];
            assertEquals(0, rowSum, 1e-6);
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void largeLogitsAndAHugeVocabStayFinite() {
        SplittableRandom rng = new SplittableRandom(64);
        int rows = 2, vocab = 50280;
        float[] x = TestArrays.uniform(rng, rows * vocab, -1, 1);
        for (int i = 0; i < x.length; i += 97) x[i] = 3000f;                // exp(3000) would overflow
        x[vocab + 11] = -5000f;                              // and one far below
        int[] t = {0, 50279};
        double want = ref(TestArrays.toDouble(x), 0, vocab, t, rows, vocab, null);
        double got = CrossEntropy.forward(null, null, x, 0, vocab, t, 0, rows, vocab, IGN, null);
        assertTrue(Double.isFinite(got));
        assertEquals(want, got, 1e-3 * want);
        float[] d = new float[x.length];
        CrossEntropy.backward(d, 0, vocab, x, 0, vocab, null, t, 0, rows, vocab, IGN, 1f, null);
        for (float v : d) assertTrue(Float.isFinite(v));
    }

    /**
     * The one-pass (online) log-sum-exp: a rising row makes every lane take a new maximum at every
     * step (the rescaling path each time), a falling row never does, −∞ logits (masked vocabulary
     * entries) must count as exp(−∞) = 0 and not turn into −∞ − (−∞) = NaN, and a row may be shorter
     * than one vector (the scalar tail alone).
     */
    @Test
    void onlineLogSumExpRescalesAndSkipsMinusInfinity() {
        for (int vocab : new int[] {5, 16, 37, 1000, 1003}) {
            int rows = 3;
            float[] x = new float[rows * vocab];
            for (int i = 0; i < vocab; i++) {
                x[i] = -20f + 40f * i / vocab;                             // rising
                x[vocab + i] = 20f - 40f * i / vocab;                      // falling
                x[2 * vocab + i] = i % 3 == 1 ? 0.5f * (i % 7) : Float.NEGATIVE_INFINITY;  // masked entries
            }
            int[] t = {vocab - 1, 0, 1};
            double[] wantRows = new double[rows];
            ref(TestArrays.toDouble(x), 0, vocab, t, rows, vocab, wantRows);
            for (boolean scalar : new boolean[] {true, false}) {
                float[] got = new float[rows], lse = new float[rows];
                forward(scalar, got, lse, x, 0, vocab, t, rows, vocab);
                for (int r = 0; r < rows; r++) {
                    assertTrue(Float.isFinite(lse[r]), "lse row " + r + " vocab " + vocab);
                    assertEquals(wantRows[r], got[r], 2e-5 * Math.max(1, Math.abs(wantRows[r])),
                            "row " + r + " vocab " + vocab + (scalar ? " scalar" : " simd"));
                }
            }
        }
    }

    @Test
    void allRowsIgnoredGivesZeroLossAndZeroGradient() {
        float[] x = {1, 2, 3, 4, 5, 6}, lse = new float[2], rowLoss = {9, 9};
        int[] t = {IGN, IGN};
        assertEquals(0.0, CrossEntropy.forward(rowLoss, lse, x, 0, 3, t, 0, 2, 3, IGN, null));
        assertArrayEquals(new float[] {0, 0}, rowLoss);
        float[] d = new float[6];
        Arrays.fill(d, 5f);
        CrossEntropy.backward(d, 0, 3, x, 0, 3, lse, t, 0, 2, 3, IGN, 1f, null);
        assertArrayEquals(new float[6], d);
        assertEquals(0.0, CrossEntropy.forward(null, null, new float[0], 0, 3, new int[0], 0, 0, 3, IGN, null));
    }

    @Test
    void badTargetsAndShapesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forward(null, null, new float[6], 0, 3, new int[] {0, 3}, 0, 2, 3, IGN, null));
        assertTrue(e.getMessage().contains("target 3 of row 1") && e.getMessage().contains("vocab size 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forward(null, null, new float[5], 0, 3, new int[] {0, 1}, 0, 2, 3, IGN, null));
        assertTrue(e.getMessage().startsWith("logits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.backward(new float[6], 0, 3, new float[6], 0, 3, new float[1], new int[] {0, 1}, 0, 2, 3, IGN, 1f, null));
        assertTrue(e.getMessage().startsWith("lse"), e.getMessage());
    }
}
