package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.ssd.Ssd;
import dev.ssm4j.kernels.ssd.SsdConfig;
import dev.ssm4j.kernels.ssd.SsdWorkspace;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Mamba-2 SSD forward over a (b, l) batch: the chunked SIMD algorithm against the plain
 * recurrence (SIMD and scalar). Default shape: one row of a Mamba-2 layer with 24 heads of 64
 * channels, state 128, one group (e.g. d_model 768, expand 2), chunk 64.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SsdForwardBenchmark {
    @Param({"2048", "512", "256"})
    public int l;
    @Param({"1", "2"})
    public int threads;
    @Param({"1"})
    public int b;
    @Param({"24"})
    public int h;
    @Param({"64"})
    public int p;
    @Param({"128"})
    public int n;
    @Param({"1"})
    public int g;
    @Param({"64"})
    public int chunk;

    float[] x, dt, bm, cm, y, a, d, dtBias, fin;
    SsdConfig cfg;
    SsdWorkspace ws;
    ForkJoinPool pool;

    @Setup(Level.Trial)
    public void setup() {
        cfg = SsdConfig.of(h, p, g, n).withChunk(chunk);
        SplittableRandom rng = new SplittableRandom(42);
        x = normal(rng, b * l * h * p, 1.0);
        dt = uniform(rng, b * l * h, -4.0, -1.0);
        bm = normal(rng, b * l * g * n, 0.3);
        cm = normal(rng, b * l * g * n, 0.3);
        a = new float[h];
        for (int i = 0; i < h; i++) a[i] = (float) -Math.exp(rng.nextDouble() * Math.log(16));
        d = normal(rng, h, 1.0);
        dtBias = uniform(rng, h, -0.5, 0.5);
        y = new float[b * l * h * p];
        fin = new float[b * h * p * n];
        ws = new SsdWorkspace();
        pool = Parallel.pool(threads);
        warmUp(() -> {
            small(Ssd.Impl.CHUNKED);
            small(Ssd.Impl.RECURRENT);
        });
        warmUp(() -> {
            run(Ssd.Impl.CHUNKED);
            run(Ssd.Impl.RECURRENT);
        });
    }

    /**
     * The same call on the first 2·chunk tokens (at most l), to get the JIT going cheaply; the
     * full-size calls then run compiled code and settle the rest (longer loops, other profiles).
     */
    void small(Ssd.Impl impl) {
        int hp = h * p, gn = g * n;
        // one batch row and no final state: fin holds b rows, and its length is checked against the call
        Ssd.forward(impl, y, 0, hp, null, x, 0, hp, dt, 0, h, bm, 0, gn, cm, 0, gn, null, null, a, d, dtBias, 1,
                Math.min(l, 2 * chunk), cfg, ws, pool);
    }

    /**
     * Repeats {@code call} (a small problem) until the JIT is done with it: in rounds of 0.5 s,
     * until a round's fastest call is within 5 % of the previous round's and the JIT compilers
     * spent less than 5 % of the round compiling (and at least 3 s, at most 30 s). Until C2 has
     * compiled them, Vector API loops run interpreted thousands of times slower (and C1-compiled,
     * with every vector boxed, still several times slower) — one full-size chunked forward then
     * takes seconds, longer than the whole warm-up of ./ssm bench. The compile-time condition
     * matters on a loaded machine: with C2's queue long, the tiered policy raises its thresholds
     * and a hot kernel can stay in C1 code for seconds, a plateau in which consecutive rounds are
     * equally fast (seen: the chunked forward at l = 256 reported 4× slow, 24 MB allocated per call).
     * Not timed by JMH.
     */
    static void warmUp(Runnable call) {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean jitTime = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime(), previous = Long.MAX_VALUE;
        while (true) {
            long roundStart = System.nanoTime(), roundEnd = roundStart + 500_000_000L, best = Long.MAX_VALUE;
            long compiled0 = jitTime ? jit.getTotalCompilationTime() : 0;
            do {
                long t0 = System.nanoTime();
                call.run();
                best = Math.min(best, System.nanoTime() - t0);
            } while (System.nanoTime() < roundEnd);
            long now = System.nanoTime(), elapsed = now - start;
            long compilingMs = jitTime ? jit.getTotalCompilationTime() - compiled0 : 0;
            boolean jitQuiet = compilingMs * 1_000_000L < (now - roundStart) / 20;
            if ((elapsed > 3_000_000_000L && best >= previous * 0.95 && jitQuiet) || elapsed > 30_000_000_000L) return;
            previous = Math.min(previous, best);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    void run(Ssd.Impl impl) {
        int hp = h * p, gn = g * n;
        Ssd.forward(impl, y, 0, hp, fin, x, 0, hp, dt, 0, h, bm, 0, gn, cm, 0, gn, null, null, a, d, dtBias, b, l, cfg,
                ws, pool);
    }

    @Benchmark
    public float[] chunked() {
        run(Ssd.Impl.CHUNKED);
        return y;
    }

    @Benchmark
    public float[] recurrent() {
        run(Ssd.Impl.RECURRENT);
        return y;
    }

    @Benchmark
    public float[] scalar() {
        run(Ssd.Impl.SCALAR);
        return y;
    }

    static float[] normal(SplittableRandom rng, int len, double std) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return v;
    }

    static float[] uniform(SplittableRandom rng, int len, double lo, double hi) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return v;
    }
}
