package dev.ssm4j.kernels.ssd;

import static org.junit.jupiter.api.Assertions.fail;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every backward implementation against central finite differences of the double-precision
 * recurrence (loss L = Σ y·dy + Σ final·dFinal), for every gradient.
 */
class SsdBackwardTest {
    static final ForkJoinPool POOL = Parallel.pool(2);
    static final Ssd.Impl[] BACKWARDS = {Ssd.Impl.SCALAR, Ssd.Impl.CHUNKED_SCALAR, Ssd.Impl.CHUNKED, Ssd.Impl.AUTO};

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    /** Finite-difference gradients of every input of the case. */
    record Fd(double[] dx, double[] ddt, double[] dA, double[] dB, double[] dC, double[] dD, double[] dBias,
              double[] dh0) {}

    static Fd finiteDifferences(SsdCase c, double[] dy, double[] dfin) {
        SsdCase.Inputs in = c.inputs();
        double h = 1e-5;
        ToDoubleFunction<double[]> any = v -> c.loss(in, dy, dfin);
        // each input array is perturbed in place inside `in`; the lambda re-reads it
        double[] dx = FiniteDifference.gradient(in.x(), h, any);
        double[] ddt = FiniteDifference.gradient(in.dt(), h, any);
        double[] dA = FiniteDifference.gradient(in.a(), h, any);
        double[] dB = FiniteDifference.gradient(in.bm(), h, any);
        double[] dC = FiniteDifference.gradient(in.cm(), h, any);
        double[] dD = in.d() == null ? null : FiniteDifference.gradient(in.d(), h, any);
        double[] dBias = in.bias() == null ? null : FiniteDifference.gradient(in.bias(), h, any);
        double[] dh0 = FiniteDifference.gradient(in.h0() == null ? new double[c.b * c.h * c.p * c.n] : in.h0(), h,
                in.h0() == null ? v -> c.loss(withH0(in, v), dy, dfin) : any);
        return new Fd(dx, ddt, dA, dB, dC, dD, dBias, dh0);
    }

    static SsdCase.Inputs withH0(SsdCase.Inputs in, double[] h0) {
        return new SsdCase.Inputs(in.x(), in.dt(), in.a(), in.bm(), in.cm(), in.d(), in.bias(), h0);
    }

    /** Errors scale with the largest gradient entry: atol = 2e-3·max|g| (float accumulation), rtol 1e-2. */
    static void assertGrad(String what, double[] expected, float[] actual) {
        double m = 0;
        for (double e : expected) m = Math.max(m, Math.abs(e));
        TestArrays.assertClose(what, expected, actual, 2e-3 * Math.max(m, 1e-3), 1e-2);
    }

    static void check(SsdCase c, long seed, boolean withDfin, Ssd.Impl[] impls) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] dy = TestArrays.normal(rng, c.b * c.l * c.h * c.p, 1.0);
        float[] dfin = withDfin ? TestArrays.normal(rng, c.b * c.h * c.p * c.n, 1.0) : null;
        Fd fd = finiteDifferences(c, TestArrays.toDouble(dy), dfin == null ? null : TestArrays.toDouble(dfin));
        SsdWorkspace ws = new SsdWorkspace();
        for (Ssd.Impl impl : impls) {
            for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
                String w = impl + (pool == null ? "" : " 2 threads") + " ";
                SsdCase.Grads g = c.backward(impl, dy, dfin, ws, pool);
                assertGrad(w + "dx", fd.dx(), g.dx());
                assertGrad(w + "ddt", fd.ddt(), g.ddt());
                assertGrad(w + "dA", fd.dA(), g.dA());
                assertGrad(w + "dB", fd.dB(), g.dB());
                assertGrad(w + "dC", fd.dC(), g.dC());
                if (fd.dD() != null) assertGrad(w + "dD", fd.dD(), g.dD());
                if (fd.dBias() != null) assertGrad(w + "dDtBias", fd.dBias(), g.dDtBias());
                assertGrad(w + "dh0", fd.dh0(), g.dh0());
            }
        }
    }

    @ParameterizedTest(name = "b={0} l={1} h={2} p={3} g={4} n={5} Q={6} opts={7}")
    @CsvSource({
            "1, 1, 1, 1, 1, 1, 1, 63",
            "2, 7, 3, 5, 1, 7, 4, 63",
            "1, 13, 4, 3, 2, 5, 4, 0",
            "2, 11, 2, 17, 2, 3, 16, 21",
            "1, 19, 3, 4, 3, 6, 5, 42",
            "2, 9, 4, 2, 1, 18, 3, 27",
            "1, 37, 2, 3, 1, 4, 16, 45",
            "1, 23, 2, 33, 2, 2, 64, 54",
            "1, 21, 2, 16, 1, 9, 8, 31",
            "2, 13, 2, 32, 2, 3, 4, 60",
            "1, 70, 2, 16, 1, 8, 32, 23",
    })
    void matchesFiniteDifferences(int b, int l, int h, int p, int g, int n, int q, int opts) {
        SsdCase c = new SsdCase(97L * l + q, b, l, h, p, g, n, q, (opts & 1) != 0, (opts & 2) != 0,
                (opts & 4) != 0, (opts & 8) != 0, (opts & 16) != 0, (opts & 32) != 0);
        check(c, 5L * l + h, (opts & 1) != 0 || (opts & 16) != 0, BACKWARDS);
    }

    /** Larger shapes (n = 128, p = 64, several chunks): the SIMD backward against the scalar one. */
    @ParameterizedTest(name = "b={0} l={1} h={2} p={3} g={4} n={5} Q={6} opts={7}")
    @CsvSource({
            "1, 200, 2, 16, 2, 128, 64, 63",
            "2, 37, 4, 64, 1, 32, 16, 21",
            "1, 130, 3, 5, 3, 17, 64, 46",
    })
    void simdMatchesScalarOnLargerShapes(int b, int l, int h, int p, int g, int n, int q, int opts) {
        SsdCase c = new SsdCase(3L * l + n, b, l, h, p, g, n, q, (opts & 1) != 0, (opts & 2) != 0,
                (opts & 4) != 0, (opts & 8) != 0, (opts & 16) != 0, (opts & 32) != 0);
        SplittableRandom rng = new SplittableRandom(l);
        float[] dy = TestArrays.normal(rng, b * l * h * p, 1.0);
        float[] dfin = TestArrays.normal(rng, b * h * p * n, 1.0);
        SsdCase.Grads ref = c.backward(Ssd.Impl.SCALAR, dy, dfin, null, null);
        for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
            SsdCase.Grads g2 = c.backward(Ssd.Impl.CHUNKED, dy, dfin, new SsdWorkspace(), pool);
            String w = "CHUNKED" + (pool == null ? " " : " 2 threads ");
            assertGrad(w + "dx", TestArrays.toDouble(ref.dx()), g2.dx());
            assertGrad(w + "ddt", TestArrays.toDouble(ref.ddt()), g2.ddt());
            assertGrad(w + "dA", TestArrays.toDouble(ref.dA()), g2.dA());
            assertGrad(w + "dB", TestArrays.toDouble(ref.dB()), g2.dB());
            assertGrad(w + "dC", TestArrays.toDouble(ref.dC()), g2.dC());
            assertGrad(w + "dD", TestArrays.toDouble(ref.dD()), g2.dD());
            assertGrad(w + "dDtBias", TestArrays.toDouble(ref.dDtBias()), g2.dDtBias());
            assertGrad(w + "dh0", TestArrays.toDouble(ref.dh0()), g2.dh0());
        }
    }

    /** With a tiny checkpoint budget the backward runs the heads in blocks: same gradients. */
    @Test
    void headBlocksGiveTheSameGradients() {
        SsdCase c = new SsdCase(99, 2, 45, 6, 5, 2, 7, 8, true, true, true, false, true, true);
        SplittableRandom rng = new SplittableRandom(9);
        float[] dy = TestArrays.normal(rng, c.b * c.l * c.h * c.p, 1.0);
        float[] dfin = TestArrays.normal(rng, c.b * c.h * c.p * c.n, 1.0);
        SsdCase.Grads whole = c.backward(Ssd.Impl.CHUNKED, dy, dfin, null, null);
        long saved = SsdChunkedBackward.checkpointBudget;
        try {
            SsdChunkedBackward.checkpointBudget = 1; // one head per block
            for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
                SsdCase.Grads blocks = c.backward(Ssd.Impl.CHUNKED, dy, dfin, null, pool);
                assertGrad("blocks dx", TestArrays.toDouble(whole.dx()), blocks.dx());
                assertGrad("blocks ddt", TestArrays.toDouble(whole.ddt()), blocks.ddt());
                assertGrad("blocks dA", TestArrays.toDouble(whole.dA()), blocks.dA());
                assertGrad("blocks dB", TestArrays.toDouble(whole.dB()), blocks.dB());
                assertGrad("blocks dC", TestArrays.toDouble(whole.dC()), blocks.dC());
                assertGrad("blocks dh0", TestArrays.toDouble(whole.dh0()), blocks.dh0());
            }
        } finally {
            SsdChunkedBackward.checkpointBudget = saved;
        }
    }

    @Test
    void packedSequences() {
        SsdCase c = new SsdCase(11, 2, 17, 2, 3, 1, 4, 4, true, true, true, true, true, true);
        c.cu = new int[][] {{0, 3, 4, 11, 17}, {0, 16, 17}};
        check(c, 12, true, BACKWARDS);
    }

    @Test
    void withoutFinalStateGradient() {
        SsdCase c = new SsdCase(13, 1, 15, 2, 4, 2, 3, 6, true, false, true, false, true, false);
        check(c, 14, false, BACKWARDS);
    }

    @Test
    void noRecurrentBackward() {
        SsdCase c = new SsdCase(1, 1, 3, 1, 1, 1, 1, 1, false, false, true, false, false, false);
        try {
            c.backward(Ssd.Impl.RECURRENT, new float[3], null, null, null);
            fail("RECURRENT has no backward");
        } catch (IllegalArgumentException expected) {
            // documented
        }
    }
}
