package dev.ssm4j.kernels.scan;

/**
 * The arrays of one selective scan: forward inputs and outputs, bound to a {@link ScanSpec}.
 * Each setter checks its tensor against the spec at once (so a bad shape is reported where it is
 * bound, naming the tensor, its expected shape and the array it got); the object is then reused
 * for every call — binding again is only needed when an array changes. Nothing is copied.
 *
 * <h2>Memory layout</h2>
 * Token-major, so that consecutive channels are consecutive floats and SIMD lanes run over
 * channels. Every per-token tensor is passed as (array, offset, tokenStride): element
 * (bi, t, j) is at {@code offset + (bi·l + t)·tokenStride + j}, i.e. consecutive tokens are
 * tokenStride floats apart and batch row bi starts at offset + bi·l·tokenStride. This lets the
 * model hand column slices of GEMM outputs straight to the scan: with in_proj rows [x | z]
 * (width 2d), u = (xz, 0, 2d) and z = (xz, d, 2d); with x_proj rows [dt (r) | B (n) | C (n)],
 * B = (xdbl, r, r + 2n) and C = (xdbl, r + n, r + 2n).
 * <pre>
 *   u, Δ, z, y      (b, l, d)      (array, offset, tokenStride ≥ d)
 *   B, C            (b, l, g, n)   (array, offset, tokenStride ≥ g·n); group gi at j = gi·n + s
 *   A               (d, n)         dense from offset: A[c, s] at offset + c·n + s
 *   D, Δbias        (d)            dense from offset
 *   h0, final state (b, d, n)      dense from offset: h[bi, c, s] at offset + (bi·d + c)·n + s
 *   checkpoints     (b, ⌈l/32⌉, d, n)  dense from offset (see {@link #checkpoints})
 * </pre>
 * Required: u, Δ, A, B, C, y. Optional (null / not bound = absent): D, z, Δbias, h0, final state,
 * checkpoints.
 * y must not overlap any input.
 */
public final class ScanTensors {
    final ScanSpec spec;

    float[] u, delta, z, y, B, C;
    int uOff, uStride, deltaOff, deltaStride, zOff, zStride, yOff, yStride, bOff, bStride, cOff, cStride;
    float[] A, D, deltaBias, h0, finalState, checkpoints;
    int aOff, dOff, deltaBiasOff, h0Off, finalStateOff, checkpointsOff;

    public ScanTensors(ScanSpec spec) {
        if (spec == null) throw new IllegalArgumentException("spec must not be null");
        this.spec = spec;
    }

    public ScanSpec spec() {
        return spec;
    }

    /** Input u (b, l, d). */
    public ScanTensors u(float[] a, int offset, int tokenStride) {
        Check.tokens("u", a, offset, tokenStride, spec, spec.channels, false);
        u = a; uOff = offset; uStride = tokenStride;
        return this;
    }

    /** Step size Δ (b, l, d), before Δbias and softplus. */
    public ScanTensors delta(float[] a, int offset, int tokenStride) {
        Check.tokens("delta", a, offset, tokenStride, spec, spec.channels, false);
        delta = a; deltaOff = offset; deltaStride = tokenStride;
        return this;
    }

    /** Optional gate z (b, l, d): y is multiplied by silu(z). Null removes it. */
    public ScanTensors z(float[] a, int offset, int tokenStride) {
        Check.tokens("z", a, offset, tokenStride, spec, spec.channels, true);
        z = a; zOff = offset; zStride = tokenStride;
        return this;
    }

    /** Output y (b, l, d); overwritten (not accumulated). */
    public ScanTensors y(float[] a, int offset, int tokenStride) {
        Check.tokens("y", a, offset, tokenStride, spec, spec.channels, false);
        y = a; yOff = offset; yStride = tokenStride;
        return this;
    }

    /** Input-dependent B (b, l, g, n). */
    public ScanTensors B(float[] a, int offset, int tokenStride) {
        Check.tokens("B", a, offset, tokenStride, spec, spec.groups * spec.stateSize, false);
        B = a; bOff = offset; bStride = tokenStride;
        return this;
    }

    /** Input-dependent C (b, l, g, n). */
    public ScanTensors C(float[] a, int offset, int tokenStride) {
        Check.tokens("C", a, offset, tokenStride, spec, spec.groups * spec.stateSize, false);
        C = a; cOff = offset; cStride = tokenStride;
        return this;
    }

    /** State matrix A (d, n), dense from offset (Mamba stores −exp(A_log); entries should be ≤ 0). */
    public ScanTensors A(float[] a, int offset) {
        Check.dense("A", a, offset, spec.channels * spec.stateSize, "(d, n) = (" + spec.channels + ", "
                + spec.stateSize + ")", false);
        A = a; aOff = offset;
        return this;
    }

    /** Optional skip weight D (d). Null removes it. */
    public ScanTensors D(float[] a, int offset) {
        Check.dense("D", a, offset, spec.channels, "(d) = (" + spec.channels + ")", true);
        D = a; dOff = offset;
        return this;
    }

    /** Optional Δ bias (d), added to Δ before the softplus. Null removes it. */
    public ScanTensors deltaBias(float[] a, int offset) {
        Check.dense("deltaBias", a, offset, spec.channels, "(d) = (" + spec.channels + ")", true);
        deltaBias = a; deltaBiasOff = offset;
        return this;
    }

    /** Optional initial state h0 (b, d, n); absent means zero. Null removes it. */
    public ScanTensors h0(float[] a, int offset) {
        Check.dense("h0", a, offset, spec.batch * spec.channels * spec.stateSize, Check.stateShape(spec), true);
        h0 = a; h0Off = offset;
        return this;
    }

    /**
     * Optional output: the state after the last token (b, d, n), overwritten. May be the same
     * array region as h0 (the forward reads h0 before it writes the final state of a channel).
     * Null removes it.
     */
    public ScanTensors finalState(float[] a, int offset) {
        Check.dense("finalState", a, offset, spec.batch * spec.channels * spec.stateSize, Check.stateShape(spec),
                true);
        finalState = a; finalStateOff = offset;
        return this;
    }

    /**
     * Optional: states saved by the forward for the backward, (b, ⌈l/32⌉, d, n) dense from
     * offset — entry (bi, k, c, s) is h[c, s] of row bi just before token k·32 (before a
     * cuSeqlens reset there), see {@link ScanSpec#CHECKPOINT_TOKENS}. The forward writes them;
     * the SIMD backward, when they are bound, reads them instead of running the scan a first time
     * to recreate them (the backward then costs about one forward less). They must come from a
     * forward over the same inputs (h0 included): the backward trusts them. Null removes them.
     */
    public ScanTensors checkpoints(float[] a, int offset) {
        Check.dense("checkpoints", a, offset, spec.checkpointFloats(), "(b, ⌈l/32⌉, d, n) = (" + spec.batch + ", "
                + spec.checkpointsPerRow() + ", " + spec.channels + ", " + spec.stateSize + ")", true);
        checkpoints = a; checkpointsOff = offset;
        return this;
    }

    /** Dense convenience: u(a, 0, d). */
    public ScanTensors u(float[] a) { return u(a, 0, spec.channels); }
    /** Dense convenience: delta(a, 0, d). */
    public ScanTensors delta(float[] a) { return delta(a, 0, spec.channels); }
    /** Dense convenience: z(a, 0, d). */
    public ScanTensors z(float[] a) { return z(a, 0, spec.channels); }
    /** Dense convenience: y(a, 0, d). */
    public ScanTensors y(float[] a) { return y(a, 0, spec.channels); }
    /** Dense convenience: B(a, 0, g·n). */
    public ScanTensors B(float[] a) { return B(a, 0, spec.groups * spec.stateSize); }
    /** Dense convenience: C(a, 0, g·n). */
    public ScanTensors C(float[] a) { return C(a, 0, spec.groups * spec.stateSize); }
    /** Dense convenience: A(a, 0). */
    public ScanTensors A(float[] a) { return A(a, 0); }
    /** Dense convenience: D(a, 0). */
    public ScanTensors D(float[] a) { return D(a, 0); }
    /** Dense convenience: deltaBias(a, 0). */
    public ScanTensors deltaBias(float[] a) { return deltaBias(a, 0); }
    /** Dense convenience: h0(a, 0). */
    public ScanTensors h0(float[] a) { return h0(a, 0); }
    /** Dense convenience: finalState(a, 0). */
    public ScanTensors finalState(float[] a) { return finalState(a, 0); }

    /** Throws naming the first required tensor that is not bound. */
    void requireForward() {
        Check.bound("u", u, spec);
        Check.bound("delta", delta, spec);
        Check.bound("A", A, spec);
        Check.bound("B", B, spec);
        Check.bound("C", C, spec);
        Check.bound("y", y, spec);
    }
}
