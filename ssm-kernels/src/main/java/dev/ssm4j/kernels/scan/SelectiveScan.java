package dev.ssm4j.kernels.scan;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * The Mamba-1 (S6) selective scan — forward, backward and decoding step (Gu &amp; Dao 2023,
 * "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", §3.2, §3.3.2, Algorithm 2).
 * These entry points take the SIMD kernels ({@link SelectiveScanSimd},
 * {@link SelectiveScanSimdBackward}, {@link SelectiveScanSimdStep}) unless
 * {@link KernelConfig#FORCE_SCALAR}, in which case they take the scalar reference
 * {@link SelectiveScanScalar}. The recurrence, the glossary and the
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
     * it must not bind h0 or a final state, and y must not overlap any input (checked).
     */
    public static void step(ScanTensors io, float[] state, int stateOffset, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) SelectiveScanScalar.step(io, state, stateOffset, pool);
        else SelectiveScanSimdStep.step(io, state, stateOffset, pool);
    }

    /**
     * The step's argument checks, shared by both twins. Allocation-free when the arguments are
     * right (a step is a few µs; messages are built only on failure).
     */
    static void checkStep(ScanTensors io, float[] state, int stateOffset) {
        io.requireForward();
        ScanSpec sp = io.spec;
        if (sp.length != 1) {
            throw new IllegalArgumentException("step needs a spec with length l = 1 (ScanSpec.step), got " + sp);
        }
        if (io.h0 != null || io.finalState != null) {
            throw new IllegalArgumentException("step updates its state argument in place; do not bind h0 or finalState");
        }
        int size = sp.batch * sp.channels * sp.stateSize;
        if (state == null || stateOffset < 0 || (long) stateOffset + size > state.length) {
            Check.dense("state", state, stateOffset, size, Check.stateShape(sp), false); // throws, naming the problem
        }
        // y must not overlap an input: the SIMD step parks Δ' in y before it reads u, z, D, the state.
        int b = sp.batch, d = sp.channels, gn = sp.groups * sp.stateSize;
        noOverlap(io, "u", io.u, io.uOff, io.uStride, d, b);
        noOverlap(io, "delta", io.delta, io.deltaOff, io.deltaStride, d, b);
        noOverlap(io, "z", io.z, io.zOff, io.zStride, d, b);
        noOverlap(io, "B", io.B, io.bOff, io.bStride, gn, b);
        noOverlap(io, "C", io.C, io.cOff, io.cStride, gn, b);
        noOverlap(io, "A", io.A, io.aOff, 1, d * sp.stateSize, 1);
        noOverlap(io, "D", io.D, io.dOff, 1, d, 1);
        noOverlap(io, "deltaBias", io.deltaBias, io.deltaBiasOff, 1, d, 1);
        noOverlap(io, "state", state, stateOffset, 1, size, 1);
    }

    /**
     * Throws if x — {@code rows} rows of {@code width} floats, {@code stride} apart from
     * {@code off} — shares an element with y's b rows of d floats (only possible in the same array).
     * O(b): for each y row, the x rows that could meet it are found by division.
     */
    private static void noOverlap(ScanTensors io, String name, float[] x, int off, int stride, int width, int rows) {
        if (x == null || x != io.y) return;
        ScanSpec sp = io.spec;
        int d = sp.channels;
        for (int i = 0; i < sp.batch; i++) {
            long lo = io.yOff + (long) i * io.yStride, hi = lo + d; // y row i: [lo, hi)
            // x row k = [off + k·stride, off + k·stride + width) meets it iff off + k·stride < hi and > lo − width.
            long kMin = Math.max(0, Math.floorDiv(lo - width - off, stride) + 1);
            long kMax = Math.min(rows - 1, Math.floorDiv(hi - 1 - off, stride));
            if (kMin <= kMax) {
                throw new IllegalArgumentException("step: y (b, d) = (" + sp.batch + ", " + d + ") at offset " + io.yOff
                        + ", tokenStride " + io.yStride + " overlaps " + name + " in the same array (row " + i
                        + "); y must not overlap any input: the SIMD step writes Δ' into y before it has read them");
            }
        }
    }
}
