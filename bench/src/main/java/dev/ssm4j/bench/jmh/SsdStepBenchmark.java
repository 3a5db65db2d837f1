package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.ssd.Ssd;
import dev.ssm4j.kernels.ssd.SsdConfig;
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

/** One decoding step of a Mamba-2 SSD layer for b rows: the (b, h, p, n) state is updated in place. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SsdStepBenchmark {
    @Param({"1", "8"})
    public int b;
    @Param({"1", "2"})
    public int threads;
    @Param({"24"})
    public int h;
    @Param({"64"})
    public int p;
    @Param({"128"})
    public int n;
    @Param({"1"})
    public int g;

    float[] x, dt, bm, cm, y, a, d, dtBias, state;
    SsdConfig cfg;
    ForkJoinPool pool;

    @Setup(Level.Trial)
    public void setup() {
        cfg = SsdConfig.of(h, p, g, n);
        SplittableRandom rng = new SplittableRandom(42);
        x = SsdForwardBenchmark.normal(rng, b * h * p, 1.0);
        dt = SsdForwardBenchmark.uniform(rng, b * h, -4.0, -1.0);
        bm = SsdForwardBenchmark.normal(rng, b * g * n, 0.3);
        cm = SsdForwardBenchmark.normal(rng, b * g * n, 0.3);
        a = new float[h];
        for (int i = 0; i < h; i++) a[i] = (float) -Math.exp(rng.nextDouble() * Math.log(16));
        d = SsdForwardBenchmark.normal(rng, h, 1.0);
        dtBias = SsdForwardBenchmark.uniform(rng, h, -0.5, 0.5);
        y = new float[b * h * p];
        state = SsdForwardBenchmark.normal(rng, b * h * p * n, 0.1);
        pool = Parallel.pool(threads);
        SsdForwardBenchmark.warmUp(() -> run(Ssd.Impl.RECURRENT));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    void run(Ssd.Impl impl) {
        int hp = h * p, gn = g * n;
        Ssd.step(impl, y, 0, hp, state, x, 0, hp, dt, 0, h, bm, 0, gn, cm, 0, gn, a, d, dtBias, b, cfg, pool);
    }

    @Benchmark
    public float[] simd() {
        run(Ssd.Impl.RECURRENT);
        return y;
    }

    @Benchmark
    public float[] scalar() {
        run(Ssd.Impl.SCALAR);
        return y;
    }
}
