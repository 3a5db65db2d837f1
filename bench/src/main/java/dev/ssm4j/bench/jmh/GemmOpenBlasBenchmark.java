package dev.ssm4j.bench.jmh;

import dev.ssm4j.bench.OpenBlas;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
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
 * The same products as {@link GemmBenchmark} through OpenBLAS's cblas_sgemm (java.lang.foreign,
 * native operands, {@code openblas_set_num_threads(threads)}). Fails in setup when OpenBLAS is not
 * installed ({@code apt-get install libopenblas0}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmOpenBlasBenchmark {
    @Param({"1024x1024x1024", "2048x3072x768", "2048x768x1536", "1x3072x768"})
    public String shape;

    @Param({"NN", "NT", "TN"})
    public String trans;

    @Param({"1", "2"})
    public int threads;

    int m, n, k, lda, ldb;
    boolean ta, tb;
    OpenBlas blas;
    Arena arena;
    MemorySegment a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        blas = OpenBlas.load().orElseThrow(() -> new IllegalStateException("OpenBLAS not found (apt-get install libopenblas0)"));
        blas.setThreads(threads);
        int[] s = GemmBenchmark.parseShape(shape);
        m = s[0];
        n = s[1];
        k = s[2];
        boolean[] t = GemmBenchmark.parseTrans(trans);
        ta = t[0];
        tb = t[1];
        lda = ta ? m : k;
        ldb = tb ? k : n;
        arena = Arena.ofShared();
        a = arena.allocate(4L * m * k, 64);
        b = arena.allocate(4L * k * n, 64);
        c = arena.allocate(4L * m * n, 64);
        SplittableRandom rng = new SplittableRandom(42);
        for (long i = 0; i < (long) m * k; i++) a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextDouble(-1, 1));
        for (long i = 0; i < (long) k * n; i++) b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextDouble(-1, 1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment openblas() {
        blas.sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
        return c;
    }
}
