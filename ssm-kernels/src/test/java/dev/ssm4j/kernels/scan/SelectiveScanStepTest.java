package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.scan.ScanCase.*;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The decoding step: SIMD ({@link SelectiveScanSimdStep}) vs scalar, step vs forward, its exp, its checks. */
class SelectiveScanStepTest {
    static final int L = KernelConfig.LANES;
    static ForkJoinPool pool;

    @BeforeAll
    static void start() {
        pool = Parallel.pool(2);
    }

    @AfterAll
    static void stop() {
        pool.shutdown();
    }

    /** {@code steps} steps of one implementation from the case's h0, same token each time; returns {y, state}. */
    static float[][] run(ScanCase k, boolean simd, ForkJoinPool p, int steps) {
        float[] y = new float[k.yLength()];
        float[] state = new float[3 + k.b * k.d * k.n];
        System.arraycopy(k.h0Arr, k.h0Off, state, 3, k.b * k.d * k.n);
        ScanTensors io = k.bind(y, null);
        for (int i = 0; i < steps; i++) {
            if (simd) SelectiveScanSimdStep.step(io, state, 3, p);
            else SelectiveScanScalar.step(io, state, 3, p);
        }
        return new float[][] {y, state};
    }

    @Test
    void simdMatchesScalarOnOddShapes() {
        SplittableRandom pick = new SplittableRandom(17);
        int count = 0;
        for (int g : new int[] {1, 2}) {
            for (int d1 : new int[] {1, 5, L - 1, L + 3, 37}) {
                for (int n : new int[] {1, 7, 16, 64}) {
                    int d = d1 * g, b = 1 + pick.nextInt(3);
                    int opts = pick.nextInt(ALL + 1) & ~(H0 | FINAL);
                    ScanCase k = new ScanCase(300 + count++, b, 1, d, n, g, opts, null);
                    float[][] want = run(k, false, null, 3), got = run(k, true, pick.nextBoolean() ? pool : null, 3);
                    String what = k.spec + " opts=" + opts;
                    TestArrays.assertClose(what + " y", want[0], got[0], 2e-5, 2e-5);
                    TestArrays.assertClose(what + " state", want[1], got[1], 2e-5, 2e-5);
                }
            }
        }
        // Every option alone and all but one, b > 1, groups, a partial block of channels.
        for (int opt = 1; opt <= STRIDED; opt <<= 1) {
            if (opt == H0 || opt == FINAL) continue;
            for (int opts : new int[] {opt, (D | Z | BIAS | SOFTPLUS | STRIDED) & ~opt}) {
                ScanCase k = new ScanCase(400 + opts, 3, 1, 2 * (L + 3), 16, 2, opts, null);
                float[][] want = run(k, false, null, 2), got = run(k, true, pool, 2);
                TestArrays.assertClose("opts=" + opts + " y", want[0], got[0], 2e-5, 2e-5);
                TestArrays.assertClose("opts=" + opts + " state", want[1], got[1], 2e-5, 2e-5);
            }
        }
    }

    /**
     * n = L, the shape the fast path ({@code runL}: two channels per iteration, the tree in
     * registers) takes: runs of whole blocks inside one B/C group, next to partial last blocks and
     * blocks that straddle a group (the general path), over chunk and task boundaries.
     */
    @Test
    void fastPathMatchesScalar() {
        SplittableRandom pick = new SplittableRandom(23);
        int[][] shapes = { // b, d, g
            {1, L, 1}, {2, 3 * L, 1}, {2, 3 * L + 5, 1}, {3, 4 * L, 2}, {2, 6 * L, 4}, {1, 40 * L, 1}, {2, 17 * L + 3, 1},
            {2, 34 * L, 2}, {1, 3 * (L + 1), 3},
        };
        int count = 0;
        for (int[] sh : shapes) {
            for (int opts : new int[] {D | Z | BIAS | SOFTPLUS | STRIDED, pick.nextInt(ALL + 1) & ~(H0 | FINAL)}) {
                ScanCase k = new ScanCase(500 + count++, sh[0], 1, sh[1], L, sh[2], opts, null);
                float[][] want = run(k, false, null, 3), got = run(k, true, count % 2 == 0 ? pool : null, 3);
                String what = k.spec + " opts=" + opts;
                TestArrays.assertClose(what + " y", want[0], got[0], 2e-5, 2e-5);
                TestArrays.assertClose(what + " state", want[1], got[1], 2e-5, 2e-5);
            }
        }
    }

    /** Many blocks (≥ 2 × 512, so the pool really splits them): the result does not depend on the threads. */
    @Test
    void threadsDoNotChangeResults() {
        ScanCase k = new ScanCase(5, 3, 1, 345 * L + 5, 16, 5, D | Z | BIAS | SOFTPLUS | STRIDED, null);
        assertTrue(SelectiveScanSimdStep.splits(3, 345 * L + 5), "this shape must be split over the pool");
        assertFalse(SelectiveScanSimdStep.splits(1, 1536), "a one-row decode step runs on the calling thread");
        float[][] one = run(k, true, null, 2), two = run(k, true, pool, 2);
        assertEquals(0.0, TestArrays.maxAbsDiff(one[0], two[0]));
        assertEquals(0.0, TestArrays.maxAbsDiff(one[1], two[1]));
    }

    /** l SIMD steps from h0 equal one forward over the l tokens (y of every token, the final state). */
    @Test
    void stepsEqualForward() {
        int l = 9;
        for (int d : new int[] {5, L + 3, 37, 2 * L}) {
            for (int n : new int[] {1, 7, 16, 64, L}) {
                int b = 3, g = d == 37 ? 1 : 1 + (n & 1);
                int opts = (n == 16 ? ALL : D | Z | BIAS | SOFTPLUS) | H0 | FINAL;
                ScanCase k = new ScanCase(71 + n + d, b, l, d * g, n, g, opts, null);
                int dd = d * g;
                float[][] ref = SelectiveScanForwardTest.run(k, false, null);
                float[] state = k.h0Arr.clone();
                float[] y = new float[b * dd];
                ScanSpec one = ScanSpec.step(b, dd, n).groups(g).deltaSoftplus(k.has(SOFTPLUS));
                for (int t = 0; t < l; t++) {
                    // Token t of every batch row: rows are l tokens apart in the case's arrays.
                    ScanTensors io = new ScanTensors(one)
                            .u(k.uArr, k.uOff + t * k.uStr, l * k.uStr)
                            .delta(k.deltaArr, k.deltaOff + t * k.deltaStr, l * k.deltaStr)
                            .B(k.bArr, k.bOff + t * k.bStr, l * k.bStr).C(k.cArr, k.cOff + t * k.cStr, l * k.cStr)
                            .A(k.aArr, k.aOff).y(y, 0, dd);
                    if (k.has(D)) io.D(k.dArr, k.dOff);
                    if (k.has(Z)) io.z(k.zArr, k.zOff + t * k.zStr, l * k.zStr);
                    if (k.has(BIAS)) io.deltaBias(k.biasArr, k.biasOff);
                    SelectiveScan.step(io, state, k.h0Off, t % 2 == 0 ? pool : null);
                    for (int bi = 0; bi < b; bi++) {
                        for (int c = 0; c < dd; c++) {
                            float want = ref[0][k.yOff + (bi * l + t) * k.yStr + c];
                            assertEquals(want, y[bi * dd + c], 2e-4 * (1 + Math.abs(want)),
                                    "token " + t + " d=" + dd + " n=" + n + " c=" + c);
                        }
                    }
                }
                for (int i = 0; i < b * dd * n; i++) {
                    float want = ref[1][k.finalOff + i];
                    assertEquals(want, state[k.h0Off + i], 2e-4 * (1 + Math.abs(want)), "final state d=" + dd + " n=" + n);
                }
            }
        }
    }

    private static float exp2(float x) {
        float[] buf = new float[L];
        java.util.Arrays.fill(buf, x);
        return SelectiveScanSimdStep.exp2(FloatVector.fromArray(KernelConfig.F, buf, 0)).lane(L - 1);
    }

    private static long ulps(float a, float b) {
        return Math.abs((long) Float.floatToIntBits(a) - Float.floatToIntBits(b)); // a, b > 0
    }

    /** Points of the exps' error sweeps. */
    private static final int GRID = 100_003;

    /** GRID evenly spaced points on [−126, 127], padded with zeros to whole vectors. */
    private static float[] grid() {
        float[] x = new float[GRID + L];
        for (int i = 0; i < GRID; i++) x[i] = -126f + 253f * i / (GRID - 1);
        return x;
    }

    /** The step's 2^x: ≤ 2 ulp from the correctly rounded value on [−126, 127]; 0, ∞ and NaN at the edges. */
    @Test
    void exp2WithinTwoUlp() {
        int count = GRID;
        float[] x = grid();
        long worst = 0;
        float worstX = 0;
        for (int i = 0; i < count; i += L) {
            float[] y = new float[L];
            SelectiveScanSimdStep.exp2(FloatVector.fromArray(KernelConfig.F, x, i)).intoArray(y, 0);
            for (int j = 0; j < L && i + j < count; j++) {
                long u = ulps(y[j], (float) Math.pow(2.0, x[i + j]));
                if (u > worst) {
                    worst = u;
                    worstX = x[i + j];
                }
            }
        }
        assertTrue(worst <= 2, "exp2 worst error " + worst + " ulp at x=" + worstX);
        assertEquals(1f, exp2(0f));
        assertEquals(1f, exp2(-0f));
        assertEquals(0.5f, exp2(-1f));
        assertEquals(0f, exp2(-127f));
        assertEquals(0f, exp2(-1e30f));
        assertEquals(0f, exp2(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, exp2(128f));
        assertEquals(Float.POSITIVE_INFINITY, exp2(1e30f));
        assertTrue(Float.isNaN(exp2(Float.NaN)));
        assertTrue(ulps(exp2(-126f), 0x1p-126f) <= 2);
    }

    private static float pow2(float a, float scale) {
        float[] buf = new float[L];
        java.util.Arrays.fill(buf, a);
        return SelectiveScanSimdStep.pow2(FloatVector.fromArray(KernelConfig.F, buf, 0),
                FloatVector.broadcast(KernelConfig.F, scale)).lane(L - 1);
    }

    /** The decay's 2^(a·scale): ≤ 2 ulp on [−126, 127] (scale 1 and a scale that rounds a·scale); 0, +∞ and NaN at the edges. */
    @Test
    void pow2WithinTwoUlp() {
        int count = GRID;
        float[] x = grid();
        long worst = 0;
        float worstX = 0;
        for (float scale : new float[] {1f, 0.7f}) {
            FloatVector sv = FloatVector.broadcast(KernelConfig.F, scale);
            for (int i = 0; i < count; i += L) {
                float[] y = new float[L];
                FloatVector a = FloatVector.fromArray(KernelConfig.F, x, i).div(sv);
                float[] av = a.toArray();
                SelectiveScanSimdStep.pow2(a, sv).intoArray(y, 0);
                for (int j = 0; j < L && i + j < count; j++) {
                    // against 2^(a·scale) with a·scale exact (double): pow2 rounds it once less than exp2
                    long u = ulps(y[j], (float) Math.pow(2.0, (double) av[j] * scale));
                    if (u > worst) {
                        worst = u;
                        worstX = av[j] * scale;
                    }
                }
            }
        }
        assertTrue(worst <= 2, "pow2 worst error " + worst + " ulp at x=" + worstX);
        assertEquals(1f, pow2(0f, 1f));
        assertEquals(1f, pow2(-0f, 3f));
        assertEquals(0.5f, pow2(-1f, 1f));
        assertEquals(0.25f, pow2(-4f, 0.5f));
        assertEquals(0f, pow2(-126.5f, 1f));
        assertEquals(0f, pow2(-127f, 1f));
        assertEquals(0f, pow2(-16f, 1e3f));
        assertEquals(0f, pow2(-1e3f, 3e4f)); // exact (+0, +∞) for |a·scale| < 2^26
        assertEquals(Float.POSITIVE_INFINITY, pow2(128f, 1f));
        assertEquals(Float.POSITIVE_INFINITY, pow2(1e3f, 3e4f));
        assertTrue(Float.isNaN(pow2(Float.NaN, 1f)));
        assertTrue(Float.isNaN(pow2(-1f, Float.NaN)));
        assertTrue(ulps(pow2(-126f, 1f), 0x1p-126f) <= 2);
        // Through the whole range the two exps agree to a few ulp.
        for (int i = 0; i < count; i += 97) assertTrue(ulps(pow2(x[i], 1f), exp2(x[i])) <= 3, "x=" + x[i]);
    }

    @Test
    void yOverlappingAnInputIsRejected() {
        int b = 2, d = 8, n = 4;
        ScanSpec sp = ScanSpec.step(b, d, n);
        float[] shared = new float[4 * b * d];
        // u, z in columns [0, d) and [d, 2d) of rows 3d wide; y in columns [2d, 3d): no overlap.
        ScanTensors ok = new ScanTensors(sp).u(shared, 0, 3 * d).z(shared, d, 3 * d).y(shared, 2 * d, 3 * d)
                .delta(new float[b * d]).B(new float[b * n]).C(new float[b * n]).A(new float[d * n]);
        assertDoesNotThrow(() -> SelectiveScan.step(ok, new float[b * d * n], 0, null));
        // y shifted by one column: its rows now meet z's.
        ScanTensors bad = new ScanTensors(sp).u(shared, 0, 3 * d).z(shared, d, 3 * d).y(shared, 2 * d - 1, 3 * d)
                .delta(new float[b * d]).B(new float[b * n]).C(new float[b * n]).A(new float[d * n]);
        var e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.step(bad, new float[b * d * n], 0, null));
        assertTrue(e.getMessage().contains("overlaps z") && e.getMessage().contains("y must not overlap"), e.getMessage());
        // y inside the state array, after the state: fine; over its last row: rejected.
        float[] big = new float[b * d * n + b * d];
        ScanTensors tail = new ScanTensors(sp).u(new float[b * d]).delta(new float[b * d]).B(new float[b * n])
                .C(new float[b * n]).A(new float[d * n]).y(big, b * d * n, d);
        assertDoesNotThrow(() -> SelectiveScan.step(tail, big, 0, null));
        tail.y(big, b * d * n - 1, d);
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScanScalar.step(tail, big, 0, null));
        assertTrue(e.getMessage().contains("overlaps state"), e.getMessage());
        // y over Δ (row 1 of y is row 0 of Δ).
        float[] yd = new float[3 * d];
        ScanTensors dl = new ScanTensors(sp).u(new float[b * d]).delta(yd, d, d).y(yd, 0, d).B(new float[b * n])
                .C(new float[b * n]).A(new float[d * n]);
        e = assertThrows(IllegalArgumentException.class, () -> SelectiveScanSimd.step(dl, new float[b * d * n], 0, null));
        assertTrue(e.getMessage().contains("overlaps delta") && e.getMessage().contains("row 1"), e.getMessage());
    }
}
