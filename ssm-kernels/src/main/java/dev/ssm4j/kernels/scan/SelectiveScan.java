package dev.ssm4j.kernels.scan;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * The Mamba-1 (S6) selective scan — forward, backward and decoding step (Gu &amp; Dao 2023,
 * "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", §3.2, §3.3.2, Algorithm 2).
 * These entry points take the SIMD kernels ({@link SelectiveScanSimd},
 * {@link SelectiveScanSimdBackward}) unless {@link KernelConfig#FORCE_SCALAR}, in which case they
 * take the scalar reference {@link SelectiveScanScalar}. The recurrence, the glossary and the
 * memory layout are in {@link ScanSpec}, {@link ScanTensors}, {@link ScanGrads} and
 * docs/selective-scan.md.
 *
 * <pre>
 *   ScanSpec spec = ScanSpec.of(b, l, d, n).groups(1).deltaSoftplus(true);
 *   ScanTensors io = new ScanTensors(spec)
 *       .u(xz, 0, 2 * d).z(xz, d, 2 * d)               // column slices of in_proj's output
 *       .delta(dt, 0, d).B(xdbl, r, r + 2 * n).C(xdbl, r + n, r + 2 * n)
 *       .A(a).D(dSkip).deltaBias(dtBias).y(y, 0, d);
 *   SelectiveScan.forward(io, pool);                   // pool null = calling thread
 *   ScanGrads gr = new ScanGrads(spec).dy(dy, 0, d).du(du, 0, 2 * d).dz(du, d, 2 * d) ...;
 *   SelectiveScan.backward(io, gr, pool);              // gradients accumulate (+=)
 * </pre>
 */
public final class SelectiveScan {
    private SelectiveScan() {}

    /** Forward: y (b, l, d) and, if bound, the final state (b, d, n). */
    public static void forward(ScanTensors io, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) SelectiveScanScalar.forward(io, pool);
        else SelectiveScanSimd.forward(io, pool);
    }

    /** Backward: accumulates (+=) every gradient bound in {@code gr}. */
    public static void backward(ScanTensors io, ScanGrads gr, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) SelectiveScanScalar.backward(io, gr, pool);
        else SelectiveScanSimdBackward.backward(io, gr, pool);
    }

    /**
     * One decoding step for a batch of states: {@code state} (b, d, n), dense from stateOffset,
     * is updated in place; y (b, d) is written. {@code io} is bound to a spec with l = 1 (see
     * {@link ScanSpec#step}), so its per-token tensors are (b, d) rows at (offset, rowStride);
     * it must not bind h0 or a final state.
     */
    public static void step(ScanTensors io, float[] state, int stateOffset, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) SelectiveScanScalar.step(io, state, stateOffset, pool);
        else SelectiveScanSimd.step(io, state, stateOffset, pool);
    }

    static void checkStep(ScanTensors io, float[] state, int stateOffset) {
        io.requireForward();
        ScanSpec sp = io.spec;
        if (sp.length != 1) {
            throw new IllegalArgumentException("step needs a spec with length l = 1 (ScanSpec.step), got " + sp);
        }
        if (io.h0 != null || io.finalState != null) {
            throw new IllegalArgumentException("step updates its state argument in place; do not bind h0 or finalState");
        }
        Check.dense("state", state, stateOffset, sp.batch * sp.channels * sp.stateSize, Check.stateShape(sp), false);
    }
}
