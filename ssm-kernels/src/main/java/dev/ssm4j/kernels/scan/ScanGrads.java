package dev.ssm4j.kernels.scan;

/**
 * The arrays of one selective-scan backward pass, bound to a {@link ScanSpec}: the incoming
 * gradients dy (required) and dFinalState (optional), and the gradient buffers to ACCUMULATE into
 * (+=, so a caller can sum over uses; zero them first for a plain gradient). Every gradient buffer
 * is optional: one that is not bound is not computed. Layouts are those of {@link ScanTensors}:
 * <pre>
 *   dy, du, dDelta, dz   (b, l, d)      (array, offset, tokenStride ≥ d)
 *   dB, dC               (b, l, g, n)   (array, offset, tokenStride ≥ g·n)
 *   dA                   (d, n)         dense from offset
 *   dD, dDeltaBias       (d)            dense from offset
 *   dh0, dFinalState     (b, d, n)      dense from offset
 * </pre>
 * dDelta is the gradient with respect to the raw Δ input (before Δbias and softplus); dDeltaBias
 * equals its sum over (b, l). dh0 and dD may be asked for even when h0 / D are absent (then they
 * are the gradients at h0 = 0 / D = 0); dz needs z. dFinalState is the gradient of the loss with
 * respect to the final state, which is how a long sequence is trained in chunks: the backward of
 * chunk k+1 produces dh0, which is the dFinalState of chunk k.
 * Gradient buffers must not overlap each other or the inputs.
 */
public final class ScanGrads {
    final ScanSpec spec;

    float[] dy, du, dDelta, dz, dB, dC;
    int dyOff, dyStride, duOff, duStride, dDeltaOff, dDeltaStride, dzOff, dzStride, dBOff, dBStride, dCOff, dCStride;
    float[] dA, dD, dDeltaBias, dh0, dFinalState;
    int dAOff, dDOff, dDeltaBiasOff, dh0Off, dFinalStateOff;

    public ScanGrads(ScanSpec spec) {
        if (spec == null) throw new IllegalArgumentException("spec must not be null");
        this.spec = spec;
    }

    public ScanSpec spec() {
        return spec;
    }

    /** Incoming gradient of y (b, l, d). Required. */
    public ScanGrads dy(float[] a, int offset, int tokenStride) {
        Check.tokens("dy", a, offset, tokenStride, spec, spec.channels, false);
        dy = a; dyOff = offset; dyStride = tokenStride;
        return this;
    }

    /** Optional incoming gradient of the final state (b, d, n). */
    public ScanGrads dFinalState(float[] a, int offset) {
        Check.dense("dFinalState", a, offset, spec.batch * spec.channels * spec.stateSize, Check.stateShape(spec), true);
        dFinalState = a; dFinalStateOff = offset;
        return this;
    }

    /** Accumulates dL/du (b, l, d). */
    public ScanGrads du(float[] a, int offset, int tokenStride) {
        Check.tokens("du", a, offset, tokenStride, spec, spec.channels, true);
        du = a; duOff = offset; duStride = tokenStride;
        return this;
    }

    /** Accumulates dL/dΔ (b, l, d) with respect to the raw Δ input. */
    public ScanGrads dDelta(float[] a, int offset, int tokenStride) {
        Check.tokens("dDelta", a, offset, tokenStride, spec, spec.channels, true);
        dDelta = a; dDeltaOff = offset; dDeltaStride = tokenStride;
        return this;
    }

    /** Accumulates dL/dz (b, l, d); needs z bound in the forward tensors. */
    public ScanGrads dz(float[] a, int offset, int tokenStride) {
        Check.tokens("dz", a, offset, tokenStride, spec, spec.channels, true);
        dz = a; dzOff = offset; dzStride = tokenStride;
        return this;
    }

    /** Accumulates dL/dB (b, l, g, n). */
    public ScanGrads dB(float[] a, int offset, int tokenStride) {
        Check.tokens("dB", a, offset, tokenStride, spec, spec.groups * spec.stateSize, true);
        dB = a; dBOff = offset; dBStride = tokenStride;
        return this;
    }

    /** Accumulates dL/dC (b, l, g, n). */
    public ScanGrads dC(float[] a, int offset, int tokenStride) {
        Check.tokens("dC", a, offset, tokenStride, spec, spec.groups * spec.stateSize, true);
        dC = a; dCOff = offset; dCStride = tokenStride;
        return this;
    }

    /** Accumulates dL/dA (d, n). */
    public ScanGrads dA(float[] a, int offset) {
        Check.dense("dA", a, offset, spec.channels * spec.stateSize, "(d, n) = (" + spec.channels + ", "
                + spec.stateSize + ")", true);
        dA = a; dAOff = offset;
        return this;
    }

    /** Accumulates dL/dD (d). */
    public ScanGrads dD(float[] a, int offset) {
        Check.dense("dD", a, offset, spec.channels, "(d) = (" + spec.channels + ")", true);
        dD = a; dDOff = offset;
        return this;
    }

    /** Accumulates dL/dΔbias (d). */
    public ScanGrads dDeltaBias(float[] a, int offset) {
        Check.dense("dDeltaBias", a, offset, spec.channels, "(d) = (" + spec.channels + ")", true);
        dDeltaBias = a; dDeltaBiasOff = offset;
        return this;
    }

    /** Accumulates dL/dh0 (b, d, n). */
    public ScanGrads dh0(float[] a, int offset) {
        Check.dense("dh0", a, offset, spec.batch * spec.channels * spec.stateSize, Check.stateShape(spec), true);
        dh0 = a; dh0Off = offset;
        return this;
    }

    public ScanGrads dy(float[] a) { return dy(a, 0, spec.channels); }
    public ScanGrads dFinalState(float[] a) { return dFinalState(a, 0); }
    public ScanGrads du(float[] a) { return du(a, 0, spec.channels); }
    public ScanGrads dDelta(float[] a) { return dDelta(a, 0, spec.channels); }
    public ScanGrads dz(float[] a) { return dz(a, 0, spec.channels); }
    public ScanGrads dB(float[] a) { return dB(a, 0, spec.groups * spec.stateSize); }
    public ScanGrads dC(float[] a) { return dC(a, 0, spec.groups * spec.stateSize); }
    public ScanGrads dA(float[] a) { return dA(a, 0); }
    public ScanGrads dD(float[] a) { return dD(a, 0); }
    public ScanGrads dDeltaBias(float[] a) { return dDeltaBias(a, 0); }
    public ScanGrads dh0(float[] a) { return dh0(a, 0); }

    /** Checks that the forward tensors and these gradients belong together. */
    void requireBackward(ScanTensors io) {
        if (io.spec != spec) {
            throw new IllegalArgumentException("ScanGrads and ScanTensors were bound to different ScanSpecs: " + spec
                    + " vs " + io.spec);
        }
        Check.bound("dy", dy, spec);
        if (dz != null && io.z == null) {
            throw new IllegalArgumentException("dz is bound but the forward tensors have no z");
        }
    }
}
