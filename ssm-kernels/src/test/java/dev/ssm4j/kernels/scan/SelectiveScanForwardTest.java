package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.scan.ScanCase.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Forward and step: scalar vs double reference, SIMD vs scalar, varlen, continuation, step, validation. */
class SelectiveScanForwardTest {
    static ForkJoinPool pool;

    @BeforeAll
    static void start() {
        pool = Parallel.pool(2);
    }

    @AfterAll
    static void stop() {
        pool.shutdown();
    }

    /** Runs one implementation; returns {y (with the case's layout), final state (or null)}. */
    static float[][] run(ScanCase k, boolean simd, ForkJoinPool p) {
        float[] y = new float[k.yLength()];
        float[] hT = k.has(FINAL) ? new float[k.stateLength()] : null;
        ScanTensors io = k.bind(y, hT);
        if (simd) SelectiveScanSimd.forward(io, p);
        else SelectiveScanScalar.forward(io, p);
        return new float[][] {y, hT};
    }

    static void compare(String what, float[][] want, float[][] got, double tol) {
        TestArrays.assertClose(what + " y", want[0], got[0], tol, tol);
        if (want[1] != null) TestArrays.assertClose(what + " final state", want[1], got[1], tol, tol);
    }

    @Test
    void scalarMatchesDoubleReference() {
        for (int opts : new int[] {0, ALL, D | Z, SOFTPLUS | BIAS | H0, STRIDED | FINAL}) {
            ScanCase k = new ScanCase(11 + opts, 2, 37, 5, 7, 1, opts | FINAL, null);
            float[][] got = run(k, false, null);
            double[] y = new double[k.yLength()], hT = new double[k.b * k.d * k.n];
            k.forwardDouble(k.doubles(), y, hT);
            TestArrays.assertClose("scalar vs double y opts=" + opts, y, got[0], 1e-4, 1e-4);
            double[] hTl = new double[k.stateLength()];
            System.arraycopy(hT, 0, hTl, k.finalOff, hT.length);
            TestArrays.assertClose("scalar vs double hT opts=" + opts, hTl, got[1], 1e-4, 1e-4);
        }
    }

    @Test
    void simdMatchesScalarOnOddShapes() {
        SplittableRandom pick = new SplittableRandom(5);
        int count = 0;
        for (int l : new int[] {1, 7, 37, 300}) {
            for (int g : new int[] {1, 2}) {
                for (int d1 : new int[] {1, 5, 19, 37}) {
                    for (int n : new int[] {1, 7, 16, 64}) {
                        int d = d1 * g;
                        int b = 1 + pick.nextInt(2);
                        int opts = pick.nextInt(ALL + 1);
                        int[] cu = l > 5 && pick.nextBoolean() ? new int[] {0, l / 3, l / 3, l - 1, l} : null;
                        ScanCase k = new ScanCase(count++, b, l, d, n, g, opts, cu);
                        String what = k.spec + " opts=" + opts;
                        compare(what, run(k, false, null), run(k, true, pick.nextBoolean() ? pool : null), 2e-4);
                    }
                }
            }
        }
        // Every option alone and all together, on a shape with full and partial vector blocks.
        for (int opt = 1; opt <= ALL; opt <<= 1) {
            for (int opts : new int[] {opt, ALL & ~opt}) {
                ScanCase k = new ScanCase(100 + opts, 2, 37, 2 * 37, 16, 2, opts, null);
                compare("opts=" + opts, run(k, false, null), run(k, true, pool), 2e-4);
            }
        }
        ScanCase k = new ScanCase(7, 3, 37, 3 * 19, 7, 3, ALL, new int[] {0, 5, 37});
        compare("g=3 all", run(k, false, pool), run(k, true, pool), 2e-4);
    }

    @Test
    void threadsDoNotChangeResults() {
        ScanCase k = new ScanCase(3, 3, 37, 70, 16, 2, ALL, null);
        float[][] one = run(k, true, null), two = run(k, true, pool);
        assertEquals(0.0, TestArrays.maxAbsDiff(one[0], two[0]));
        assertEquals(0.0, TestArrays.maxAbsDiff(one[1], two[1]));
        float[][] s1 = run(k, false, null), s2 = run(k, false, pool);
        assertEquals(0.0, TestArrays.maxAbsDiff(s1[0], s2[0]));
    }

    /** Packed sequences in one row equal separate scans, each from zero (the first from h0). */
    @Test
    void varlenEqualsSeparateScans() {
        int l = 40, d = 19, n = 7;
        int[] cu = {0, 9, 9, 25, 40};
        for (boolean simd : new boolean[] {false, true}) {
            ScanCase k = new ScanCase(21, 2, l, d, n, 1, ALL & ~STRIDED, cu);
            float[][] packed = run(k, simd, pool);
            for (int i = 0; i + 1 < cu.length; i++) {
                int len = cu[i + 1] - cu[i];
                if (len == 0) continue;
                ScanCase part = new ScanCase(21, 2, len, d, n, 1, ALL & ~STRIDED, null);
                copyTokens(k, part, cu[i], len);
                float[] y = new float[part.yLength()], hT = new float[part.stateLength()];
                ScanTensors io = part.bind(y, hT);
                if (i > 0) io.h0(null, 0); // every sequence after the first starts from zero
                if (simd) SelectiveScanSimd.forward(io, null);
                else SelectiveScanScalar.forward(io, null);
                for (int bi = 0; bi < 2; bi++) {
                    for (int t = 0; t < len; t++) {
                        for (int c = 0; c < d; c++) {
                            assertEquals(y[(bi * len + t) * d + c], packed[0][(bi * l + cu[i] + t) * d + c], 1e-5,
                                    "seq " + i + " token " + t);
                        }
                    }
                }
                if (i == cu.length - 2) TestArrays.assertClose("varlen final state", hT, packed[1], 1e-5, 1e-5);
            }
        }
    }

    /** Copies tokens [t0, t0 + len) of every batch row of dense case src into dense case dst (same b, d, n). */
    static void copyTokens(ScanCase src, ScanCase dst, int t0, int len) {
        int d = src.d, gn = src.g * src.n;
        for (int bi = 0; bi < src.b; bi++) {
            int from = bi * src.l + t0, to = bi * len;
            System.arraycopy(src.uArr, from * d, dst.uArr, to * d, len * d);
            System.arraycopy(src.zArr, from * d, dst.zArr, to * d, len * d);
            System.arraycopy(src.deltaArr, from * d, dst.deltaArr, to * d, len * d);
            System.arraycopy(src.bArr, from * gn, dst.bArr, to * gn, len * gn);
            System.arraycopy(src.cArr, from * gn, dst.cArr, to * gn, len * gn);
        }
        System.arraycopy(src.aArr, 0, dst.aArr, 0, src.aArr.length);
        System.arraycopy(src.dArr, 0, dst.dArr, 0, src.dArr.length);
        System.arraycopy(src.biasArr, 0, dst.biasArr, 0, src.biasArr.length);
        System.arraycopy(src.h0Arr, 0, dst.h0Arr, 0, src.h0Arr.length);
    }

    /** Scanning [0, k) then [k, l) with the state carried equals one scan of [0, l). */
    @Test
    void continuationEqualsOneScan() {
        int l = 37, k0 = 16, d = 19, n = 16;
        for (boolean simd : new boolean[] {false, true}) {
            ScanCase whole = new ScanCase(31, 2, l, d, n, 1, ALL & ~STRIDED, null);
            float[][] ref = run(whole, simd, pool);
            ScanCase first = new ScanCase(31, 2, k0, d, n, 1, ALL & ~STRIDED, null);
            ScanCase second = new ScanCase(31, 2, l - k0, d, n, 1, ALL & ~STRIDED, null);
            copyTokens(whole, first, 0, k0);
            copyTokens(whole, second, k0, l - k0);
            float[][] a = run(first, simd, pool);
            System.arraycopy(a[1], 0, second.h0Arr, 0, a[1].length); // carry the state
            float[][] bb = run(second, simd, pool);
            for (int bi = 0; bi < 2; bi++) {
                for (int t = 0; t < l; t++) {
                    for (int c = 0; c < d; c++) {
                        float got = t < k0 ? a[0][(bi * k0 + t) * d + c] : bb[0][(bi * (l - k0) + t - k0) * d + c];
                        assertEquals(ref[0][(bi * l + t) * d + c], got, 1e-5, "token " + t);
                    }
                }
            }
            TestArrays.assertClose("continued final state", ref[1], bb[1], 1e-5, 1e-5);
        }
    }

    /** l steps from h0 equal one forward over l tokens, with strided rows. */
    @Test
    void stepEqualsForward() {
        for (int n : new int[] {1, 7, 16, 37}) {
            for (int opts : new int[] {STRIDED | FINAL | H0, ALL}) {
                int b = 2, l = 7, d = 38, g = 2;
                ScanCase k = new ScanCase(41 + n, b, l, d, n, g, opts, null);
                float[][] ref = run(k, false, null);
                for (boolean simd : new boolean[] {false, true}) {
                    float[] state = new float[5 + b * d * n];
                    System.arraycopy(k.h0Arr, k.h0Off, state, 5, b * d * n);
                    float[] y = new float[b * d * 3];
                    ScanSpec one = ScanSpec.step(b, d, n).groups(g).deltaSoftplus(k.has(SOFTPLUS));
                    for (int t = 0; t < l; t++) {
                        // Token t of every batch row: rows are l tokens apart in the case's arrays.
                        ScanTensors io = new ScanTensors(one)
                                .u(k.uArr, k.uOff + t * k.uStr, l * k.uStr)
                                .delta(k.deltaArr, k.deltaOff + t * k.deltaStr, l * k.deltaStr)
                                .B(k.bArr, k.bOff + t * k.bStr, l * k.bStr).C(k.cArr, k.cOff + t * k.cStr, l * k.cStr)
                                .A(k.aArr, k.aOff).y(y, 2, 3 * d);
                        if (k.has(D)) io.D(k.dArr, k.dOff);
                        if (k.has(Z)) io.z(k.zArr, k.zOff + t * k.zStr, l * k.zStr);
                        if (k.has(BIAS)) io.deltaBias(k.biasArr, k.biasOff);
                        if (simd) SelectiveScanSimd.step(io, state, 5, pool);
                        else SelectiveScanScalar.step(io, state, 5, null);
                        for (int bi = 0; bi < b; bi++) {
                            for (int c = 0; c < d; c++) {
                                float want = ref[0][k.yOff + (bi * l + t) * k.yStr + c];
                                assertEquals(want, y[2 + bi * 3 * d + c], 2e-4 * (1 + Math.abs(want)),
                                        "step " + t + " n=" + n + " simd=" + simd);
                            }
                        }
                    }
                    for (int i = 0; i < b * d * n; i++) {
                        assertEquals(ref[1][k.finalOff + i], state[5 + i], 2e-4 * (1 + Math.abs(ref[1][k.finalOff + i])));
                    }
                }
            }
        }
    }

    /**
     * Checkpoints: scalar and SIMD write the same ones; checkpoint 0 is h0 and checkpoint k is the
     * final state of a scan over the first 32·k tokens.
     */
    @Test
    void checkpointsAreTheStatesAtChunkStarts() {
        int T = ScanSpec.CHECKPOINT_TOKENS, l = 3 * T + 5, d = 19, n = 7;
        ScanCase k = new ScanCase(61, 2, l, d, n, 1, ALL & ~STRIDED, new int[] {0, T, T + 3, l});
        float[][] cks = new float[2][];
        for (boolean simd : new boolean[] {false, true}) {
            float[] ck = new float[3 + k.spec.checkpointFloats()];
            ScanTensors io = k.bind(new float[k.yLength()], new float[k.stateLength()]).checkpoints(ck, 3);
            if (simd) SelectiveScanSimd.forward(io, pool);
            else SelectiveScanScalar.forward(io, pool);
            cks[simd ? 1 : 0] = ck;
        }
        TestArrays.assertClose("checkpoints simd vs scalar", cks[0], cks[1], 1e-5, 1e-5);
        int per = k.spec.checkpointsPerRow();
        assertEquals(4, per);
        for (int j = 1; j < per; j++) {
            ScanCase part = new ScanCase(61, 2, j * T, d, n, 1, ALL & ~STRIDED, j > 1 ? new int[] {0, T, T + 3, j * T} : null);
            copyTokens(k, part, 0, j * T);
            float[] hT = new float[part.stateLength()];
            SelectiveScanScalar.forward(part.bind(new float[part.yLength()], hT), null);
            for (int bi = 0; bi < 2; bi++) {
                for (int i = 0; i < d * n; i++) {
                    assertEquals(hT[bi * d * n + i], cks[0][3 + (bi * per + j) * d * n + i], 1e-5, "checkpoint " + j);
                }
            }
        }
        for (int bi = 0; bi < 2; bi++) {
            for (int i = 0; i < d * n; i++) assertEquals(k.h0Arr[bi * d * n + i], cks[1][3 + bi * per * d * n + i]);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new ScanTensors(k.spec).checkpoints(new float[10], 0));
        assertTrue(e.getMessage().startsWith("checkpoints:") && e.getMessage().contains("(2, 4, 19, 7)"), e.getMessage());
    }

    @Test
    void dispatcherRuns() {
        ScanCase k = new ScanCase(9, 1, 7, 5, 3, 1, ALL, null);
        float[] y = new float[k.yLength()], hT = new float[k.stateLength()];
        SelectiveScan.forward(k.bind(y, hT), null);
        compare("dispatch", run(k, false, null), new float[][] {y, hT}, 2e-4);
    }

    @Test
    void badShapesNameTheTensor() {
        ScanSpec sp = ScanSpec.of(2, 5, 8, 4);
        ScanTensors io = new ScanTensors(sp);
        var e = assertThrows(IllegalArgumentException.class, () -> io.u(new float[79], 0, 8));
        assertTrue(e.getMessage().startsWith("u:") && e.getMessage().contains("(b, l, d) = (2, 5, 8)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> io.B(new float[100], 0, 3));
        assertTrue(e.getMessage().startsWith("B:") && e.getMessage().contains("tokenStride 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> io.A(new float[31]));
        assertTrue(e.getMessage().startsWith("A:") && e.getMessage().contains("(d, n) = (8, 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> io.h0(new float[64], 1));
        assertTrue(e.getMessage().startsWith("h0:") && e.getMessage().contains("(b, d, n) = (2, 8, 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.forward(io, null));
        assertTrue(e.getMessage().startsWith("u is required"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScanSpec.of(1, 5, 9, 4).groups(2));
        assertTrue(e.getMessage().contains("groups"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScanSpec.of(1, 5, 8, 4).cuSeqlens(new int[] {0, 3, 4}));
        assertTrue(e.getMessage().startsWith("cuSeqlens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScanSpec.of(1, 5, 8, 4).cuSeqlens(new int[] {0, 3, 2, 5}));
        assertTrue(e.getMessage().contains("non-decreasing"), e.getMessage());
        ScanTensors st = new ScanTensors(sp).u(new float[80]).delta(new float[80]).B(new float[40]).C(new float[40])
                .A(new float[32]).y(new float[80]);
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.step(st, new float[64], 0, null));
        assertTrue(e.getMessage().contains("l = 1"), e.getMessage());
        ScanSpec one = ScanSpec.step(2, 8, 4);
        ScanTensors st1 = new ScanTensors(one).u(new float[16]).delta(new float[16]).B(new float[8]).C(new float[8])
                .A(new float[32]).y(new float[16]);
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.step(st1, new float[63], 0, null));
        assertTrue(e.getMessage().startsWith("state:"), e.getMessage());
        ScanGrads gr = new ScanGrads(sp).dy(new float[80]).dz(new float[80]);
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.backward(st, gr, null));
        assertTrue(e.getMessage().contains("dz"), e.getMessage());
    }
}
