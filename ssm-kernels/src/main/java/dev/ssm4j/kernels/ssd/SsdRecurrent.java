package dev.ssm4j.kernels.ssd;

import static dev.ssm4j.kernels.ssd.SsdChunkOps.F;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.L;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;

/**
 * The recurrence of {@link SsdScalar} with SIMD: the single-token step, and the forward for short
 * sequences (below {@link Ssd#CHUNKED_MIN_LENGTH} tokens the chunked algorithm has nothing to
 * amortise its per-chunk work over).
 *
 * <p>Both work on the public (p, n) state layout, vectorised along n, 4 rows of p at a time so
 * that each B and C vector load serves 4 rows: per row {@code H[i][·] = decay·H[i][·] + (Δx_i)·B}
 * and {@code y_i = Σ_k H[i][k]·C_k}, one horizontal sum per (token, head, row) — cheap next to the
 * 2·n multiply-adds it closes. Keeping the public layout means a short call needs no transposes
 * (the chunked kernels keep Sᵀ and pay two per sequence). The forward copies each head's state
 * into a scratch (p, n) block, runs its tokens and copies it out; the step updates it in place.
 */
final class SsdRecurrent {
    private SsdRecurrent() {}

    private static final int STATE = 0;

    static void forward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 1, (start, end) -> {
            SsdWorkspace.Task t = ws.acquire();
            try {
                float[] st = t.get(STATE, q.p * q.n); // (p, n) state of one head
                for (int item = start; item < end; item++) head(q, item / q.h, item % q.h, st);
            } finally {
                ws.release(t);
            }
        });
    }

    private static void head(SsdProblem q, int bi, int hh, float[] st) {
        int pn = q.p * q.n, gi = q.group(hh);
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        int[] cut = q.bounds(bi);
        for (int s = 0; s + 1 < cut.length; s++) {
            if (s == 0 && q.h0 != null) System.arraycopy(q.h0, q.stateAt(bi, hh), st, 0, pn);
            else Arrays.fill(st, 0, pn, 0f);
            for (int t = cut[s]; t < cut[s + 1]; t++) {
                float delta = q.dtEff(q.dtRaw(bi, t, hh));
                token(q.x, q.xAt(bi, t, hh), q.y, q.yAt(bi, t, hh), q.bm, q.bAt(bi, t, gi), q.cm, q.cAt(bi, t, gi),
                        delta, (float) Math.exp(delta * a), dSkip, st, 0, q.p, q.n);
            }
        }
        if (q.fin != null) System.arraycopy(st, 0, q.fin, q.stateAt(bi, hh), pn);
    }

    /**
     * A step is tens of microseconds: tasks get at least 256 k state elements (1 MB of state, about
     * 30 µs here), otherwise waking pool threads costs more than it saves (measured: b = 1, 24
     * heads of 64 × 128 took 22 µs on one thread and 44 µs split over two).
     */
    private static final int STEP_GRAIN_ELEMENTS = 1 << 18;

    /**
     * One token for each of b rows, the (b, h, p, n) state updated in place. Takes the arguments
     * of {@link Ssd#step} (checked by {@link SsdChecks#stepArgs}) rather than an {@link SsdProblem}:
     * a decoding step on one task then allocates nothing (no problem object, no lambda).
     */
    static void step(float[] y, int yOff, int yS, float[] state, float[] x, int xOff, int xS,
                     float[] dt, int dtOff, int dtS, float[] bm, int bOff, int bS, float[] cm, int cOff, int cS,
                     float[] a, float[] d, float[] dtBias, int b, SsdConfig cfg, ForkJoinPool pool) {
        int h = cfg.heads(), p = cfg.headDim(), n = cfg.stateDim();
        int grain = Math.max(1, STEP_GRAIN_ELEMENTS / (p * n));
        if (Parallel.serial(pool, b * h, grain)) {
            stepRange(0, b * h, y, yOff, yS, state, x, xOff, xS, dt, dtOff, dtS, bm, bOff, bS, cm, cOff, cS, a, d, dtBias,
                    cfg);
            return;
        }
        Parallel.forRange(pool, b * h, grain, (start, end) -> stepRange(start, end, y, yOff, yS, state, x, xOff, xS,
                dt, dtOff, dtS, bm, bOff, bS, cm, cOff, cS, a, d, dtBias, cfg));
    }

    /** Items [start, end) of the step, item = bi·h + hh. */
    private static void stepRange(int start, int end, float[] y, int yOff, int yS, float[] state,
                                  float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                                  float[] bm, int bOff, int bS, float[] cm, int cOff, int cS,
                                  float[] a, float[] d, float[] dtBias, SsdConfig cfg) {
        int h = cfg.heads(), p = cfg.headDim(), n = cfg.stateDim(), hpg = cfg.headsPerGroup();
        for (int item = start; item < end; item++) {
            int bi = item / h, hh = item % h, gi = hh / hpg;
            float delta = dtEff(dt[dtOff + bi * dtS + hh] + (dtBias == null ? 0f : dtBias[hh]), cfg);
            token(x, xOff + bi * xS + hh * p, y, yOff + bi * yS + hh * p, bm, bOff + bi * bS + gi * n,
                    cm, cOff + bi * cS + gi * n, delta, (float) Math.exp(delta * a[hh]), d == null ? 0f : d[hh],
                    state, item * p * n, p, n);
        }
    }

    /** Δ = clamp(softplus(raw)) as {@link SsdProblem#dtEff}, from the config alone. */
    private static float dtEff(float raw, SsdConfig cfg) {
        float v = cfg.dtSoftplus() ? VectorMath.softplus(raw) : raw;
        return cfg.clampsDt() ? Math.min(Math.max(v, cfg.dtMin()), cfg.dtMax()) : v;
    }

    /**
     * One token of one head on the (p, n) state at st[so], in place: x at x[xi], y at y[yi], B at
     * bm[bk], C at cm[ck]. Split into a 4-row and a 1-row method, each small, so that C2 inlines
     * every Vector API call inside them: a vector that crossed a call C2 did not inline would be
     * boxed on the heap on every token.
     */
    static void token(float[] x, int xi, float[] y, int yi, float[] bm, int bk, float[] cm, int ck,
                      float delta, float decay, float dSkip, float[] st, int so, int p, int n) {
        int r = 0;
        for (; r <= p - 4; r += 4) rows4(x, xi + r, y, yi + r, bm, bk, cm, ck, delta, decay, dSkip, st, so + r * n, n);
        for (; r < p; r++) row1(x, xi + r, y, yi + r, bm, bk, cm, ck, delta, decay, dSkip, st, so + r * n, n);
    }

    /** Rows r … r+3 of the state (at o0 = so + r·n): x, y already offset to row r. */
    private static void rows4(float[] x, int xi, float[] y, int yi, float[] bm, int bk, float[] cm, int ck,
                              float delta, float decay, float dSkip, float[] st, int o0, int n) {
        int nv = F.loopBound(n);
        FloatVector dv = FloatVector.broadcast(F, decay);
        float d0 = delta * x[xi], d1 = delta * x[xi + 1], d2 = delta * x[xi + 2], d3 = delta * x[xi + 3];
        int o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (; k < nv; k += L) {
            FloatVector b = FloatVector.fromArray(F, bm, bk + k), c = FloatVector.fromArray(F, cm, ck + k);
            FloatVector s0 = FloatVector.fromArray(F, st, o0 + k).fma(dv, b.mul(d0));
            FloatVector s1 = FloatVector.fromArray(F, st, o1 + k).fma(dv, b.mul(d1));
            FloatVector s2 = FloatVector.fromArray(F, st, o2 + k).fma(dv, b.mul(d2));
            FloatVector s3 = FloatVector.fromArray(F, st, o3 + k).fma(dv, b.mul(d3));
            s0.intoArray(st, o0 + k);
            s1.intoArray(st, o1 + k);
            s2.intoArray(st, o2 + k);
            s3.intoArray(st, o3 + k);
            a0 = s0.fma(c, a0);
            a1 = s1.fma(c, a1);
            a2 = s2.fma(c, a2);
            a3 = s3.fma(c, a3);
        }
        float t0 = VectorMath.sumLanes(a0), t1 = VectorMath.sumLanes(a1);
        float t2 = VectorMath.sumLanes(a2), t3 = VectorMath.sumLanes(a3);
        for (; k < n; k++) { // scalar tail of n
            float b = bm[bk + k], c = cm[ck + k];
            float v0 = decay * st[o0 + k] + d0 * b, v1 = decay * st[o1 + k] + d1 * b;
            float v2 = decay * st[o2 + k] + d2 * b, v3 = decay * st[o3 + k] + d3 * b;
            st[o0 + k] = v0;
            st[o1 + k] = v1;
            st[o2 + k] = v2;
            st[o3 + k] = v3;
            t0 += v0 * c;
            t1 += v1 * c;
            t2 += v2 * c;
            t3 += v3 * c;
        }
        y[yi] = t0 + dSkip * x[xi];
        y[yi + 1] = t1 + dSkip * x[xi + 1];
        y[yi + 2] = t2 + dSkip * x[xi + 2];
        y[yi + 3] = t3 + dSkip * x[xi + 3];
    }

    /** One row of the state (at o0 = so + r·n): x, y already offset to row r. */
    private static void row1(float[] x, int xi, float[] y, int yi, float[] bm, int bk, float[] cm, int ck,
                             float delta, float decay, float dSkip, float[] st, int o0, int n) {
        int nv = F.loopBound(n);
        FloatVector dv = FloatVector.broadcast(F, decay);
        float d0 = delta * x[xi];
        FloatVector a0 = FloatVector.zero(F);
        int k = 0;
        for (; k < nv; k += L) {
            FloatVector s0 = FloatVector.fromArray(F, st, o0 + k)
                    .fma(dv, FloatVector.fromArray(F, bm, bk + k).mul(d0));
            s0.intoArray(st, o0 + k);
            a0 = s0.fma(FloatVector.fromArray(F, cm, ck + k), a0);
        }
        float t0 = VectorMath.sumLanes(a0);
        for (; k < n; k++) {
            float v0 = decay * st[o0 + k] + d0 * bm[bk + k];
            st[o0 + k] = v0;
            t0 += v0 * cm[ck + k];
        }
        y[yi] = t0 + dSkip * x[xi];
    }
}
