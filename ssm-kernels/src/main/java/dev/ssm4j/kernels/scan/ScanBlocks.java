package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Helpers shared by the SIMD forward and backward: moving A and the state between their
 * (d, n) / (b, d, n) layouts and the lane-major (n, L) block scratch, and loads/stores that are
 * masked only for the last, partial block of a group.
 */
final class ScanBlocks {
    private ScanBlocks() {}

    private static final int L = F.length();

    /**
     * Fills vector slot v of the block scratch for channels [c0, c0 + width): aS[(v·n + s)·L + j]
     * = A[c0 + j, s] and hS likewise with h0[bi, c0 + j, s] (0 without h0); lanes j ≥ width are 0.
     */
    static void gather(ScanTensors io, int bi, int c0, int width, float[] aS, float[] hS, int v) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, base = v * n * L;
        for (int s = 0; s < n; s++) {
            int o = base + s * L;
            for (int j = 0; j < L; j++) {
                boolean on = j < width;
                aS[o + j] = on ? io.A[io.aOff + (c0 + j) * n + s] : 0f;
                hS[o + j] = on && io.h0 != null ? io.h0[io.h0Off + (bi * sp.channels + c0 + j) * n + s] : 0f;
            }
        }
    }

    /** Writes vector slot v of the state scratch to the final state (b, d, n), if one is bound. */
    static void scatterFinal(ScanTensors io, int bi, int c0, int width, float[] hS, int v) {
        if (io.finalState == null) return;
        ScanSpec sp = io.spec;
        int n = sp.stateSize, base = v * n * L;
        for (int j = 0; j < width; j++) {
            int at = io.finalStateOff + (bi * sp.channels + c0 + j) * n;
            for (int s = 0; s < n; s++) io.finalState[at + s] = hS[base + s * L + j];
        }
    }

    static FloatVector load(float[] a, int off, VectorMask<Float> m, boolean full) {
        return full ? FloatVector.fromArray(F, a, off) : FloatVector.fromArray(F, a, off, m);
    }

    static void store(FloatVector v, float[] a, int off, VectorMask<Float> m, boolean full) {
        if (full) v.intoArray(a, off);
        else v.intoArray(a, off, m);
    }
}
