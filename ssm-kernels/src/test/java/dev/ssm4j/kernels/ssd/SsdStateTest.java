package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The state across calls: step vs forward, and splitting a sequence in two (forward and backward). */
class SsdStateTest {
    static final ForkJoinPool POOL = Parallel.pool(2);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    @ParameterizedTest(name = "b={0} h={1} p={2} g={3} n={4} opts={5}")
    @CsvSource({"3, 4, 5, 2, 7, 7", "1, 1, 1, 1, 1, 0", "2, 3, 16, 1, 128, 5", "2, 6, 17, 3, 33, 2"})
    void stepReproducesForwardTokenByToken(int b, int h, int p, int g, int n, int opts) {
        int l = 9;
        SsdCase c = new SsdCase(b * 100L + n, b, l, h, p, g, n, 4, (opts & 1) != 0, (opts & 2) != 0, (opts & 4) != 0,
                false, true, false);
        double[][] ref = c.reference(c.inputs());
        int hp = h * p, gn = g * n;
        for (Ssd.Impl impl : new Ssd.Impl[] {Ssd.Impl.SCALAR, Ssd.Impl.RECURRENT, Ssd.Impl.AUTO}) {
            for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
                float[] state = c.h0.clone();
                float[] y = new float[b * l * hp];
                for (int t = 0; t < l; t++) {
                    // token t of every row, read in place: row bi at (bi·l + t)·width, row stride l·width
                    Ssd.step(impl, y, t * hp, l * hp, state, c.x, t * hp, l * hp, c.dt, t * h, l * h,
                            c.bm, t * gn, l * gn, c.cm, t * gn, l * gn, c.a, c.d, c.dtBias, b, c.cfg, pool);
                }
                TestArrays.assertClose(impl + " step y", ref[0], y, 2e-4, 2e-3);
                TestArrays.assertClose(impl + " step state", ref[1], state, 2e-4, 2e-3);
            }
        }
    }

    /**
     * A step large enough to be split over the pool (b·h above the step's grain of 2¹⁸ state
     * elements per task: 3·24 heads of 64 × 128 make two parts) against the scalar step, on one thread and two,
     * with every option on; odd offsets and strides.
     */
    @Test
    void largeStepSplitOverThePoolMatchesTheScalarStep() {
        int b = 3, h = 24, p = 64, g = 3, n = 128, hp = h * p, gn = g * n, xS = hp + 3, bS = gn + 5;
        SsdConfig cfg = SsdConfig.of(h, p, g, n).withDtLimit(0.01f, 0.5f);
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = TestArrays.normal(rng, 2 + b * xS, 1.0), dt = TestArrays.normal(rng, b * h, 1.0);
        float[] bm = TestArrays.normal(rng, 1 + b * bS, 0.3), cm = TestArrays.normal(rng, 1 + b * bS, 0.3);
        float[] a = new float[h], d = TestArrays.normal(rng, h, 1.0), bias = TestArrays.normal(rng, h, 0.5);
        for (int i = 0; i < h; i++) a[i] = -0.5f - i * 0.125f;
        float[] st0 = TestArrays.normal(rng, b * h * p * n, 0.5);
        float[] yRef = new float[b * hp], stRef = st0.clone();
        Ssd.step(Ssd.Impl.SCALAR, yRef, 0, hp, stRef, x, 2, xS, dt, 0, h, bm, 1, bS, cm, 1, bS, a, d, bias, b, cfg, null);
        for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
            float[] y = new float[b * hp], st = st0.clone();
            Ssd.step(Ssd.Impl.RECURRENT, y, 0, hp, st, x, 2, xS, dt, 0, h, bm, 1, bS, cm, 1, bS, a, d, bias, b, cfg, pool);
            TestArrays.assertClose("step y, pool " + pool, yRef, y, 1e-5, 1e-4);
            TestArrays.assertClose("step state, pool " + pool, stRef, st, 1e-5, 1e-4);
        }
    }

    /** Dense single-row problem for the split tests. */
    record Dense(SsdConfig cfg, int l, float[] x, float[] dt, float[] bm, float[] cm, float[] a, float[] d,
                 float[] bias, float[] h0) {}

    static Dense dense(long seed, int l, int h, int p, int g, int n, int q) {
        SsdCase c = new SsdCase(seed, 1, l, h, p, g, n, q, true, true, true, true, true, false);
        return new Dense(c.cfg, l, c.x, c.dt, c.bm, c.cm, c.a, c.d, c.dtBias, c.h0);
    }

    /** Forward of tokens [t0, t1) starting from {@code h0}; returns y and writes fin. */
    static float[] forward(Ssd.Impl impl, Dense s, int t0, int t1, float[] h0, float[] fin) {
        SsdConfig cfg = s.cfg();
        int hp = cfg.xWidth(), gn = cfg.bcWidth(), h = cfg.heads();
        float[] y = new float[(t1 - t0) * hp];
        Ssd.forward(impl, y, 0, hp, fin, s.x(), t0 * hp, hp, s.dt(), t0 * h, h, s.bm(), t0 * gn, gn, s.cm(), t0 * gn, gn,
                h0, null, s.a(), s.d(), s.bias(), 1, t1 - t0, cfg, null, POOL);
        return y;
    }

    @ParameterizedTest(name = "l={0} k={1} Q={2}")
    @CsvSource({"37, 16, 8", "37, 1, 4", "37, 36, 16", "40, 20, 64", "5, 0, 4", "64, 32, 16"})
    void splittingASequenceCarriesTheState(int l, int k, int q) {
        Dense s = dense(l * 7L + k, l, 3, 5, 1, 6, q);
        int hpn = s.h0().length;
        for (Ssd.Impl impl : new Ssd.Impl[] {Ssd.Impl.SCALAR, Ssd.Impl.RECURRENT, Ssd.Impl.CHUNKED_SCALAR, Ssd.Impl.CHUNKED}) {
            float[] fin = new float[hpn], fin1 = new float[hpn], fin2 = new float[hpn];
            float[] whole = forward(impl, s, 0, l, s.h0(), fin);
            float[] first = forward(impl, s, 0, k, s.h0(), fin1);
            float[] second = forward(impl, s, k, l, fin1, fin2);
            float[] joined = Arrays.copyOf(first, whole.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            TestArrays.assertClose(impl + " split y", whole, joined, 1e-5, 1e-4);
            TestArrays.assertClose(impl + " split final", fin, fin2, 1e-5, 1e-4);
        }
    }

    @ParameterizedTest(name = "l={0} k={1} Q={2}")
    @CsvSource({"37, 16, 8", "37, 1, 4", "23, 22, 16", "40, 20, 64"})
    void splittingTheBackward(int l, int k, int q) {
        Dense s = dense(l * 3L + k, l, 4, 3, 2, 5, q);
        SsdConfig cfg = s.cfg();
        int hp = cfg.xWidth(), gn = cfg.bcWidth(), h = cfg.heads(), hpn = s.h0().length;
        SplittableRandom rng = new SplittableRandom(k);
        float[] dy = TestArrays.normal(rng, l * hp, 1.0), dfin = TestArrays.normal(rng, hpn, 1.0);
        for (Ssd.Impl impl : new Ssd.Impl[] {Ssd.Impl.SCALAR, Ssd.Impl.CHUNKED_SCALAR, Ssd.Impl.CHUNKED}) {
            Grads whole = new Grads(l, cfg);
            whole.run(impl, s, 0, l, s.h0(), dy, 0, dfin);
            float[] fin1 = new float[hpn];
            forward(impl, s, 0, k, s.h0(), fin1);
            Grads split = new Grads(l, cfg);
            split.run(impl, s, k, l, fin1, dy, k * hp, dfin);  // second part first: its dh0 is the first's dFinal
            float[] dMid = split.dh0.clone();
            Arrays.fill(split.dh0, 0f);
            split.run(impl, s, 0, k, s.h0(), dy, 0, dMid);
            TestArrays.assertClose(impl + " split dx", whole.dx, split.dx, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split ddt", whole.ddt, split.ddt, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dB", whole.dB, split.dB, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dC", whole.dC, split.dC, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dA", whole.dA, split.dA, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dD", whole.dD, split.dD, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dDtBias", whole.dBias, split.dBias, 1e-4, 1e-3);
            TestArrays.assertClose(impl + " split dh0", whole.dh0, split.dh0, 1e-4, 1e-3);
        }
    }

    /** Gradient buffers over the whole length; a run over [t0, t1) adds into its slice. */
    static final class Grads {
        final float[] dx, ddt, dB, dC, dA, dD, dBias, dh0;
        final SsdConfig cfg;

        Grads(int l, SsdConfig cfg) {
            this.cfg = cfg;
            dx = new float[l * cfg.xWidth()];
            ddt = new float[l * cfg.heads()];
            dB = new float[l * cfg.bcWidth()];
            dC = new float[l * cfg.bcWidth()];
            dA = new float[cfg.heads()];
            dD = new float[cfg.heads()];
            dBias = new float[cfg.heads()];
            dh0 = new float[cfg.stateSize()];
        }

        void run(Ssd.Impl impl, Dense s, int t0, int t1, float[] h0, float[] dy, int dyOff, float[] dfin) {
            int hp = cfg.xWidth(), gn = cfg.bcWidth(), h = cfg.heads();
            Ssd.backward(impl, dx, t0 * hp, hp, ddt, t0 * h, h, dB, t0 * gn, gn, dC, t0 * gn, gn, dA, dD, dBias, dh0,
                    dy, dyOff, hp, dfin, s.x(), t0 * hp, hp, s.dt(), t0 * h, h, s.bm(), t0 * gn, gn, s.cm(), t0 * gn, gn,
                    h0, null, s.a(), s.d(), s.bias(), 1, t1 - t0, cfg, null, POOL);
        }
    }
}
