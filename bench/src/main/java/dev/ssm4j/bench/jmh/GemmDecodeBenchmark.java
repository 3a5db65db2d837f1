package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.gemm.GemmScalar;
import dev.ssm4j.kernels.gemm.GemmSimd;
import dev.ssm4j.kernels.gemm.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
 * Decode: y (m × n) = x (m × k)·Wᵀ with W an f32 or bf16 {@link WeightMatrix} in native memory
 * (as a memory-mapped safetensors file would be once paged in). Like a model's layers, each call
 * uses the next of {@code copies} different matrices, so W comes from DRAM rather than from the
 * L3 cache (16 × 3072 × 768 weights = 151 MB in f32, 75 MB in bf16); the time per op is per matrix.
 * Ops per call: 2·m·n·k; bytes of W per call: n·k·(4 or 2).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmDecodeBenchmark {
    @Param({"F32", "BF16"})
    public String format;

    /** n x k of W. */
    @Param({"3072x768"})
    public String weight;

    @Param({"1"})
    public int m;

    @Param({"1", "2"})
    public int threads;

    @Param({"16"})
    public int copies;

    int n, k, next;
    WeightMatrix[] w;
    float[] x, y;
    Arena arena;
    ForkJoinPool pool;

    @Setup(Level.Trial)
    public void setUp() {
        String[] d = weight.toLowerCase().split("x");
        n = Integer.parseInt(d[0]);
        k = Integer.parseInt(d[1]);
        WeightMatrix.Format f = WeightMatrix.Format.valueOf(format);
        arena = Arena.ofShared();
        w = new WeightMatrix[copies];
        SplittableRandom rng = new SplittableRandom(7);
        var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        var bf16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < copies; c++) {
            MemorySegment s = arena.allocate((long) n * k * f.bytes, 64);
            for (long i = 0; i < (long) n * k; i++) {
                float v = (float) rng.nextDouble(-0.05, 0.05);
                if (f == WeightMatrix.Format.F32) s.set(f32, 4 * i, v);
                else s.set(bf16, 2 * i, WeightMatrix.floatToBf16(v));
            }
            w[c] = WeightMatrix.ofSegment(f, s, 0, n, k, k);
        }
        x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-1, 1);
        y = new float[m * n];
        pool = Parallel.pool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdownNow();
        arena.close();
    }

    private WeightMatrix nextWeight() {
        WeightMatrix wm = w[next];
        next = next + 1 == w.length ? 0 : next + 1;
        return wm;
    }

    @Benchmark
    public float[] simd() {
        GemmSimd.linear(y, 0, x, 0, m, k, nextWeight(), null, pool);
        return y;
    }

    @Benchmark
    public float[] scalar() {
        GemmScalar.linear(y, 0, x, 0, m, k, nextWeight(), null);
        return y;
    }
}
