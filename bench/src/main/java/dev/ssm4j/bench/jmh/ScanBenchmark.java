package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.scan.ScanGrads;
import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScanScalar;
import dev.ssm4j.kernels.scan.SelectiveScanSimd;
import dev.ssm4j.kernels.scan.SelectiveScanSimdBackward;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Selective scan (Mamba-1 S6) forward and backward (standalone, and from the forward's
 * checkpoints), scalar and SIMD, in the Mamba block's
 * configuration: softplus(Δ + Δbias), D skip, silu(z) gate, u and z as column slices of one
 * in_proj output row [x | z] and B, C as slices of one x_proj row [dt | B | C]. Elements per op
 * = b·l·d·n. Inputs are random, made and touched in the trial setup; outputs go to arrays the
 * state owns (the kernels write them, so nothing can be folded away) and each benchmark returns
 * one output element as well. The setup first warms the JIT up on a tiny problem ({@link ScanWarmup}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ScanBenchmark {
    /** "b x l x d x n". */
    @Param({"1x2048x1536x16", "8x256x128x16"})
    public String shape;

    @Param({"simd", "scalar"})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    ForkJoinPool pool;
    ScanTensors io, ioCk; // ioCk: the same tensors plus the forward's checkpoints
    ScanGrads gr;
    float[] y;
    float[] du;
    boolean simd;

    /** JMH's entry: warms up only the method being measured. */
    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        setup(method.equals("forward") ? "forward" : "backward");
    }

    /** Builds the data after warming up {@code warm} ("forward" or "backward") of the chosen implementation. */
    public void setup(String warm) {
        String[] p = shape.split("x");
        int b = Integer.parseInt(p[0]), l = Integer.parseInt(p[1]), d = Integer.parseInt(p[2]), n = Integer.parseInt(p[3]);
        simd = switch (impl) {
            case "simd" -> true;
            case "scalar" -> false;
            default -> throw new IllegalArgumentException("impl must be simd or scalar, got " + impl);
        };
        pool = Parallel.pool(threads);
        if (simd) ScanWarmup.run(true, warm, 3000); // the scalar twin has no Vector API code to wait for
        SplittableRandom rng = new SplittableRandom(1);
        int tokens = b * l, r = (d + 15) / 16;
        float[] xz = normal(rng, tokens * 2 * d, 1f);           // in_proj rows [x | z]
        float[] xdbl = normal(rng, tokens * (r + 2 * n), 1f);   // x_proj rows [dt (r) | B (n) | C (n)]
        float[] dt = normal(rng, tokens * d, 1f);
        float[] a = new float[d * n];
        for (int c = 0; c < d; c++) for (int s = 0; s < n; s++) a[c * n + s] = -(s + 1); // S4D-real init
        float[] dSkip = normal(rng, d, 1f), bias = normal(rng, d, 0.5f);
        y = new float[tokens * d];
        ScanSpec spec = ScanSpec.of(b, l, d, n).deltaSoftplus(true);
        io = new ScanTensors(spec).u(xz, 0, 2 * d).z(xz, d, 2 * d).delta(dt).B(xdbl, r, r + 2 * n)
                .C(xdbl, r + n, r + 2 * n).A(a).D(dSkip).deltaBias(bias).y(y);
        ioCk = new ScanTensors(spec).u(xz, 0, 2 * d).z(xz, d, 2 * d).delta(dt).B(xdbl, r, r + 2 * n)
                .C(xdbl, r + n, r + 2 * n).A(a).D(dSkip).deltaBias(bias).y(new float[tokens * d])
                .checkpoints(new float[spec.checkpointFloats()], 0);
        if (simd) SelectiveScanSimd.forward(ioCk, pool); // fills the checkpoints (and touches them)
        else SelectiveScanScalar.forward(ioCk, pool);
        du = new float[tokens * 2 * d];
        gr = new ScanGrads(spec).dy(normal(rng, tokens * d, 1f)).du(du, 0, 2 * d).dz(du, d, 2 * d)
                .dDelta(new float[tokens * d]).dB(new float[tokens * (r + 2 * n)], r, r + 2 * n)
                .dC(new float[tokens * (r + 2 * n)], r + n, r + 2 * n).dA(new float[d * n]).dD(new float[d])
                .dDeltaBias(new float[d]);
    }

    static float[] normal(SplittableRandom rng, int size, float std) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (std * rng.nextGaussian());
        return x;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) pool.shutdown();
    }

    @Benchmark
    public float forward() {
        if (simd) SelectiveScanSimd.forward(io, pool);
        else SelectiveScanScalar.forward(io, pool);
        return y[y.length - 1];
    }

    /** Backward when the forward saved its checkpoints (the training path): one scan pass less. */
    @Benchmark
    public float backwardFromCheckpoints() {
        if (simd) SelectiveScanSimdBackward.backward(ioCk, gr, pool);
        else SelectiveScanScalar.backward(ioCk, gr, pool);
        return du[du.length - 1];
    }

    @Benchmark
    public float backward() {
        if (simd) SelectiveScanSimdBackward.backward(io, gr, pool);
        else SelectiveScanScalar.backward(io, gr, pool);
        return du[du.length - 1];
    }
}
