package dev.ssm4j.bench.jmh;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Memory-speed baselines for the memory-bound kernels, one thread, same bytes as the kernel they
 * stand beside in {@code ./ssm bench conv}: {@code copy} reads n floats and writes n (the conv
 * forward: read x, write y), {@code triad} reads 3·n and writes n (the conv backward: read x, dy, dx,
 * write dx). Plain loops that C2 vectorises; what a kernel with no arithmetic at all would reach.
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

    float[] a, b, c;

    @Setup
    public void setup() {
        SplittableRandom rng = new SplittableRandom(1);
        a = ConvBenchmark.random(rng, n);
        b = ConvBenchmark.random(rng, n);
        c = new float[n];
    }

    /** c = a: 4n bytes read, 4n written. */
    @Benchmark
    public float[] copy() {
        System.arraycopy(a, 0, c, 0, n);
        return c;
    }

    /** c += a·b: 12n bytes read, 4n written. */
    @Benchmark
    public float[] triad() {
        float[] x = a, y = b, z = c;
        for (int i = 0; i < n; i++) z[i] += x[i] * y[i];
        return z;
    }
}
