package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.gemm.GemmScalar;
import dev.ssm4j.kernels.gemm.GemmSimd;
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
 * sgemm, SIMD vs scalar, at the model's shapes: {@code shape} = "m x n x k", {@code trans} = the
 * transposes of A and B ("NT": C = A·Bᵀ, a Linear forward; "TN": C = Aᵀ·B, a weight gradient).
 * C = A·op(B) with α = 1, β = 0. Ops per call: 2·m·n·k.
 * Example: {@code ./ssm jmh 'GemmBenchmark.simd' -p shape=1024x1024x1024 -p trans=NN -p threads=1 -f 1 -wi 2 -i 3 -w 1 -r 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmBenchmark {
    @Param({"1024x1024x1024", "2048x3072x768", "2048x768x1536", "1x3072x768"})
    public String shape;

    @Param({"NN", "NT", "TN"})
    public String trans;

    @Param({"1", "2"})
    public int threads;

    int m, n, k, lda, ldb;
    boolean ta, tb;
    float[] a, b, c;
    ForkJoinPool pool;

    /** Parses "m x n x k" (with or without spaces). */
    public static int[] parseShape(String shape) {
        String[] d = shape.toLowerCase().replace(" ", "").split("x");
        if (d.length != 3) throw new IllegalArgumentException("shape must be MxNxK, got '" + shape + "'");
        return new int[] {Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2])};
    }

    /** Parses "NN", "NT", "TN", "TT" into {transA, transB}. */
    public static boolean[] parseTrans(String trans) {
        if (!trans.matches("[NT]{2}")) throw new IllegalArgumentException("trans must be NN, NT, TN or TT, got '" + trans + "'");
        return new boolean[] {trans.charAt(0) == 'T', trans.charAt(1) == 'T'};
    }

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = parseShape(shape);
        m = s[0];
        n = s[1];
        k = s[2];
        boolean[] t = parseTrans(trans);
        ta = t[0];
        tb = t[1];
        lda = ta ? m : k;
        ldb = tb ? k : n;
        SplittableRandom rng = new SplittableRandom(42);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-1, 1);
        pool = Parallel.pool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdownNow();
    }

    @Benchmark
    public float[] simd() {
        GemmSimd.sgemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n, pool);
        return c;
    }

    /** Single-threaded whatever {@code threads} says (the scalar twin has no threads). */
    @Benchmark
    public float[] scalar() {
        GemmScalar.sgemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
        return c;
    }
}
