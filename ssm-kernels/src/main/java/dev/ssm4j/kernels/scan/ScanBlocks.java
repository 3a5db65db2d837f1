package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Helpers shared by the SIMD forward, backward and step: moving A and states between their
 * (d, n) / (b, d, n) layouts and the lane-major (n, L) block scratch, loads/stores that are masked
 * only for a partial block, and the per-chunk Δ' = softplus(Δ + Δbias) pass ({@link #deltaChunk}).
 */
final class ScanBlocks {
    private ScanBlocks() {}

    private static final int L = F.length();

    /**
     * Fills the (n, L) block scratch for channels [c0, c0 + width): aS[s·L + j] = A[c0 + j, s] and
     * hS likewise with h0[bi, c0 + j, s] (0 without h0); lanes j ≥ width are 0.
     */
    static void gather(ScanTensors io, int bi, int c0, int width, float[] aS, float[] hS) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize;
        for (int s = 0; s < n; s++) {
            int o = s * L;
            for (int j = 0; j < L; j++) {
                boolean on = j < width;
                aS[o + j] = on ? io.A[io.aOff + (c0 + j) * n + s] : 0f;
                hS[o + j] = on && io.h0 != null ? io.h0[io.h0Off + (bi * sp.channels + c0 + j) * n + s] : 0f;
            }
        }
    }

    /** Writes the (n, L) state scratch to the final state (b, d, n), if one is bound. */
    static void scatterFinal(ScanTensors io, int bi, int c0, int width, float[] hS) {
        if (io.finalState == null) return;
        ScanSpec sp = io.spec;
        int n = sp.stateSize;
        for (int j = 0; j < width; j++) {
            int at = io.finalStateOff + (bi * sp.channels + c0 + j) * n;
            for (int s = 0; s < n; s++) io.finalState[at + s] = hS[s * L + j];
        }
    }

    /** Writes the (n, L) state scratch of channels [c0, c0 + L) as checkpoint k of row bi. */
    static void saveCheckpoint(ScanTensors io, int bi, int k, int c0, float[] hS) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, base = io.checkpointsOff + ((bi * sp.checkpointsPerRow() + k) * sp.channels + c0) * n;
        for (int j = 0; j < L; j++) {
            for (int s = 0; s < n; s++) io.checkpoints[base + j * n + s] = hS[s * L + j];
        }
    }

    /** Reads checkpoint k of row bi, channels [c0, c0 + L), into (n, L) scratch at dst[dstOff …]. */
    static void loadCheckpoint(ScanTensors io, int bi, int k, int c0, float[] dst, int dstOff) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, base = io.checkpointsOff + ((bi * sp.checkpointsPerRow() + k) * sp.channels + c0) * n;
        for (int j = 0; j < L; j++) {
            for (int s = 0; s < n; s++) dst[dstOff + s * L + j] = io.checkpoints[base + j * n + s];
        }
    }

    /** Gathers a (b, d, n) state tensor's row bi, channels [c0, c0 + width) into (n, L) scratch; zeros when absent. */
    static void gatherState(float[] src, int off, ScanSpec sp, int bi, int c0, int width, float[] dst) {
        int n = sp.stateSize;
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < L; j++) {
                dst[s * L + j] = src != null && j < width ? src[off + (bi * sp.channels + c0 + j) * n + s] : 0f;
            }
        }
    }

    /** Adds (n, L) scratch into a (b, d, n) state tensor's row bi, channels [c0, c0 + width) (if bound). */
    static void scatterAddState(float[] dst, int off, ScanSpec sp, int bi, int c0, int width, float[] src) {
        if (dst == null) return;
        int n = sp.stateSize;
        for (int j = 0; j < width; j++) {
            int at = off + (bi * sp.channels + c0 + j) * n;
            for (int s = 0; s < n; s++) dst[at + s] += src[s * L + j];
        }
    }

    static FloatVector load(float[] a, int off, VectorMask<Float> m, boolean full) {
        return full ? FloatVector.fromArray(F, a, off) : FloatVector.fromArray(F, a, off, m);
    }

    static void store(FloatVector v, float[] a, int off, VectorMask<Float> m, boolean full) {
        if (full) v.intoArray(a, off);
        else v.intoArray(a, off, m);
    }

    /**
     * Δ'_t = softplus(Δ_t + Δbias) (or Δ_t + Δbias without softplus) of channels [c0, c0 + L),
     * tokens [t0, t1) of row bi, into dtS[(t − t0)·L …]; with sigS bound also softplus'(Δ_t +
     * Δbias) = σ(Δ_t + Δbias) there, from the same e = e^−|x|: σ = 1/(1 + e) for x ≥ 0, e/(1 + e)
     * below. The same operations as {@link VectorMath#softplus(FloatVector)}, so the forward and the
     * backward's recompute compute the same Δ' bit for bit, in compiled and interpreted code alike
     * (own exp and log1p, not the JDK's lanewise EXP/LOG1P; the decoding step has its own pass
     * built the same way, {@link SelectiveScanSimdStep}).
     *
     * <p>Why a pass of its own, before the recurrence reads Δ' back from L1: C2 stops inlining
     * into a method once it has created NodeCountInliningCutoff (18 000) IR nodes, and one inlined
     * vector exp costs about half of that while it is being parsed. The recurrence's methods must
     * spend their single inlined exp on the per-(token, state) decay 2^(Δ'A·log2e); a second one
     * (softplus, silu) would push the decay exp out of line, which boxes a vector per call and runs
     * ~20× slower. Per token these functions run 1/n as often as the decay, so the extra store and
     * load cost little.
     */
    static void deltaChunk(ScanTensors io, int bi, int c0, int t0, int t1, float[] dtS, float[] sigS) {
        ScanSpec sp = io.spec;
        int l = sp.length;
        FloatVector bias = io.deltaBias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.deltaBias, io.deltaBiasOff + c0);
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            FloatVector dt = FloatVector.fromArray(F, io.delta, io.deltaOff + row * io.deltaStride + c0).add(bias);
            if (sp.deltaSoftplus) {
                FloatVector e = VectorMath.exp(dt.abs().neg());
                if (sigS != null) {
                    FloatVector inv = FloatVector.broadcast(F, 1f).div(e.add(1f));
                    inv.blend(e.mul(inv), dt.compare(VectorOperators.LT, 0f)).intoArray(sigS, j * L);
                }
                dt = dt.max(0f).add(VectorMath.log1pUnit(e));
            }
            dt.intoArray(dtS, j * L);
        }
    }

    /**
     * {@link #deltaChunk} for the count consecutive blocks of L channels from c0 (one batch row,
     * one group), token row by token row: block b's Δ'_t goes to dtS[b·blockStride + (t − t0)·L …],
     * softplus' likewise to sigS (if bound). The same operations per lane as deltaChunk, so the
     * same bits; for the backward's chunk-major pass, where reading Δ as count·L consecutive
     * floats per token row lets the hardware prefetchers run ahead (block by block, 32 strided
     * lines each, the loads mostly waited for memory).
     */
    static void deltaRun(ScanTensors io, int bi, int c0, int count, int t0, int t1, float[] dtS, float[] sigS,
            int blockStride) {
        ScanSpec sp = io.spec;
        int l = sp.length;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0, at = io.deltaOff + row * io.deltaStride + c0;
            for (int b = 0; b < count; b++) {
                FloatVector bias = io.deltaBias == null ? FloatVector.zero(F)
                        : FloatVector.fromArray(F, io.deltaBias, io.deltaBiasOff + c0 + b * L);
                FloatVector dt = FloatVector.fromArray(F, io.delta, at + b * L).add(bias);
                int o = b * blockStride + j * L;
                if (sp.deltaSoftplus) {
                    FloatVector e = VectorMath.exp(dt.abs().neg());
                    if (sigS != null) {
                        FloatVector inv = FloatVector.broadcast(F, 1f).div(e.add(1f));
                        inv.blend(e.mul(inv), dt.compare(VectorOperators.LT, 0f)).intoArray(sigS, o);
                    }
                    dt = dt.max(0f).add(VectorMath.log1pUnit(e));
                }
                dt.intoArray(dtS, o);
            }
        }
    }
}
