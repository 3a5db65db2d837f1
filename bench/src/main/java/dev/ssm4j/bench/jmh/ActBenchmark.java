package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.act.Activation;
import dev.ssm4j.kernels.act.Activations;
import dev.ssm4j.kernels.act.ActivationsScalar;
import dev.ssm4j.kernels.act.Residual;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Pointwise kernels on n = b·l·d = 2048 × 1536 floats (12.6 MB per tensor, out of cache): an
 * activation ({@code fn}, SiLU by default) forward and backward, and the residual add.
 * impl=simd goes through the dispatcher (so threads apply); impl=scalar calls the scalar twin.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsPrepend = {"-XX:-BackgroundCompilation"}, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ActBenchmark {
    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1"})
    public int threads;

    @Param({"3145728"})
    public int n;

    @Param({"SILU"})
    public String fn;

    float[] x, y, dx, dy;
    Activation f;
    ForkJoinPool pool;
    boolean scalar;

    @Setup
    public void setup() {
        scalar = ConvBenchmark.scalarImpl(impl, threads);
        f = Activation.valueOf(fn);
        SplittableRandom rng = new SplittableRandom(3);
        x = ConvBenchmark.random(rng, n);
        dy = ConvBenchmark.random(rng, n);
        y = new float[n];
        dx = new float[n];
        pool = Parallel.pool(threads);
    }

    @TearDown
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float[] forward() {
        if (scalar) ActivationsScalar.forward(f, y, 0, x, 0, n);
        else Activations.forward(f, y, 0, x, 0, n, pool);
        return y;
    }

    @Benchmark
    public float[] backward() {
        if (scalar) ActivationsScalar.backward(f, dx, 0, dy, 0, x, 0, n);
        else Activations.backward(f, dx, 0, dy, 0, x, 0, n, pool);
        return dx;
    }

    @Benchmark
    public float[] residualAdd() {
        if (scalar) Residual.addScalar(y, 0, x, 0, dy, 0, n);
        else Residual.add(y, 0, x, 0, dy, 0, n, pool);
        return y;
    }
}
