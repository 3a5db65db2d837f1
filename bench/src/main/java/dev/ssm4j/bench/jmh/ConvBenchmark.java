package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.conv.CausalConv1dScalar;
import dev.ssm4j.kernels.conv.CausalConv1dSimd;
import dev.ssm4j.kernels.conv.CausalConv1dSimdBackward;
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
 * Causal depthwise conv1d at Mamba model size (b=1, l=2048, d=1536 = d_inner of a 768-wide model, w=4,
 * fused SiLU, with bias): forward, backward (dx, dweight, dbias) and one decoding step (b rows).
 * {@code impl=scalar} runs the single-threaded scalar twin (threads must be 1).
 *
 * <p>The conv/norm/act/loss benchmarks fork with {@code -XX:-BackgroundCompilation}: the benchmark
 * thread waits for each JIT compilation instead of running on meanwhile. On a loaded machine C2 can
 * otherwise take longer than a short run's warm-up, and until then Vector API code runs boxed,
 * 100–1000× slower (measured: a conv step at 8 ms/op and 0.5 MB allocated per op instead of
 * ~13 µs and 0 B). Steady-state code is the same either way.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsPrepend = {"-XX:-BackgroundCompilation"}, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ConvBenchmark {
    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1"})
    public int threads;

    @Param({"1"})
    public int b;

    @Param({"2048"})
    public int l;

    @Param({"1536"})
    public int d;

    @Param({"4"})
    public int w;

    @Param({"true"})
    public boolean silu;

    float[] x, y, weight, bias, dx, dy, dweight, dbias, state, xStep, yStep;
    ForkJoinPool pool;
    boolean scalar;

    @Setup
    public void setup() {
        scalar = ConvBenchmark.scalarImpl(impl, threads);
        SplittableRandom rng = new SplittableRandom(1);
        x = ConvBenchmark.random(rng, b * l * d);
        dy = ConvBenchmark.random(rng, b * l * d);
        y = new float[b * l * d];
        dx = new float[b * l * d];
        weight = ConvBenchmark.random(rng, d * w);
        bias = ConvBenchmark.random(rng, d);
        dweight = new float[d * w];
        dbias = new float[d];
        state = ConvBenchmark.random(rng, b * (w - 1) * d);
        xStep = ConvBenchmark.random(rng, b * d);
        yStep = new float[b * d];
        pool = Parallel.pool(threads);
    }

    @TearDown
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float[] forward() {
        if (scalar) CausalConv1dScalar.forward(y, 0, d, null, 0, x, 0, d, null, 0, null, weight, bias, silu, b, l, d, w);
        else CausalConv1dSimd.forward(y, 0, d, null, 0, x, 0, d, null, 0, null, weight, bias, silu, b, l, d, w, pool);
        return y;
    }

    @Benchmark
    public float[] backward() {
        if (scalar) {
            CausalConv1dScalar.backward(dx, 0, d, null, 0, dweight, dbias, dy, 0, d, null, 0, x, 0, d, null, 0, null, weight,
                    bias, silu, b, l, d, w);
        } else {
            CausalConv1dSimdBackward.backward(dx, 0, d, null, 0, dweight, dbias, dy, 0, d, null, 0, x, 0, d, null, 0, null,
                    weight, bias, silu, b, l, d, w, pool);
        }
        return dx;
    }

    @Benchmark
    public float[] step() {
        if (scalar) CausalConv1dScalar.step(yStep, 0, d, state, 0, xStep, 0, d, weight, bias, silu, b, d, w);
        else CausalConv1dSimd.step(yStep, 0, d, state, 0, xStep, 0, d, weight, bias, silu, b, d, w);
        return yStep;
    }

    /** True for impl=scalar (shared by the conv/norm/act/loss benchmarks); the scalar twins are single-threaded. */
    static boolean scalarImpl(String impl, int threads) {
        boolean scalar = switch (impl) {
            case "scalar" -> true;
            case "simd" -> false;
            default -> throw new IllegalArgumentException("impl must be scalar or simd, got " + impl);
        };
        if (scalar && threads != 1) {
            throw new IllegalArgumentException("the scalar twins are single-threaded: use threads=1 with impl=scalar");
        }
        return scalar;
    }

    /** n floats uniform in [−1, 1). */
    static float[] random(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }
}
