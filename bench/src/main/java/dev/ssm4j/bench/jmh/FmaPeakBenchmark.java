package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The core's vector FMA throughput, one thread: time per FloatVector FMA (the kernels' species)
 * over 12 independent chains, more than latency × pipes (4 cycles × 2 FMA pipes on Zen 4/5), so the
 * pipes, not a chain, set the pace. 1 / score = FMAs per ns; × 2 × lanes = GFLOP/s. It is the
 * denominator of every "arithmetic floor" in the docs: a kernel that needs k FMA-pipe operations per
 * vector cannot take less than k × score per vector, whatever its memory does. The chains start from
 * a @State array and end in the returned value, so nothing is folded away; a·m + c with m = 0.999
 * stays bounded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FmaPeakBenchmark {
    private static final VectorSpecies<Float> F = KernelConfig.F;
    private static final int CHAINS = 12, ITERATIONS = 4096;

    float[] start;
    float mul = 0.999f, add = 1e-3f;

    @Setup
    public void setup() {
        start = new float[CHAINS * F.length()];
        for (int i = 0; i < start.length; i++) start[i] = 1f + i * 1e-3f;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS * ITERATIONS)
    public float fma() {
        int n = F.length();
        FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
        FloatVector a0 = FloatVector.fromArray(F, start, 0), a1 = FloatVector.fromArray(F, start, n);
        FloatVector a2 = FloatVector.fromArray(F, start, 2 * n), a3 = FloatVector.fromArray(F, start, 3 * n);
        FloatVector a4 = FloatVector.fromArray(F, start, 4 * n), a5 = FloatVector.fromArray(F, start, 5 * n);
        FloatVector a6 = FloatVector.fromArray(F, start, 6 * n), a7 = FloatVector.fromArray(F, start, 7 * n);
        FloatVector a8 = FloatVector.fromArray(F, start, 8 * n), a9 = FloatVector.fromArray(F, start, 9 * n);
        FloatVector a10 = FloatVector.fromArray(F, start, 10 * n), a11 = FloatVector.fromArray(F, start, 11 * n);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).add(a8.add(a9).add(a10.add(a11)))
                .reduceLanes(VectorOperators.ADD);
    }
}
