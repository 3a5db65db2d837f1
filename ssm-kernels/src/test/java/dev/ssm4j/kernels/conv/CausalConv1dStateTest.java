package dev.ssm4j.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Decoding steps, chunked continuation (forward and backward), packed sequences, bad arguments. */
class CausalConv1dStateTest {

    private static void fwd(boolean scalar, float[] y, int yOff, int yStride, float[] fin, int finOff, float[] x, int xOff,
                            int xStride, float[] init, int initOff, int[] cu, float[] wt, float[] bias, boolean silu,
                            int b, int l, int d, int w) {
        if (scalar) CausalConv1dScalar.forward(y, yOff, yStride, fin, finOff, x, xOff, xStride, init, initOff, cu, wt, bias, silu, b, l, d, w);
        else CausalConv1dSimd.forward(y, yOff, yStride, fin, finOff, x, xOff, xStride, init, initOff, cu, wt, bias, silu, b, l, d, w, null);
    }

    @Test
    void stepsReproduceTheForward() {
        SplittableRandom rng = new SplittableRandom(21);
        for (boolean scalar : new boolean[] {true, false}) {
            for (int w : new int[] {2, 3, 4, 8}) {
                for (int d : new int[] {1, 3, 17, 33, 100}) {
                    int b = 2, l = 9, stride = d + 4;                         // x rows are slices of a wider row
                    float[] x = TestArrays.uniform(rng, b * l * stride, -1, 1);
                    float[] init = TestArrays.uniform(rng, b * (w - 1) * d, -1, 1);
                    float[] wt = TestArrays.uniform(rng, d * w, -1, 1), bias = TestArrays.uniform(rng, d, -1, 1);
                    boolean silu = d % 2 == 1;
                    float[] y = new float[b * l * d], fin = new float[init.length];
                    fwd(scalar, y, 0, d, fin, 0, x, 1, stride, init, 0, null, wt, bias, silu, b, l, d, w);
                    float[] state = init.clone(), ys = new float[b * d];
                    for (int t = 0; t < l; t++) {
                        // rows bi of step t: x row (bi·l + t) → a (b, d) view with row stride l·stride
                        if (scalar) CausalConv1dScalar.step(ys, 0, d, state, 0, x, 1 + t * stride, l * stride, wt, bias, silu, b, d, w);
                        else CausalConv1dSimd.step(ys, 0, d, state, 0, x, 1 + t * stride, l * stride, wt, bias, silu, b, d, w);
                        for (int bi = 0; bi < b; bi++) {
                            float[] want = Arrays.copyOfRange(y, (bi * l + t) * d, (bi * l + t + 1) * d);
                            TestArrays.assertClose("step t=" + t + " w=" + w + " d=" + d, want,
                                    Arrays.copyOfRange(ys, bi * d, (bi + 1) * d), 1e-6, 1e-5);
                        }
                    }
                    assertArrayEquals(fin, state, "state after l steps = final state (w=" + w + ", d=" + d + ")");
                }
            }
        }
    }

    @Test
    void stepMayRunInPlaceOnItsInput() {
        SplittableRandom rng = new SplittableRandom(22);
        int b = 2, d = 33, w = 4;
        float[] x = TestArrays.uniform(rng, b * d, -1, 1), wt = TestArrays.uniform(rng, d * w, -1, 1);
        float[] s1 = TestArrays.uniform(rng, b * (w - 1) * d, -1, 1), s2 = s1.clone(), y = new float[b * d];
        CausalConv1d.step(y, 0, d, s1, 0, x, 0, d, wt, null, true, b, d, w);
        float[] xy = x.clone();
        CausalConv1d.step(xy, 0, d, s2, 0, xy, 0, d, wt, null, true, b, d, w);
        assertArrayEquals(y, xy);
        assertArrayEquals(s1, s2);
    }

    @Test
    void chunksWithACarriedStateEqualOneConv() {
        SplittableRandom rng = new SplittableRandom(23);
        for (boolean scalar : new boolean[] {true, false}) {
            for (int w : new int[] {2, 4, 8}) {
                int b = 2, l = 37, d = 17;
                float[] x = TestArrays.uniform(rng, b * l * d, -1, 1), wt = TestArrays.uniform(rng, d * w, -1, 1);
                float[] bias = TestArrays.uniform(rng, d, -1, 1), init = TestArrays.uniform(rng, b * (w - 1) * d, -1, 1);
                float[] y = new float[b * l * d], fin = new float[init.length];
                fwd(scalar, y, 0, d, fin, 0, x, 0, d, init, 0, null, wt, bias, true, b, l, d, w);
                // chunks [0,k1), [k1,k2), [k2,l), including chunks shorter than w−1; the state is updated in place
                int[] cuts = {0, 2, 3, 20, l};
                float[] state = init.clone();
                for (int i = 0; i + 1 < cuts.length; i++) {
                    int k0 = cuts[i], n = cuts[i + 1] - k0;
                    float[] yc = new float[b * n * d];
                    for (int bi = 0; bi < b; bi++) {   // one row at a time: rows of a chunk are not contiguous in x
                        float[] yr = new float[n * d];
                        fwd(scalar, yr, 0, d, state, bi * (w - 1) * d, x, (bi * l + k0) * d, d, state, bi * (w - 1) * d,
                                null, wt, bias, true, 1, n, d, w);
                        System.arraycopy(yr, 0, yc, bi * n * d, n * d);
                        float[] want = Arrays.copyOfRange(y, (bi * l + k0) * d, (bi * l + k0 + n) * d);
                        assertArrayEquals(want, yr, "chunk " + i + " row " + bi + " w=" + w);
                    }
                }
                assertArrayEquals(fin, state, "final state w=" + w);
            }
        }
    }

    @Test
    void chunkedBackwardEqualsOneBackward() {
        SplittableRandom rng = new SplittableRandom(24);
        for (boolean scalar : new boolean[] {true, false}) {
            for (int w : new int[] {2, 4, 8}) {
                int l = 23, d = 19;
                float[] x = TestArrays.uniform(rng, l * d, -1, 1), wt = TestArrays.uniform(rng, d * w, -1, 1);
                float[] bias = TestArrays.uniform(rng, d, -1, 1), init = TestArrays.uniform(rng, (w - 1) * d, -1, 1);
                float[] dy = TestArrays.uniform(rng, l * d, -1, 1), dFin = TestArrays.uniform(rng, (w - 1) * d, -1, 1);
                float[] dx = new float[l * d], dInit = new float[(w - 1) * d], dw = new float[d * w], db = new float[d];
                bwd(scalar, dx, 0, dInit, dw, db, dy, 0, dFin, x, 0, init, wt, bias, l, d, w);
                int[] cuts = {0, 3, 4, 15, l};
                // forward states at the cuts, then the backward from the last chunk to the first
                float[][] states = new float[cuts.length][];
                states[0] = init;
                for (int i = 0; i + 1 < cuts.length; i++) {
                    states[i + 1] = new float[(w - 1) * d];
                    int n = cuts[i + 1] - cuts[i];
                    fwd(scalar, new float[n * d], 0, d, states[i + 1], 0, x, cuts[i] * d, d, states[i], 0, null, wt, bias, true, 1, n, d, w);
                }
                float[] cdx = new float[l * d], cdw = new float[d * w], cdb = new float[d], carried = dFin.clone();
                for (int i = cuts.length - 2; i >= 0; i--) {
                    float[] dPrev = new float[(w - 1) * d];
                    bwd(scalar, cdx, cuts[i] * d, dPrev, cdw, cdb, dy, cuts[i] * d, carried, x, cuts[i] * d, states[i], wt, bias,
                            cuts[i + 1] - cuts[i], d, w);
                    carried = dPrev;
                }
                TestArrays.assertClose("dx w=" + w, dx, cdx, 1e-5, 1e-5);
                TestArrays.assertClose("dInitialState w=" + w, dInit, carried, 1e-5, 1e-5);
                TestArrays.assertClose("dweight w=" + w, dw, cdw, 1e-4, 1e-4);
                TestArrays.assertClose("dbias w=" + w, db, cdb, 1e-4, 1e-4);
            }
        }
    }

    private static void bwd(boolean scalar, float[] dx, int dxOff, float[] dInit, float[] dw, float[] db, float[] dy, int dyOff,
                            float[] dFin, float[] x, int xOff, float[] init, float[] wt, float[] bias, int l, int d, int w) {
        if (scalar) CausalConv1dScalar.backward(dx, dxOff, d, dInit, 0, dw, db, dy, dyOff, d, dFin, 0, x, xOff, d, init, 0, null, wt, bias, true, 1, l, d, w);
        else CausalConv1dSimdBackward.backward(dx, dxOff, d, dInit, 0, dw, db, dy, dyOff, d, dFin, 0, x, xOff, d, init, 0, null, wt, bias, true, 1, l, d, w, null);
    }

    @Test
    void packedSequencesEqualSeparateConvs() {
        SplittableRandom rng = new SplittableRandom(25);
        for (boolean scalar : new boolean[] {true, false}) {
            int l = 30, d = 17, w = 4;
            int[] cu = {0, 5, 6, 6, 18, 30};                      // includes a 1-token and an empty sequence
            float[] x = TestArrays.uniform(rng, l * d, -1, 1), wt = TestArrays.uniform(rng, d * w, -1, 1);
            float[] bias = TestArrays.uniform(rng, d, -1, 1);
            float[] y = new float[l * d], fin = new float[(w - 1) * d];
            fwd(scalar, y, 0, d, fin, 0, x, 0, d, null, 0, cu, wt, bias, true, 1, l, d, w);
            float[] lastFin = null;
            for (int s = 0; s + 1 < cu.length; s++) {
                int n = cu[s + 1] - cu[s];
                if (n == 0) continue;
                float[] ys = new float[n * d];
                lastFin = new float[(w - 1) * d];
                fwd(scalar, ys, 0, d, lastFin, 0, x, cu[s] * d, d, null, 0, null, wt, bias, true, 1, n, d, w);
                assertArrayEquals(ys, Arrays.copyOfRange(y, cu[s] * d, cu[s + 1] * d), "sequence " + s);
            }
            assertArrayEquals(lastFin, fin, "final state is that of the last sequence");
        }
    }

    @Test
    void badArgumentsAreNamed() {
        int d = 8, w = 4, l = 5;
        float[] x = new float[l * d], y = new float[l * d], wt = new float[d * w];
        assertMessage("weight", () -> CausalConv1d.forward(y, 0, d, x, 0, d, new float[d * 3], null, false, 1, l, d, w, null));
        assertMessage("x", () -> CausalConv1d.forward(y, 0, d, new float[l * d - 1], 0, d, wt, null, false, 1, l, d, w, null));
        assertMessage("width", () -> CausalConv1d.forward(y, 0, d, x, 0, d, new float[d * 9], null, false, 1, l, d, 9, null));
        assertMessage("bias", () -> CausalConv1d.forward(y, 0, d, x, 0, d, wt, new float[3], false, 1, l, d, w, null));
        assertMessage("overlaps", () -> CausalConv1d.forward(x, 0, d, x, 0, d, wt, null, false, 1, l, d, w, null));
        assertMessage("cuSeqlens", () -> CausalConv1d.forward(y, 0, d, null, 0, x, 0, d, null, 0, new int[] {0, 3, 2, 5}, wt,
                null, false, 1, l, d, w, null));
        assertMessage("state", () -> CausalConv1d.step(new float[d], 0, d, new float[d], 0, new float[d], 0, d, wt, null, false,
                1, d, w));
        assertMessage("dbias", () -> CausalConv1d.backward(new float[l * d], 0, d, null, new float[2], x, 0, d, x, 0, d, wt, null,
                false, 1, l, d, w, null));
        // a disjoint column slice of the same buffer is fine: y in columns [8, 16) of rows of width 16
        float[] buf = new float[l * 16];
        CausalConv1d.forward(buf, 8, 16, buf, 0, 16, wt, null, false, 1, l, d, w, null);
    }

    private static void assertMessage(String word, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(word), "message should name '" + word + "': " + ex.getMessage());
    }
}
