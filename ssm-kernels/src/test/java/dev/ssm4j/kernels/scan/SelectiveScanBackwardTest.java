package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.scan.ScanCase.*;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Backward: scalar and SIMD against central finite differences of a double-precision forward
 * (loss = Σ y·dy + Σ h_T·dh_T), SIMD against scalar on odd shapes, accumulation, continuation
 * (two chained halves equal the whole) and varlen.
 */
class SelectiveScanBackwardTest {
    static ForkJoinPool pool;

    @BeforeAll
    static void start() {
        pool = Parallel.pool(2);
    }

    @AfterAll
    static void stop() {
        pool.shutdown();
    }

    /** Gradient buffers laid out like the input arrays (shared arrays share a gradient array). */
    static final class Grads {
        final Map<float[], float[]> of = new IdentityHashMap<>();
        final float[] dy, dhT;
        final ScanGrads gr;

        Grads(ScanCase k, float[] dy, float[] dhT, SplittableRandom prefill) {
            this.dy = dy;
            this.dhT = dhT;
            for (float[] a : k.inputArrays()) {
                of.put(a, prefill == null ? new float[a.length] : TestArrays.normal(prefill, a.length, 1.0));
            }
            gr = new ScanGrads(k.spec).dy(dy, k.yOff, k.yStr)
                    .du(of.get(k.uArr), k.uOff, k.uStr).dDelta(of.get(k.deltaArr), k.deltaOff, k.deltaStr)
                    .dB(of.get(k.bArr), k.bOff, k.bStr).dC(of.get(k.cArr), k.cOff, k.cStr)
                    .dA(of.get(k.aArr), k.aOff);
            // Absent inputs are not parameters of the double forward, so their gradients are not asked for.
            if (k.has(D)) gr.dD(of.get(k.dArr), k.dOff);
            if (k.has(BIAS)) gr.dDeltaBias(of.get(k.biasArr), k.biasOff);
            if (k.has(H0)) gr.dh0(of.get(k.h0Arr), k.h0Off);
            if (k.has(Z)) gr.dz(of.get(k.zArr), k.zOff, k.zStr);
            if (dhT != null) gr.dFinalState(dhT, k.finalOff);
        }
    }

    static Grads backward(ScanCase k, boolean simd, ForkJoinPool p, float[] dy, float[] dhT, SplittableRandom prefill) {
        Grads g = new Grads(k, dy, dhT, prefill);
        ScanTensors io = k.bind(new float[k.yLength()], k.has(FINAL) ? new float[k.stateLength()] : null);
        if (simd) SelectiveScanSimdBackward.backward(io, g.gr, p);
        else SelectiveScanScalar.backward(io, g.gr, p);
        return g;
    }

    static float[] randomDy(ScanCase k, long seed) {
        return TestArrays.normal(new SplittableRandom(seed), k.yLength(), 1.0);
    }

    static float[] randomDhT(ScanCase k, long seed) {
        return k.has(FINAL) ? TestArrays.normal(new SplittableRandom(seed), k.stateLength(), 1.0) : null;
    }

    /** Finite differences of Σ y·dy + Σ h_T·dh_T for every input array, compared with the backward (+ prefill). */
    static void checkAgainstFiniteDifferences(ScanCase k, boolean simd, String what) {
        float[] dy = randomDy(k, 1), dhT = randomDhT(k, 2);
        SplittableRandom prefillRng = new SplittableRandom(3);
        Grads prefill = new Grads(k, dy, dhT, new SplittableRandom(3)); // same values as the prefill below
        Grads g = backward(k, simd, pool, dy, dhT, prefillRng);
        Map<float[], double[]> x = k.doubles();
        double[] yD = new double[k.yLength()], hD = new double[k.b * k.d * k.n];
        double[] dyD = TestArrays.toDouble(dy);
        for (float[] arr : k.inputArrays()) {
            double[] fd = FiniteDifference.gradient(x.get(arr), 1e-4, xs -> {
                k.forwardDouble(x, yD, hD);
                double loss = FiniteDifference.dot(yD, dyD);
                if (dhT != null) for (int i = 0; i < hD.length; i++) loss += hD[i] * dhT[k.finalOff + i];
                return loss;
            });
            float[] before = prefill.of.get(arr);
            double scale = 0;
            for (int i = 0; i < fd.length; i++) {
                scale = Math.max(scale, Math.abs(fd[i]));
                fd[i] += before[i];
            }
            TestArrays.assertClose(what + " grad of " + name(k, arr), fd, g.of.get(arr), 2e-3 * Math.max(1, scale), 2e-3);
        }
    }

    static String name(ScanCase k, float[] a) {
        List<String> names = new java.util.ArrayList<>();
        if (a == k.uArr) names.add("u");
        if (a == k.zArr) names.add("z");
        if (a == k.deltaArr) names.add("delta");
        if (a == k.bArr) names.add("B");
        if (a == k.cArr) names.add("C");
        if (a == k.aArr) names.add("A");
        if (a == k.dArr) names.add("D");
        if (a == k.biasArr) names.add("deltaBias");
        if (a == k.h0Arr) names.add("h0");
        return String.join("/", names);
    }

    @Test
    void scalarMatchesFiniteDifferences() {
        for (int opts : new int[] {0, ALL, D | Z | FINAL, SOFTPLUS | BIAS | H0, STRIDED | FINAL | H0}) {
            checkAgainstFiniteDifferences(new ScanCase(opts, 2, 7, 5, 3, 1, opts, null), false, "scalar opts=" + opts);
        }
        checkAgainstFiniteDifferences(new ScanCase(5, 2, 9, 6, 4, 2, ALL, new int[] {0, 4, 9}), false, "scalar varlen g=2");
    }

    @Test
    void simdMatchesFiniteDifferences() {
        for (int opts : new int[] {0, ALL, D | Z | FINAL, SOFTPLUS | BIAS | H0, STRIDED | FINAL | H0}) {
            checkAgainstFiniteDifferences(new ScanCase(opts, 2, 7, 5, 3, 1, opts, null), true, "simd opts=" + opts);
        }
        checkAgainstFiniteDifferences(new ScanCase(5, 2, 9, 6, 4, 2, ALL, new int[] {0, 4, 9}), true, "simd varlen g=2");
        // Longer than one recompute chunk, a full vector plus a partial one, a reset inside a chunk.
        checkAgainstFiniteDifferences(new ScanCase(6, 1, 2 * SelectiveScanSimdBackward.T + 5, 19, 3, 1, ALL,
                new int[] {0, 40, 2 * SelectiveScanSimdBackward.T + 5}), true, "simd long");
    }

    static void compareGrads(String what, ScanCase k, Grads want, Grads got, double tol) {
        for (float[] a : k.inputArrays()) {
            float[] w = want.of.get(a);
            double scale = 0;
            for (float v : w) scale = Math.max(scale, Math.abs(v));
            TestArrays.assertClose(what + " grad of " + name(k, a), w, got.of.get(a), tol * Math.max(1, scale), tol);
        }
    }

    @Test
    void simdMatchesScalarOnOddShapes() {
        SplittableRandom pick = new SplittableRandom(8);
        int count = 0;
        for (int l : new int[] {1, 7, 37, 300}) {
            for (int g : new int[] {1, 2}) {
                for (int d1 : new int[] {1, 5, 19, 37}) {
                    for (int n : new int[] {1, 7, 16, 64}) {
                        // Two thirds of the grid, and no l = 300 with n = 64, keep the suite short.
                        if (pick.nextInt(3) == 0 || (long) l * d1 * g * n > 200_000) continue;
                        int d = d1 * g, b = 1 + pick.nextInt(2), opts = pick.nextInt(ALL + 1);
                        int[] cu = l > 5 && pick.nextBoolean() ? new int[] {0, l / 3, l / 3, l - 1, l} : null;
                        ScanCase k = new ScanCase(count++, b, l, d, n, g, opts, cu);
                        float[] dy = randomDy(k, 4), dhT = randomDhT(k, 5);
                        compareGrads(k.spec + " opts=" + opts, k, backward(k, false, null, dy, dhT, null),
                                backward(k, true, pick.nextBoolean() ? pool : null, dy, dhT, null), 1e-3);
                    }
                }
            }
        }
    }

    @Test
    void threadsAndAccumulation() {
        ScanCase k = new ScanCase(12, 2, 40, 34, 16, 2, ALL, null);
        float[] dy = randomDy(k, 6), dhT = randomDhT(k, 7);
        for (boolean simd : new boolean[] {false, true}) {
            Grads one = backward(k, simd, null, dy, dhT, null);
            Grads two = backward(k, simd, pool, dy, dhT, null);
            compareGrads("threads simd=" + simd, k, one, two, 1e-5);
            // Accumulation: running twice into the same buffers gives twice the gradient.
            Grads twice = new Grads(k, dy, dhT, null);
            ScanTensors io = k.bind(new float[k.yLength()], new float[k.stateLength()]);
            for (int r = 0; r < 2; r++) {
                if (simd) SelectiveScanSimdBackward.backward(io, twice.gr, pool);
                else SelectiveScanScalar.backward(io, twice.gr, pool);
            }
            for (float[] a : k.inputArrays()) {
                float[] dbl = one.of.get(a).clone();
                for (int i = 0; i < dbl.length; i++) dbl[i] *= 2;
                TestArrays.assertClose("twice " + name(k, a), dbl, twice.of.get(a), 1e-4, 1e-4);
            }
        }
    }

    /**
     * The SIMD backward keeps its scratch per thread and reuses it: a call after calls of other
     * shapes (larger, smaller, other n) on the same thread gives the same bits as before them.
     */
    @Test
    void scratchReuseKeepsTheBits() {
        ScanCase k = new ScanCase(80, 1, 75, 40, 16, 1, ALL, new int[] {0, 30, 75});
        float[] dy = randomDy(k, 21), dhT = randomDhT(k, 22);
        Grads first = backward(k, true, null, dy, dhT, null);
        for (ScanCase other : new ScanCase[] {new ScanCase(81, 2, 130, 64, 16, 1, ALL, null),
                new ScanCase(82, 1, 20, 16, 16, 1, ALL & ~SOFTPLUS, null), new ScanCase(83, 1, 50, 48, 8, 1, ALL, null)}) {
            backward(other, true, null, randomDy(other, 23), randomDhT(other, 24), null);
        }
        Grads again = backward(k, true, null, dy, dhT, null);
        for (float[] a : k.inputArrays()) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(first.of.get(a), again.of.get(a), "reuse: " + name(k, a));
        }
    }

    /** The SIMD backward from the forward's checkpoints equals the one that recreates them. */
    @Test
    void backwardFromCheckpointsEqualsWithout() {
        int T = ScanSpec.CHECKPOINT_TOKENS;
        for (int opts : new int[] {ALL, ALL & ~H0 & ~STRIDED}) {
            ScanCase k = new ScanCase(71, 2, 2 * T + 9, 2 * 17, 16, 2, opts, new int[] {0, T, T + 4, 2 * T + 9});
            float[] dy = randomDy(k, 11), dhT = randomDhT(k, 12);
            Grads plain = backward(k, true, pool, dy, dhT, null);
            Grads fromCk = new Grads(k, dy, dhT, null);
            float[] ck = new float[k.spec.checkpointFloats()];
            ScanTensors io = k.bind(new float[k.yLength()], k.has(FINAL) ? new float[k.stateLength()] : null).checkpoints(ck, 0);
            SelectiveScanSimd.forward(io, pool);
            SelectiveScanSimdBackward.backward(io, fromCk.gr, pool);
            compareGrads("from checkpoints opts=" + opts, k, plain, fromCk, 1e-6);
        }
    }

    /**
     * Backward of [0, k) and [k, l) chained through dFinalState / dh0 equals the backward of [0, l):
     * per-token gradients match, parameter gradients are the sums of the two halves.
     */
    @Test
    void continuationEqualsWhole() {
        int l = 75, k0 = 33, d = 19, n = 7;
        int opts = ALL & ~STRIDED;
        for (boolean simd : new boolean[] {false, true}) {
            ScanCase whole = new ScanCase(51, 2, l, d, n, 1, opts, null);
            ScanCase first = new ScanCase(51, 2, k0, d, n, 1, opts, null);
            ScanCase second = new ScanCase(51, 2, l - k0, d, n, 1, opts, null);
            SelectiveScanForwardTest.copyTokens(whole, first, 0, k0);
            SelectiveScanForwardTest.copyTokens(whole, second, k0, l - k0);
            float[][] a = SelectiveScanForwardTest.run(first, simd, null);
            System.arraycopy(a[1], 0, second.h0Arr, 0, a[1].length); // forward state carried
            float[] dy = randomDy(whole, 9), dhT = randomDhT(whole, 10);
            float[] dy1 = new float[first.yLength()], dy2 = new float[second.yLength()];
            for (int bi = 0; bi < 2; bi++) {
                System.arraycopy(dy, bi * l * d, dy1, bi * k0 * d, k0 * d);
                System.arraycopy(dy, (bi * l + k0) * d, dy2, bi * (l - k0) * d, (l - k0) * d);
            }
            Grads gw = backward(whole, simd, pool, dy, dhT, null);
            Grads g2 = backward(second, simd, pool, dy2, dhT, null);
            Grads g1 = backward(first, simd, pool, dy1, g2.of.get(second.h0Arr), null); // dh0 of 2nd = dhT of 1st
            String what = "continuation simd=" + simd;
            TestArrays.assertClose(what + " dh0", gw.of.get(whole.h0Arr), g1.of.get(first.h0Arr), 1e-4, 1e-3);
            for (float[][] p : new float[][][] {{whole.aArr, first.aArr, second.aArr}, {whole.dArr, first.dArr, second.dArr},
                    {whole.biasArr, first.biasArr, second.biasArr}}) {
                float[] sum = g1.of.get(p[1]).clone();
                float[] s2 = g2.of.get(p[2]);
                for (int i = 0; i < sum.length; i++) sum[i] += s2[i];
                TestArrays.assertClose(what + " param", gw.of.get(p[0]), sum, 1e-3, 1e-3);
            }
            for (float[][] p : new float[][][] {{whole.uArr, first.uArr, second.uArr}, {whole.zArr, first.zArr, second.zArr},
                    {whole.deltaArr, first.deltaArr, second.deltaArr}}) {
                float[] w = gw.of.get(p[0]), f = g1.of.get(p[1]), s = g2.of.get(p[2]);
                float[] joined = new float[w.length];
                for (int bi = 0; bi < 2; bi++) {
                    System.arraycopy(f, bi * k0 * d, joined, bi * l * d, k0 * d);
                    System.arraycopy(s, bi * (l - k0) * d, joined, (bi * l + k0) * d, (l - k0) * d);
                }
                TestArrays.assertClose(what + " per-token", w, joined, 1e-4, 1e-3);
            }
            int gn = n;
            for (float[][] p : new float[][][] {{whole.bArr, first.bArr, second.bArr}, {whole.cArr, first.cArr, second.cArr}}) {
                float[] w = gw.of.get(p[0]), f = g1.of.get(p[1]), s = g2.of.get(p[2]);
                float[] joined = new float[w.length];
                for (int bi = 0; bi < 2; bi++) {
                    System.arraycopy(f, bi * k0 * gn, joined, bi * l * gn, k0 * gn);
                    System.arraycopy(s, bi * (l - k0) * gn, joined, (bi * l + k0) * gn, (l - k0) * gn);
                }
                TestArrays.assertClose(what + " B/C", w, joined, 1e-4, 1e-3);
            }
        }
    }
}
