package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;

import java.util.SplittableRandom;
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
 * Memory-speed baselines for the memory-bound kernels, same bytes as the kernel they stand beside
 * in {@code ./ssm bench conv}: {@code copy} reads n floats and writes n (the conv forward: read x,
 * write y; an activation), {@code add} reads 2·n and writes n (the residual add), {@code triad} reads
 * 3·n and writes n (the conv backward: read x, dy, dx, write dx; an activation's backward). Plain
 * loops that C2 vectorises; what a kernel with no arithmetic at all would reach. With
 * {@code threads} > 1 the arrays are cut into that many contiguous parts run on a pool, so a
 * multithreaded kernel is compared with what the same threads can stream.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MemoryBenchmark {
    @Param({"3145728"})
    public int n;

    @Param({"1"})
    public int threads;

    float[] a, b, c;
    ForkJoinPool pool;

    @Setup
    public void setup() {
        SplittableRandom rng = new SplittableRandom(1);
        a = ConvBenchmark.random(rng, n);
        b = ConvBenchmark.random(rng, n);
        c = new float[n];
        pool = Parallel.pool(threads);
    }

    @TearDown
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    /** Runs body over [0, n) cut into {@code threads} contiguous parts. */
    private void parts(Parallel.RangeBody body) {
        int k = Parallel.threads(pool), chunk = (n + k - 1) / k;
        Parallel.forRange(pool, k, 1, (s, e) -> {
            for (int p = s; p < e; p++) body.run(p * chunk, Math.min(n, (p + 1) * chunk));
        });
    }

    /** c = a: 4n bytes read, 4n written. */
    @Benchmark
    public float[] copy() {
        parts((s, e) -> System.arraycopy(a, s, c, s, e - s));
        return c;
    }

    /** c = a + b: 8n bytes read, 4n written. */
    @Benchmark
    public float[] add() {
        parts((s, e) -> add(a, b, c, s, e));
        return c;
    }

    private static void add(float[] x, float[] y, float[] z, int s, int e) {
        for (int i = s; i < e; i++) z[i] = x[i] + y[i];
    }

    /** c += a·b: 12n bytes read, 4n written. */
    @Benchmark
    public float[] triad() {
        parts((s, e) -> triad(a, b, c, s, e));
        return c;
    }

    private static void triad(float[] x, float[] y, float[] z, int s, int e) {
        for (int i = s; i < e; i++) z[i] += x[i] * y[i];
    }
}
