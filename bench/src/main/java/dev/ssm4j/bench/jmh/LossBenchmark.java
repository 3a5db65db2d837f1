package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.loss.CrossEntropy;
import dev.ssm4j.kernels.loss.CrossEntropyScalar;
import dev.ssm4j.kernels.loss.CrossEntropySimd;
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
 * Fused softmax cross-entropy over 512 rows × 50280 (GPT-NeoX vocabulary of the Mamba checkpoints):
 * forward (max, Σexp, saved lse) and backward (one exp pass writing dlogits). One row in 16 is
 * ignored (padding).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsPrepend = {"-XX:-BackgroundCompilation"}, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class LossBenchmark {
    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1"})
    public int threads;

    @Param({"512"})
    public int rows;

    @Param({"50280"})
    public int vocab;

    float[] logits, dlogits, lse, rowLoss;
    int[] targets;
    ForkJoinPool pool;
    boolean scalar;
    float scale;

    @Setup
    public void setup() {
        scalar = ConvBenchmark.scalarImpl(impl, threads);
        SplittableRandom rng = new SplittableRandom(4);
        logits = new float[rows * vocab];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (rng.nextDouble() * 20 - 10);
        dlogits = new float[rows * vocab];
        targets = new int[rows];
        for (int r = 0; r < rows; r++) targets[r] = r % 16 == 15 ? CrossEntropy.IGNORE_INDEX : rng.nextInt(vocab);
        lse = new float[rows];
        rowLoss = new float[rows];
        pool = Parallel.pool(threads);
        CrossEntropy.forward(rowLoss, lse, logits, 0, vocab, targets, 0, rows, vocab, CrossEntropy.IGNORE_INDEX, null);
        scale = 1f / CrossEntropy.countTargets(targets, 0, rows, CrossEntropy.IGNORE_INDEX);
    }

    @TearDown
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float[] forward() {
        if (scalar) {
            CrossEntropyScalar.forwardRows(rowLoss, lse, logits, 0, vocab, targets, 0, vocab, CrossEntropy.IGNORE_INDEX, 0, rows);
        } else if (pool == null) {
            CrossEntropySimd.forwardRows(rowLoss, lse, logits, 0, vocab, targets, 0, vocab, CrossEntropy.IGNORE_INDEX, 0, rows);
        } else {
            CrossEntropy.forward(rowLoss, lse, logits, 0, vocab, targets, 0, rows, vocab, CrossEntropy.IGNORE_INDEX, pool);
        }
        return rowLoss;
    }

    @Benchmark
    public float[] backward() {
        if (scalar) {
            CrossEntropyScalar.backwardRows(dlogits, 0, vocab, logits, 0, vocab, lse, targets, 0, vocab,
                    CrossEntropy.IGNORE_INDEX, scale, 0, rows);
        } else {
            CrossEntropy.backward(dlogits, 0, vocab, logits, 0, vocab, lse, targets, 0, rows, vocab,
                    CrossEntropy.IGNORE_INDEX, 1f, pool);
        }
        return dlogits;
    }
}
