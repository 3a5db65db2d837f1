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
 * Mamba-2 SSD backward (every gradient, accumulated) at the shapes of {@link SsdForwardBenchmark}:
 * the chunked SIMD backward against the scalar reverse recurrence.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SsdBackwardBenchmark {
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

    float[] x, dt, bm, cm, a, d, dtBias, dy;
    float[] dx, ddt, dB, dC, dA, dD, dDtBias;
    SsdConfig cfg;
    SsdWorkspace ws;
    ForkJoinPool pool;

    @Setup(Level.Trial)
    public void setup() {
        cfg = SsdConfig.of(h, p, g, n).withChunk(chunk);
        SplittableRandom rng = new SplittableRandom(42);
        x = SsdForwardBenchmark.normal(rng, b * l * h * p, 1.0);
        dt = SsdForwardBenchmark.uniform(rng, b * l * h, -4.0, -1.0);
        bm = SsdForwardBenchmark.normal(rng, b * l * g * n, 0.3);
        cm = SsdForwardBenchmark.normal(rng, b * l * g * n, 0.3);
        a = new float[h];
        for (int i = 0; i < h; i++) a[i] = (float) -Math.exp(rng.nextDouble() * Math.log(16));
        d = SsdForwardBenchmark.normal(rng, h, 1.0);
        dtBias = SsdForwardBenchmark.uniform(rng, h, -0.5, 0.5);
        dy = SsdForwardBenchmark.normal(rng, b * l * h * p, 1.0);
        dx = new float[x.length];
        ddt = new float[dt.length];
        dB = new float[bm.length];
        dC = new float[cm.length];
        dA = new float[h];
        dD = new float[h];
        dDtBias = new float[h];
        ws = new SsdWorkspace();
        pool = Parallel.pool(threads);
        int hp = h * p, gn = g * n, lw = Math.min(l, 2 * chunk);
        SsdForwardBenchmark.warmUp(() -> Ssd.backward(Ssd.Impl.CHUNKED, dx, 0, hp, ddt, 0, h, dB, 0, gn, dC, 0, gn, dA, dD,
                dDtBias, null, dy, 0, hp, null, x, 0, hp, dt, 0, h, bm, 0, gn, cm, 0, gn, null, null, a, d, dtBias, 1, lw,
                cfg, ws, pool));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    void run(Ssd.Impl impl) {
        int hp = h * p, gn = g * n;
        Ssd.backward(impl, dx, 0, hp, ddt, 0, h, dB, 0, gn, dC, 0, gn, dA, dD, dDtBias, null, dy, 0, hp, null,
                x, 0, hp, dt, 0, h, bm, 0, gn, cm, 0, gn, null, null, a, d, dtBias, b, l, cfg, ws, pool);
    }

    @Benchmark
    public float[] chunked() {
        run(Ssd.Impl.CHUNKED);
        return dx;
    }

    @Benchmark
    public float[] scalar() {
        run(Ssd.Impl.SCALAR);
        return dx;
    }
}
