package dev.ssm4j.kernels.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** RMSNorm and gated group RMSNorm: SIMD vs scalar vs double reference, finite differences, in place, threads. */
class RmsNormTest {
    static final float EPS = 1e-5f;

    /** Double reference; z may be null. */
    static double[] ref(double[] x, double[] z, double[] w, int rows, int d, int gs, double eps) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < d / gs; g++) {
                double ss = 0;
                double[] u = new double[gs];
                for (int i = 0; i < gs; i++) {
                    int c = g * gs + i;
                    double zc = z == null ? 0 : z[r * d + c];
                    u[i] = x[r * d + c] * (z == null ? 1 : zc / (1 + Math.exp(-zc)));
                    ss += u[i] * u[i];
                }
                double rs = 1 / Math.sqrt(ss / gs + eps);
                for (int i = 0; i < gs; i++) y[r * d + g * gs + i] = u[i] * rs * w[g * gs + i];
            }
        }
        return y;
    }

    static int[] groupSizes(int d) {
        // d itself, 1, and the largest proper divisor ≤ d/2 (e.g. 100 → 50, 33 → 11, 17 → 1)
        int mid = 1;
        for (int g = d / 2; g >= 1; g--) if (d % g == 0) { mid = g; break; }
        return d == 1 ? new int[] {1} : new int[] {d, 1, mid};
    }

    /** One problem: strided x/z/y buffers (offset 1, stride d + 3) when {@code strided}. */
    record Case(int rows, int d, int gs, boolean gate, boolean strided, float[] x, float[] z, float[] w, float[] dy,
                int off, int stride) {
        static Case random(SplittableRandom rng, int rows, int d, int gs, boolean gate, boolean strided) {
            int off = strided ? 1 : 0, stride = strided ? d + 3 : d, n = off + Math.max(0, rows - 1) * stride + d + 2;
            return new Case(rows, d, gs, gate, strided, TestArrays.uniform(rng, n, -2, 2),
                    gate ? TestArrays.uniform(rng, n, -3, 3) : null, TestArrays.uniform(rng, d, 0.5, 1.5),
                    TestArrays.uniform(rng, n, -1, 1), off, stride);
        }

        float[][] forward(boolean scalar, boolean saveRstd, ForkJoinPool pool) {
            float[] y = new float[x.length], rstd = saveRstd ? new float[rows * (d / gs)] : null;
            if (scalar) RmsNormScalar.forward(y, off, stride, rstd, x, off, stride, z, off, stride, w, rows, d, gs, EPS);
            else RmsNormSimd.forward(y, off, stride, rstd, x, off, stride, z, off, stride, w, rows, d, gs, EPS, pool);
            return new float[][] {y, rstd};
        }

        /** {dx, dz, dweight}, starting from {@code start} (the backward accumulates). */
        float[][] backward(boolean scalar, float[] rstd, float[][] start, ForkJoinPool pool) {
            float[] dx = start[0].clone(), dz = gate ? start[1].clone() : null, dw = start[2].clone();
            if (scalar) RmsNormScalar.backward(dx, off, stride, dz, off, stride, dw, dy, off, stride, x, off, stride, z, off,
                    stride, rstd, w, rows, d, gs, EPS);
            else RmsNormSimdBackward.backward(dx, off, stride, dz, off, stride, dw, dy, off, stride, x, off, stride, z, off,
                    stride, rstd, w, rows, d, gs, EPS, pool);
            return new float[][] {dx, dz, dw};
        }

        String describe() {
            return "rows=" + rows + " d=" + d + " groupSize=" + gs + (gate ? " gated" : "") + (strided ? " strided" : "");
        }
    }

    @Test
    void simdMatchesScalarAndReference() {
        SplittableRandom rng = new SplittableRandom(31);
        for (int rows : new int[] {1, 7, 37}) for (int d : new int[] {1, 3, 17, 33, 100}) for (int gs : groupSizes(d)) {
            for (int o = 0; o < 4; o++) {
                Case k = Case.random(rng, rows, d, gs, (o & 1) != 0, (o & 2) != 0);
                String what = k.describe();
                float[][] s = k.forward(true, true, null), v = k.forward(false, (rows & 1) == 1, null);
                TestArrays.assertClose("y " + what, s[0], v[0], 1e-5, 1e-5);
                float[] xc = gather(k.x, k), zc = k.gate ? gather(k.z, k) : null;
                double[] want = ref(TestArrays.toDouble(xc), zc == null ? null : TestArrays.toDouble(zc),
                        TestArrays.toDouble(k.w), rows, d, gs, EPS);
                TestArrays.assertClose("scalar y vs reference " + what, want, gather(s[0], k), 1e-5, 1e-4);
                float[][] start = {TestArrays.uniform(rng, k.x.length, -1, 1), TestArrays.uniform(rng, k.x.length, -1, 1),
                        TestArrays.uniform(rng, d, -1, 1)};
                float[][] gs1 = k.backward(true, s[1], start, null);
                float[][] gv = k.backward(false, (o & 2) == 0 ? s[1] : null, start, null);  // also: rstd recomputed
                TestArrays.assertClose("dx " + what, gs1[0], gv[0], 1e-5, 1e-4);
                if (k.gate) TestArrays.assertClose("dz " + what, gs1[1], gv[1], 1e-5, 1e-4);
                TestArrays.assertClose("dweight " + what, gs1[2], gv[2], 1e-4, 1e-4);
            }
        }
    }

    private static float[] gather(float[] a, Case k) {
        float[] out = new float[k.rows * k.d];
        for (int r = 0; r < k.rows; r++) System.arraycopy(a, k.off + r * k.stride, out, r * k.d, k.d);
        return out;
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(32);
        for (boolean scalar : new boolean[] {true, false}) {
            for (int gs : new int[] {12, 4, 3, 1}) {
                for (boolean gate : new boolean[] {false, true}) {
                    int rows = 3, d = 12;
                    Case k = Case.random(rng, rows, d, gs, gate, false);
                    int n = rows * d;
                    double[] p = new double[2 * n + d];                      // [x | z | weight]
                    for (int i = 0; i < n; i++) p[i] = k.x[i];
                    if (gate) for (int i = 0; i < n; i++) p[n + i] = k.z[i];
                    for (int i = 0; i < d; i++) p[2 * n + i] = k.w[i];
                    double[] dy = TestArrays.toDouble(Arrays.copyOf(k.dy, n));
                    double[] fd = FiniteDifference.gradient(p, 1e-5, q -> FiniteDifference.dot(dy,
                            ref(Arrays.copyOfRange(q, 0, n), gate ? Arrays.copyOfRange(q, n, 2 * n) : null,
                                    Arrays.copyOfRange(q, 2 * n, 2 * n + d), rows, d, gs, EPS)));
                    float[] rstd = k.forward(scalar, true, null)[1];
                    float[][] g = k.backward(scalar, rstd, new float[][] {new float[k.x.length], new float[k.x.length],
                            new float[d]}, null);
                    String what = (scalar ? "scalar " : "simd ") + k.describe();
                    TestArrays.assertClose("dx " + what, Arrays.copyOfRange(fd, 0, n), Arrays.copyOf(g[0], n), 1e-3, 1e-3);
                    if (gate) TestArrays.assertClose("dz " + what, Arrays.copyOfRange(fd, n, 2 * n), Arrays.copyOf(g[1], n), 1e-3, 1e-3);
                    TestArrays.assertClose("dweight " + what, Arrays.copyOfRange(fd, 2 * n, p.length), g[2], 1e-3, 1e-3);
                }
            }
        }
    }

    @Test
    void inPlaceForwardAndPublicEntryPoints() {
        SplittableRandom rng = new SplittableRandom(33);
        int rows = 5, d = 40;
        float[] x = TestArrays.uniform(rng, rows * d, -1, 1), z = TestArrays.uniform(rng, rows * d, -1, 1);
        float[] w = TestArrays.uniform(rng, d, 0.5, 1.5);
        float[] y = new float[rows * d], rstd = new float[rows];
        RmsNorm.forward(y, 0, d, rstd, x, 0, d, w, rows, d, EPS, null);
        float[] xi = x.clone();
        RmsNorm.forward(xi, 0, d, null, xi, 0, d, w, rows, d, EPS, null);
        assertArrayEquals(y, xi);
        float[] yg = new float[rows * d], zi = z.clone();
        GatedRmsNorm.forward(yg, 0, d, null, x, 0, d, z, 0, d, w, rows, d, 8, EPS, null);
        GatedRmsNorm.forward(zi, 0, d, null, x, 0, d, zi, 0, d, w, rows, d, 8, EPS, null);   // y = z in place
        assertArrayEquals(yg, zi);
        float[] dx1 = new float[rows * d], dx2 = new float[rows * d], dw1 = new float[d], dw2 = new float[d];
        float[] dy = TestArrays.uniform(rng, rows * d, -1, 1);
        RmsNorm.backward(dx1, 0, d, dw1, dy, 0, d, x, 0, d, rstd, w, rows, d, EPS, null);
        RmsNorm.backward(dx2, 0, d, dw2, dy, 0, d, x, 0, d, null, w, rows, d, EPS, null);  // rstd recomputed
        TestArrays.assertClose("dx with recomputed rstd", dx1, dx2, 1e-6, 1e-5);
        TestArrays.assertClose("dweight with recomputed rstd", dw1, dw2, 1e-6, 1e-5);
    }

    @Test
    void twoThreadsAgreeWithOne() {
        SplittableRandom rng = new SplittableRandom(34);
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (boolean gate : new boolean[] {false, true}) {
                Case k = Case.random(rng, 130, 512, 128, gate, true);   // rows·d just above 2 parallel grains
                float[][] one = k.forward(false, true, null), two = k.forward(false, true, pool);
                assertArrayEquals(one[0], two[0]);
                assertArrayEquals(one[1], two[1]);
                float[][] start = {new float[k.x.length], new float[k.x.length], new float[k.d]};
                float[][] g1 = k.backward(false, one[1], start, null), g2 = k.backward(false, one[1], start, pool);
                assertArrayEquals(g1[0], g2[0]);
                if (gate) assertArrayEquals(g1[1], g2[1]);
                TestArrays.assertClose("dweight, 2 threads " + k.describe(), g1[2], g2[2], 1e-5, 1e-5);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badArgumentsAreNamed() {
        float[] a = new float[24], w = new float[8];
        assertMessage("groupSize", () -> GatedRmsNorm.forward(a, 0, 8, null, a, 0, 8, null, 0, 8, w, 3, 8, 3, EPS, null));
        assertMessage("weight", () -> RmsNorm.forward(new float[24], 0, 8, null, a, 0, 8, new float[7], 3, 8, EPS, null));
        assertMessage("rstd", () -> RmsNorm.forward(new float[24], 0, 8, new float[2], a, 0, 8, w, 3, 8, EPS, null));
        assertMessage("x", () -> RmsNorm.forward(new float[24], 0, 8, null, new float[23], 0, 8, w, 3, 8, EPS, null));
        assertMessage("z", () -> GatedRmsNorm.backward(null, 0, 0, new float[24], 0, 8, null, a, 0, 8, a, 0, 8, null, 0, 0,
                null, w, 3, 8, 8, EPS, null));
    }

    private static void assertMessage(String word, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(word), "message should name '" + word + "': " + ex.getMessage());
    }
}
