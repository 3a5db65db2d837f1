package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.VectorMath;

/**
 * Every argument of one SSD call, validated once by {@link Ssd} and handed to the implementations
 * (so that they do not repeat forty parameters). Package-private plumbing. The forward and backward
 * entry points refill the one held by the call's {@link SsdWorkspace} ({@link #reset}) and clear its
 * array references when the call returns ({@link #clear}), so that a call allocates none.
 *
 * <p>Token-major tensors are (array, offset, token stride): element (bi, t, j) of a (b, l, ·)
 * tensor is at {@code off + (bi·l + t)·stride + j}. States are dense (b, h, p, n).
 */
final class SsdProblem {
    // sizes (set by reset)
    int b, l, h, p, g, n, q, hpg;
    boolean softplus, clamp;
    float dtMin, dtMax;
    /** {0, l}: the bounds of a row without cuSeqlens, kept so that {@link #bounds} allocates nothing. */
    private final int[] whole = new int[2];

    // forward outputs
    float[] y;              // (b, l, h, p)
    int yOff, yS;
    float[] fin;            // (b, h, p, n) or null

    // inputs
    float[] x;              // (b, l, h, p)
    int xOff, xS;
    float[] dt;             // (b, l, h), raw (before bias, softplus, clamp)
    int dtOff, dtS;
    float[] bm;             // B (b, l, g, n)
    int bOff, bS;
    float[] cm;             // C (b, l, g, n)
    int cOff, cS;
    float[] h0;             // (b, h, p, n) or null
    int[][] cu;             // per row: boundaries 0 = c0 < c1 < … < ck = l, or null
    float[] a;              // A (h)
    float[] d;              // D (h) or null
    float[] dtBias;         // (h) or null

    // backward: gradients (accumulated) and incoming gradients
    float[] dx;
    int dxOff, dxS;
    float[] ddt;
    int ddtOff, ddtS;
    float[] dbm;
    int dbOff, dbS;
    float[] dcm;
    int dcOff, dcS;
    float[] da, dd, dDtBias, dh0;
    float[] dy;
    int dyOff, dyS;
    float[] dfin;           // (b, h, p, n) or null

    SsdProblem() {}

    /** Sizes of a new call; every array reference cleared (the checks set them). */
    SsdProblem reset(int b, int l, SsdConfig cfg) {
        clear();
        this.b = b;
        this.l = l;
        this.h = cfg.heads();
        this.p = cfg.headDim();
        this.g = cfg.groups();
        this.n = cfg.stateDim();
        this.q = cfg.chunk();
        this.hpg = cfg.headsPerGroup();
        this.softplus = cfg.dtSoftplus();
        this.clamp = cfg.clampsDt();
        this.dtMin = cfg.dtMin();
        this.dtMax = cfg.dtMax();
        whole[1] = l;
        return this;
    }

    /** Drops every reference to the caller's arrays (so that a kept workspace does not keep them alive). */
    void clear() {
        y = fin = x = dt = bm = cm = h0 = a = d = dtBias = null;
        dx = ddt = dbm = dcm = da = dd = dDtBias = dh0 = dy = dfin = null;
        cu = null;
    }

    // ---- indexing -------------------------------------------------------------------------

    int xAt(int bi, int t, int hh) {
        return xOff + (bi * l + t) * xS + hh * p;
    }

    int yAt(int bi, int t, int hh) {
        return yOff + (bi * l + t) * yS + hh * p;
    }

    int dtAt(int bi, int t, int hh) {
        return dtOff + (bi * l + t) * dtS + hh;
    }

    int bAt(int bi, int t, int gi) {
        return bOff + (bi * l + t) * bS + gi * n;
    }

    int cAt(int bi, int t, int gi) {
        return cOff + (bi * l + t) * cS + gi * n;
    }

    int dxAt(int bi, int t, int hh) {
        return dxOff + (bi * l + t) * dxS + hh * p;
    }

    int dyAt(int bi, int t, int hh) {
        return dyOff + (bi * l + t) * dyS + hh * p;
    }

    int ddtAt(int bi, int t, int hh) {
        return ddtOff + (bi * l + t) * ddtS + hh;
    }

    int dbAt(int bi, int t, int gi) {
        return dbOff + (bi * l + t) * dbS + gi * n;
    }

    int dcAt(int bi, int t, int gi) {
        return dcOff + (bi * l + t) * dcS + gi * n;
    }

    /** Offset of head hh's (p, n) state of batch row bi in a (b, h, p, n) array. */
    int stateAt(int bi, int hh) {
        return (bi * h + hh) * p * n;
    }

    int group(int hh) {
        return hh / hpg;
    }

    /** Sequence boundaries of row bi: {0, …, l}; the state restarts from zero at each inner one. Read only. */
    int[] bounds(int bi) {
        return cu == null || cu[bi] == null ? whole : cu[bi];
    }

    // ---- dt -------------------------------------------------------------------------------

    /** dt + dt_bias before softplus and clamp. */
    float dtRaw(int bi, int t, int hh) {
        return dt[dtAt(bi, t, hh)] + (dtBias == null ? 0f : dtBias[hh]);
    }

    /** The Δ that the recurrence uses: clamp(softplus(raw)). */
    float dtEff(float raw) {
        float v = softplus ? VectorMath.softplus(raw) : raw;
        return clamp ? Math.min(Math.max(v, dtMin), dtMax) : v;
    }

    /** dΔ/d raw: sigmoid(raw) for softplus (1 without), times 1 inside the clamp limits, 0 outside. */
    float dtGrad(float raw) {
        float v = softplus ? VectorMath.softplus(raw) : raw;
        if (clamp && (v < dtMin || v > dtMax)) return 0f;
        return softplus ? VectorMath.sigmoid(raw) : 1f;
    }
}
