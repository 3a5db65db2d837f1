package dev.ssm4j.bench.jmh;

import dev.ssm4j.kernels.scan.ScanGrads;
import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScanScalar;
import dev.ssm4j.kernels.scan.SelectiveScanSimd;
import dev.ssm4j.kernels.scan.SelectiveScanSimdBackward;
import java.util.SplittableRandom;

/**
 * JIT warm-up for the scan benchmarks, run from their trial setup. Vector API code runs hundreds
 * of times slower until C2 has compiled it (every vector op allocates in the interpreter and in
 * C1 code), and one call at the large benchmark shape takes seconds in that state — longer than
 * the whole warm-up phase of a short {@code JmhShort} run, which would then time a mix of
 * interpreted and compiled calls. So each benchmark first calls its kernel a few thousand times
 * on a tiny problem with the same options and layout (same code paths), which gets the hot
 * methods compiled in a few seconds. Only then does JMH's own warm-up start.
 */
public final class ScanWarmup {
    private ScanWarmup() {}

    /** Forward, backward (both variants) or step of one implementation on a tiny problem. */
    static void run(boolean simd, String what, int calls) {
        int b = 1, l = what.equals("step") ? 1 : 2 * ScanSpec.CHECKPOINT_TOKENS, d = 32, n = 16, r = 2;
        SplittableRandom rng = new SplittableRandom(3);
        float[] xz = ScanBenchmark.normal(rng, b * l * 2 * d, 1f), xdbl = ScanBenchmark.normal(rng, b * l * (r + 2 * n), 1f);
        float[] a = new float[d * n];
        for (int i = 0; i < a.length; i++) a[i] = -(i % n + 1);
        ScanSpec spec = ScanSpec.of(b, l, d, n).deltaSoftplus(true);
        ScanTensors io = new ScanTensors(spec).u(xz, 0, 2 * d).z(xz, d, 2 * d).delta(ScanBenchmark.normal(rng, b * l * d, 1f))
                .B(xdbl, r, r + 2 * n).C(xdbl, r + n, r + 2 * n).A(a).D(ScanBenchmark.normal(rng, d, 1f))
                .deltaBias(ScanBenchmark.normal(rng, d, 0.5f)).y(new float[b * l * d]);
        float[] du = new float[b * l * 2 * d];
        ScanGrads gr = new ScanGrads(spec).dy(ScanBenchmark.normal(rng, b * l * d, 1f)).du(du, 0, 2 * d).dz(du, d, 2 * d)
                .dDelta(new float[b * l * d]).dB(new float[b * l * (r + 2 * n)], r, r + 2 * n)
                .dC(new float[b * l * (r + 2 * n)], r + n, r + 2 * n).dA(new float[d * n]).dD(new float[d])
                .dDeltaBias(new float[d]);
        float[] state = new float[b * d * n];
        float[] ck = new float[spec.checkpointFloats()];
        for (int i = 0; i < calls; i++) {
            switch (what) {
                case "forward" -> {
                    io.checkpoints(i % 2 == 0 ? null : ck, 0);
                    if (simd) SelectiveScanSimd.forward(io, null);
                    else SelectiveScanScalar.forward(io, null);
                }
                case "backward" -> {
                    io.checkpoints(i % 2 == 0 ? null : ck, 0);
                    if (simd) SelectiveScanSimdBackward.backward(io, gr, null);
                    else SelectiveScanScalar.backward(io, gr, null);
                }
                case "step" -> {
                    if (simd) SelectiveScanSimd.step(io, state, 0, null);
                    else SelectiveScanScalar.step(io, state, 0, null);
                }
                default -> throw new IllegalArgumentException(what);
            }
        }
    }
}
