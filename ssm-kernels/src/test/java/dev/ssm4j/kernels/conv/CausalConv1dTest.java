package dev.ssm4j.kernels.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** SIMD twin vs scalar twin vs a double reference, over odd shapes and every combination of options. */
class CausalConv1dTest {
    // l = 300 crosses many 8-token blocks of the interior loops; d = 17, 33, 100 have full channel vectors
    // and a partial one (16 lanes; 8 on AVX2); w = 4 takes the register-ring path, the others the generic one.
    static final int[] LS = {1, 7, 37, 300}, DS = {1, 3, 17, 33, 100}, WS = {2, 3, 4, 5, 6, 7, 8};
    static final int OPTS = 32; // bias, silu, state, strided, varlen

    /**
     * Option sets tried for one shape: all 32 on a few shapes, elsewhere none, all, and two rotating
     * ones (every combination still meets every l, d and w), to keep the suite fast.
     */
    static int[] optionSets(int l, int d, int w) {
        if ((l == 37 && d == 33 && w == 4) || (l == 7 && d == 17 && w == 3) || (l == 1 && d == 100 && w == 8)) {
            int[] all = new int[OPTS];
            for (int o = 0; o < OPTS; o++) all[o] = o;
            return all;
        }
        int h = l * 31 + d * 7 + w;
        return new int[] {0, OPTS - 1, h % OPTS, (h * 5 + 3) % OPTS};
    }

    @Test
    void forwardSimdMatchesScalarAndReference() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int l : LS) for (int d : DS) for (int w : WS) for (int o : optionSets(l, d, w)) {
            ConvCase k = new ConvCase(rng, 2, l, d, w, o);
            float[][] s = k.forward(true, null), v = k.forward(false, null);
            String what = k.describe();
            TestArrays.assertClose("simd y " + what, s[0], v[0], 1e-5, 1e-5);
            double[] fin = k.state ? new double[k.b * (w - 1) * d] : null;
            double[] ref = ConvRef.forward(TestArrays.toDouble(k.xC), k.init == null ? null : TestArrays.toDouble(k.init),
                    TestArrays.toDouble(k.weight), k.biasV == null ? null : TestArrays.toDouble(k.biasV), k.silu, k.cu,
                    k.b, l, d, w, fin);
            TestArrays.assertClose("scalar y vs reference " + what, ref,
                    ConvRef.gather(s[0], k.b * l, d, k.yOff, k.yStride), 1e-5, 1e-5);
            if (k.state) {
                assertArrayEquals(s[1], v[1], "final state " + what);
                TestArrays.assertClose("final state vs reference " + what, fin, s[1], 0, 0);
            }
            if (k.strided) { // the gaps between column slices stay untouched
                assertEquals(ConvCase.SENTINEL, v[0][0], what);
                assertEquals(ConvCase.SENTINEL, v[0][k.yOff + d], what);
            }
        }
    }

    @Test
    void backwardSimdMatchesScalar() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int l : LS) for (int d : DS) for (int w : WS) for (int o : optionSets(l, d, w)) {
            ConvCase k = new ConvCase(rng, 2, l, d, w, o);
            simdBackwardMatchingScalar(k, k.startGrads(rng));
        }
    }

    /** SIMD (one thread) and scalar backward from the same starting gradients agree; returns the SIMD's. */
    private static float[][] simdBackwardMatchingScalar(ConvCase k, float[][] start) {
        float[][] s = k.backward(true, start, null), v = k.backward(false, start, null);
        String what = k.describe();
        TestArrays.assertClose("dx " + what, s[0], v[0], 1e-5, 1e-5);
        if (k.state) TestArrays.assertClose("dInitialState " + what, s[1], v[1], 1e-5, 1e-5);
        TestArrays.assertClose("dweight " + what, s[2], v[2], 1e-4, 1e-5);
        if (k.bias) TestArrays.assertClose("dbias " + what, s[3], v[3], 1e-4, 1e-5);
        return v;
    }

    /** Optional outputs left out (dx null, dweight null): the others keep the same bits (w = 4 blocks and the generic path). */
    @Test
    void backwardWithoutDxOrDweightKeepsTheOtherGradients() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int w : new int[] {3, 4}) for (int o : new int[] {0, 3, 2, 31}) {
            ConvCase k = new ConvCase(rng, 2, 37, 33, w, o);
            float[][] start = k.startGrads(rng), all = k.backward(false, start, null);
            float[] dw = start[2].clone(), db = start[3] == null ? null : start[3].clone();
            float[] dInit = start[1] == null ? null : start[1].clone();
            CausalConv1dSimdBackward.backward(null, k.xOff, k.xStride, dInit, 0, dw, db, k.dy, k.yOff, k.yStride,
                    k.dFinal, 0, k.x, k.xOff, k.xStride, k.init, 0, k.cu, k.weight, k.biasV, k.silu, k.b, k.l, k.d, w, null);
            assertArrayEquals(all[2], dw, "dweight without dx " + k.describe());
            if (db != null) assertArrayEquals(all[3], db, "dbias without dx " + k.describe());
            float[] dx = start[0].clone();
            db = start[3] == null ? null : start[3].clone();
            dInit = start[1] == null ? null : start[1].clone();
            CausalConv1dSimdBackward.backward(dx, k.xOff, k.xStride, dInit, 0, null, db, k.dy, k.yOff, k.yStride,
                    k.dFinal, 0, k.x, k.xOff, k.xStride, k.init, 0, k.cu, k.weight, k.biasV, k.silu, k.b, k.l, k.d, w, null);
            assertArrayEquals(all[0], dx, "dx without dweight " + k.describe());
            if (db != null) assertArrayEquals(all[3], db, "dbias without dweight " + k.describe());
        }
    }

    @Test
    void twoThreadsGiveTheSameBits() {
        SplittableRandom rng = new SplittableRandom(3);
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (int o : new int[] {7, 26, 23}) {       // bias+silu+state, silu+strided+packed, all but strided
                ConvCase k = new ConvCase(rng, 2, 37, 1000, 4, o);  // b·l·d ≥ 2^16: split into two tasks
                float[][] one = k.forward(false, null), two = k.forward(false, pool);
                assertArrayEquals(one[0], two[0], "y " + k.describe());
                if (k.state) assertArrayEquals(one[1], two[1]);
                float[][] start = k.startGrads(rng);
                float[][] g1 = k.backward(false, start, null), g2 = k.backward(false, start, pool);
                for (int i = 0; i < 4; i++) {
                    if (g1[i] != null) assertArrayEquals(g1[i], g2[i], "grad " + i + " " + k.describe());
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Forwards long enough that the threads split the tokens: tasks start inside rows, inside a
     * sequence's first w − 1 tokens and inside packed sequences, for every width; the outputs and the
     * final state (also written over the initial state in place) equal the one-thread forward.
     */
    @Test
    void tokenSplitForwardGivesTheSameBits() {
        SplittableRandom rng = new SplittableRandom(5);
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (int w : new int[] {2, 3, 4, 8}) {
                for (int o : new int[] {7, 22, 31}) {   // bias+silu+state; silu+state+packed; everything
                    ConvCase k = new ConvCase(rng, 3, 301, 80, w, o);  // 903 tokens · 80 channels ≥ 2^16: two token ranges
                    float[][] one = k.forward(false, null), two = k.forward(false, pool);
                    assertArrayEquals(one[0], two[0], "y " + k.describe());
                    if (k.state) {
                        assertArrayEquals(one[1], two[1], "final state " + k.describe());
                        float[] inPlace = k.init.clone(), y = k.newY();
                        CausalConv1dSimd.forward(y, k.yOff, k.yStride, inPlace, 0, k.x, k.xOff, k.xStride, inPlace, 0, k.cu,
                                k.weight, k.biasV, k.silu, k.b, k.l, k.d, w, pool);
                        assertArrayEquals(one[0], y, "y, final state over the initial one " + k.describe());
                        assertArrayEquals(one[1], inPlace, "final state in place " + k.describe());
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * The token ranges of a split may start anywhere: for every cut in the first rows (inside a
     * sequence's first w − 1 tokens, at row and packed-sequence starts), the forward of [0, cut) then
     * [cut, b·l) writes the same y as one forward.
     */
    @Test
    void tokenRangesMayStartAnywhere() {
        SplittableRandom rng = new SplittableRandom(6);
        for (int w : new int[] {2, 4, 8}) {
            for (int o : new int[] {7, 31}) {
                ConvCase k = new ConvCase(rng, 2, 23, 21, w, o);
                float[] want = k.forward(false, null)[0], wT = CausalConv1dSimd.tapMajor(k.weight, k.d, w);
                for (int cut = 0; cut <= 2 * k.l; cut++) {
                    float[] y = k.newY();
                    CausalConv1dSimd.forwardRange(y, k.yOff, k.yStride, k.x, k.xOff, k.xStride, k.init, 0, k.cu, wT, k.biasV,
                            k.silu, k.b, k.l, k.d, w, 0, cut, 0, k.d);
                    CausalConv1dSimd.forwardRange(y, k.yOff, k.yStride, k.x, k.xOff, k.xStride, k.init, 0, k.cu, wT, k.biasV,
                            k.silu, k.b, k.l, k.d, w, cut, k.b * k.l, 0, k.d);
                    assertArrayEquals(want, y, "cut at token " + cut + ", " + k.describe());
                }
            }
        }
    }

    /**
     * Long inputs: the backward cuts them into chunks of TOKEN_CHUNK tokens with a halo of dx rows
     * before each chunk. Against the scalar twin, for every width, with packed sequences whose
     * boundaries sit right around a chunk start (inside the w − 1 tokens a halo covers); two threads
     * give the same bits as one; leaving dx out keeps dweight's and dbias's bits.
     */
    @Test
    void tokenChunkedBackwardMatchesScalar() {
        SplittableRandom rng = new SplittableRandom(7);
        int l = CausalConv1dSimdBackward.TOKEN_CHUNK + 77, c = CausalConv1dSimdBackward.TOKEN_CHUNK;
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (int w : new int[] {2, 4, 5, 8}) {
                for (int o : new int[] {0, 7, 19, 31}) {   // none; bias+silu+state; bias+silu+packed; all
                    ConvCase k = new ConvCase(rng, 2, l, 40, w, o);   // 2 rows × 2 chunks, 88k elements
                    if (k.varlen) {                                  // boundaries around the chunk starts
                        int[] at = {c - 1, c + 1, l + c - 2, l + c + 2};
                        for (int i = 1; i + 1 < k.cu.length; i++) k.cu[i] = at[i - 1];
                    }
                    float[][] start = k.startGrads(rng), v = simdBackwardMatchingScalar(k, start);
                    String what = k.describe();
                    float[][] two = k.backward(false, start, pool);
                    for (int i = 0; i < 4; i++) {
                        if (v[i] != null) assertArrayEquals(v[i], two[i], "two threads, grad " + i + " " + what);
                    }
                    float[] dw = start[2].clone(), db = start[3] == null ? null : start[3].clone();
                    CausalConv1dSimdBackward.backward(null, k.xOff, k.xStride, null, 0, dw, db, k.dy, k.yOff, k.yStride,
                            null, 0, k.x, k.xOff, k.xStride, k.init, 0, k.cu, k.weight, k.biasV, k.silu, k.b, l, k.d, w, pool);
                    if (k.state) continue;  // dFinal routes into dx/dInit only; dweight and dbias are the same either way
                    assertArrayEquals(v[2], dw, "dweight without dx " + what);
                    if (db != null) assertArrayEquals(v[3], db, "dbias without dx " + what);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void dispatcherRunsTheConfiguredTwin() {
        ConvCase k = new ConvCase(new SplittableRandom(4), 1, 7, 17, 4, 3);
        float[] y = k.newY();
        CausalConv1d.forward(y, k.yOff, k.yStride, k.x, k.xOff, k.xStride, k.weight, k.biasV, k.silu, 1, 7, 17, 4, null);
        assertArrayEquals(k.forward(dev.ssm4j.kernels.KernelConfig.FORCE_SCALAR, null)[0], y);
    }
}
