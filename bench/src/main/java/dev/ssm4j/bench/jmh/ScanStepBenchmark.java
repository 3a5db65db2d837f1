package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScanScalar;
import dev.ssm4j.kernels.scan.SelectiveScanSimd;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
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
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ScanStepBenchmark {
    /** "b x d x n". */
    @Param({"1x1536x16"})
    public String shape;

    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    ForkJoinPool pool;
    ScanTensors io;
    float[] state, y;
    boolean simd;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        int b = Integer.parseInt(p[0]), d = Integer.parseInt(p[1]), n = Integer.parseInt(p[2]);
        simd = switch (impl) {
            case "simd" -> true;
            case "scalar" -> false;
            default -> throw new IllegalArgumentException("impl must be simd or scalar, got " + impl);
        };
        pool = Parallel.pool(threads);
        if (simd) ScanWarmup.run(true, "step", 20000); // the scalar twin has no Vector API code to wait for
        SplittableRandom rng = new SplittableRandom(2);
        int r = (d + 15) / 16;
        float[] xz = ScanBenchmark.normal(rng, b * 2 * d, 1f);
        float[] xdbl = ScanBenchmark.normal(rng, b * (r + 2 * n), 1f);
        float[] a = new float[d * n];
        for (int c = 0; c < d; c++) for (int s = 0; s < n; s++) a[c * n + s] = -(s + 1);
        y = new float[b * d];
        state = ScanBenchmark.normal(rng, b * d * n, 1f);
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
        if (simd) SelectiveScanSimd.step(io, state, 0, pool);
        else SelectiveScanScalar.step(io, state, 0, pool);
        return y[0] + state[state.length - 1];
    }
}
