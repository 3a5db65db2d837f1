package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScanScalar;
import dev.ssm4j.kernels.scan.SelectiveScanSimdStep;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One decoding step of the selective scan: the (b, d, n) state updated in place, in the Mamba
 * block configuration (softplus, Δbias, D, z). Elements per op = b·d·n. The state keeps evolving
 * from call to call (it stays bounded: exp(Δ'A) &lt; 1), so no call is the same as the last. The
 * setup first warms the JIT up on a tiny problem ({@link ScanWarmup}).
 *
 * <p>{@code impl=traffic} is the floor the step is compared with: it reads and writes the same
 * state bytes (one vector FMA per vector, so the loop is pure load/store) and nothing else.
 * {@code states} is how many distinct (b, d, n) states the calls rotate through: 1 keeps the
 * state hot in L2 (96 KiB at the default shape); 24, like decoding a 24-layer model where each
 * layer's state comes back after the other 23, puts 2.3 MiB between two visits of one state
 * (beyond L2, inside L3).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ScanStepBenchmark {
    /** "b x d x n". */
    @Param({"1x1536x16"})
    public String shape;

    @Param({"simd", "scalar", "traffic"})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    /** Distinct states the calls rotate through (1: hot in cache; 24: like a 24-layer model). */
    @Param({"1", "24"})
    public int states;

    ForkJoinPool pool;
    /** Whether the step splits this shape over the pool; the traffic floor is split only when it does. */
    boolean split;
    ScanTensors io;
    float[][] stateSet;
    float[] y;
    int next;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        int b = Integer.parseInt(p[0]), d = Integer.parseInt(p[1]), n = Integer.parseInt(p[2]);
        if (!impl.equals("simd") && !impl.equals("scalar") && !impl.equals("traffic")) {
            throw new IllegalArgumentException("impl must be simd, scalar or traffic, got " + impl);
        }
        if (states < 1) throw new IllegalArgumentException("states must be >= 1, got " + states);
        pool = Parallel.pool(threads);
        split = SelectiveScanSimdStep.splits(b, d);
        if (impl.equals("simd")) ScanWarmup.run(true, "step", 20000); // the scalar twin has no Vector API code to wait for
        if (impl.equals("traffic")) { // Vector API code too: get it compiled before JMH's warm-up starts
            float[] tiny = new float[1024];
            for (int i = 0; i < 20000; i++) traffic(tiny, null);
        }
        SplittableRandom rng = new SplittableRandom(2);
        int r = (d + 15) / 16;
        float[] xz = ScanBenchmark.normal(rng, b * 2 * d, 1f);
        float[] xdbl = ScanBenchmark.normal(rng, b * (r + 2 * n), 1f);
        float[] a = new float[d * n];
        for (int c = 0; c < d; c++) for (int s = 0; s < n; s++) a[c * n + s] = -(s + 1);
        y = new float[b * d];
        stateSet = new float[states][];
        for (int i = 0; i < states; i++) stateSet[i] = ScanBenchmark.normal(rng, b * d * n, 1f);
        io = new ScanTensors(ScanSpec.step(b, d, n).deltaSoftplus(true)).u(xz, 0, 2 * d).z(xz, d, 2 * d)
                .delta(ScanBenchmark.normal(rng, b * d, 1f)).B(xdbl, r, r + 2 * n).C(xdbl, r + n, r + 2 * n).A(a)
                .D(ScanBenchmark.normal(rng, d, 1f)).deltaBias(ScanBenchmark.normal(rng, d, 0.5f)).y(y);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float step() {
        float[] state = stateSet[next];
        next = next + 1 == stateSet.length ? 0 : next + 1;
        switch (impl) {
            case "simd" -> SelectiveScanSimdStep.step(io, state, 0, pool);
            case "scalar" -> SelectiveScanScalar.step(io, state, 0, pool);
            default -> traffic(state, split ? pool : null);
        }
        return y[0] + state[state.length - 1];
    }

    private static final VectorSpecies<Float> F = KernelConfig.F;

    /**
     * The state-traffic floor: every float of the state read and written once, h ← 0.5·h + 0.25
     * (bounded, and not a copy the JIT could drop), split over the pool's threads (given only when the
     * step itself splits: a one-row step runs on the calling thread, and so does its floor).
     */
    public static void traffic(float[] state, ForkJoinPool pool) {
        int parts = Parallel.threads(pool), chunk = (state.length / parts + F.length() - 1) / F.length() * F.length();
        Parallel.forRange(pool, parts, 1, (start, end) -> {
            for (int p = start; p < end; p++) trafficRange(state, p * chunk, Math.min(state.length, (p + 1) * chunk));
        });
    }

    private static void trafficRange(float[] h, int from, int to) {
        FloatVector half = FloatVector.broadcast(F, 0.5f), quarter = FloatVector.broadcast(F, 0.25f);
        int i = from;
        for (int bound = from + F.loopBound(Math.max(0, to - from)); i < bound; i += F.length()) {
            FloatVector.fromArray(F, h, i).fma(half, quarter).intoArray(h, i);
        }
        for (; i < to; i++) h[i] = h[i] * 0.5f + 0.25f;
    }
}
