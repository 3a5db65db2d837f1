package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.norm.RmsNormScalar;
import dev.ssm4j.kernels.norm.RmsNormSimd;
import dev.ssm4j.kernels.norm.RmsNormSimdBackward;
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
 * RMSNorm (d = 768, 1536) and Mamba-2's gated group RMSNorm over rows = b·l = 2048 tokens,
 * forward and backward. {@code groups} sets the gated norm's groupSize = d / groups.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsPrepend = {"-XX:-BackgroundCompilation"}, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class NormBenchmark {
    static final float EPS = 1e-5f;

    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1"})
    public int threads;

    @Param({"2048"})
    public int rows;

    @Param({"768", "1536"})
    public int d;

    @Param({"1"})
    public int groups;

    float[] x, z, y, weight, rstd, dx, dz, dy, dweight;
    ForkJoinPool pool;
    boolean scalar;

    @Setup
    public void setup() {
        scalar = ConvBenchmark.scalarImpl(impl, threads);
        SplittableRandom rng = new SplittableRandom(2);
        x = ConvBenchmark.random(rng, rows * d);
        z = ConvBenchmark.random(rng, rows * d);
        dy = ConvBenchmark.random(rng, rows * d);
        weight = ConvBenchmark.random(rng, d);
        y = new float[rows * d];
        dx = new float[rows * d];
        dz = new float[rows * d];
        dweight = new float[d];
        rstd = new float[rows * groups];
        pool = Parallel.pool(threads);
        RmsNormScalar.forward(y, 0, d, rstd, x, 0, d, null, 0, d, weight, rows, d, d, EPS);
    }

    @TearDown
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float[] rmsForward() {
        if (scalar) RmsNormScalar.forward(y, 0, d, rstd, x, 0, d, null, 0, d, weight, rows, d, d, EPS);
        else RmsNormSimd.forward(y, 0, d, rstd, x, 0, d, null, 0, d, weight, rows, d, d, EPS, pool);
        return y;
    }

    @Benchmark
    public float[] rmsBackward() {
        if (scalar) RmsNormScalar.backward(dx, 0, d, null, 0, d, dweight, dy, 0, d, x, 0, d, null, 0, d, rstd, weight, rows, d, d, EPS);
        else RmsNormSimdBackward.backward(dx, 0, d, null, 0, d, dweight, dy, 0, d, x, 0, d, null, 0, d, rstd, weight, rows, d, d,
                EPS, pool);
        return dx;
    }

    @Benchmark
    public float[] gatedForward() {
        int gs = d / groups;
        if (scalar) RmsNormScalar.forward(y, 0, d, rstd, x, 0, d, z, 0, d, weight, rows, d, gs, EPS);
        else RmsNormSimd.forward(y, 0, d, rstd, x, 0, d, z, 0, d, weight, rows, d, gs, EPS, pool);
        return y;
    }

    @Benchmark
    public float[] gatedBackward() {
        int gs = d / groups;
        if (scalar) RmsNormScalar.backward(dx, 0, d, dz, 0, d, dweight, dy, 0, d, x, 0, d, z, 0, d, rstd, weight, rows, d, gs, EPS);
        else RmsNormSimdBackward.backward(dx, 0, d, dz, 0, d, dweight, dy, 0, d, x, 0, d, z, 0, d, rstd, weight, rows, d, gs,
                EPS, pool);
        return dx;
    }
}
