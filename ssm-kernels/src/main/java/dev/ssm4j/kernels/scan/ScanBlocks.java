package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Helpers shared by the SIMD forward, backward and step: moving A and states between their
 * (d, n) / (b, d, n) layouts and the lane-major (n, L) block scratch, loads/stores that are masked
 * only for a partial block, and per-token softplus / sigmoid / silu built on the library EXP.
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

    /** a[off …] += v on the lanes in use. */
    static void addInto(FloatVector v, float[] a, int off, VectorMask<Float> m, boolean full) {
        store(load(a, off, m, full).add(v), a, off, m, full);
    }

    static FloatVector load(float[] a, int off, VectorMask<Float> m, boolean full) {
        return full ? FloatVector.fromArray(F, a, off) : FloatVector.fromArray(F, a, off, m);
    }

    static void store(FloatVector v, float[] a, int off, VectorMask<Float> m, boolean full) {
        if (full) v.intoArray(a, off);
        else v.intoArray(a, off, m);
    }

    /**
     * softplus(x) = max(x, 0) + log1p(e^−|x|), the same stable formula as
     * {@code VectorMath.softplus}, but with the JDK's lanewise EXP (a call to the platform's
     * vector math library) instead of {@code VectorMath.exp}'s inlined polynomial. Why: C2 stops
     * inlining into a method once it has created NodeCountInliningCutoff (18 000) IR nodes, and
     * one inlined {@code VectorMath.exp} costs about half of that while it is being parsed. The
     * scan's hot methods must spend their single inlined exp on the per-(token, state) decay
     * exp(Δ'A); a second or third one (softplus, silu) would push the decay exp out of line,
     * which boxes a vector per call and runs ~20× slower. These per-token functions run once
     * per (token, channel), 1/n as often as the decay exp, so a library call is cheap there.
     */
    static FloatVector softplus(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        return x.max(0f).add(e.lanewise(VectorOperators.LOG1P));
    }

    /** σ(x) = 1 / (1 + e^−x) with the library EXP (see {@link #softplus}). */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(F, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** silu(x) = x·σ(x) with the library EXP (see {@link #softplus}). */
    static FloatVector silu(FloatVector x) {
        return x.mul(sigmoid(x));
    }
}
