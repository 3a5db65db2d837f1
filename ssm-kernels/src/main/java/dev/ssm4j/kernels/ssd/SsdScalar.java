package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.Parallel;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * The plain recurrence, in scalar Java written to be read: the reference every other SSD
 * implementation is tested against (Mamba-2 paper §3, eq. (1a)–(1b) with the scalar-times-identity
 * A of §3.3 / §6).
 *
 * <pre>
 *   for each (batch row bi, head hh), group gi = hh / (h/g):
 *     H = initial state (p × n) or 0; H = 0 again at every inner sequence boundary
 *     for t:
 *       Δ     = clamp(softplus(dt[t,hh] + dt_bias[hh]))
 *       decay = exp(Δ · A[hh])
 *       H[i][k] = decay · H[i][k] + Δ · x[t,hh,i] · B[t,gi,k]
 *       y[t,hh,i] = Σ_k H[i][k] · C[t,gi,k] + D[hh] · x[t,hh,i]
 * </pre>
 * Costs 2·p·n multiply-adds per (token, head) and keeps one (p, n) state per head.
 */
final class SsdScalar {
    private SsdScalar() {}

    // ---- forward ------------------------------------------------------------------------------

    static void forward(SsdProblem q, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 1, (start, end) -> {
            float[] state = new float[q.p * q.n]; // (p, n) scratch of this task
            for (int item = start; item < end; item++) forwardHead(q, item / q.h, item % q.h, state);
        });
    }

    private static void forwardHead(SsdProblem q, int bi, int hh, float[] state) {
        int p = q.p, n = q.n, gi = q.group(hh);
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        int[] cut = q.bounds(bi);
        for (int s = 0; s + 1 < cut.length; s++) {
            startState(q, bi, hh, s, state);
            for (int t = cut[s]; t < cut[s + 1]; t++) {
                float delta = q.dtEff(q.dtRaw(bi, t, hh));
                float decay = (float) Math.exp(delta * a);
                int xi = q.xAt(bi, t, hh), yi = q.yAt(bi, t, hh), bk = q.bAt(bi, t, gi), ck = q.cAt(bi, t, gi);
                for (int i = 0; i < p; i++) {
                    float xv = q.x[xi + i], dx = delta * xv, acc = 0f;
                    for (int k = 0; k < n; k++) {
                        float v = decay * state[i * n + k] + dx * q.bm[bk + k];
                        state[i * n + k] = v;
                        acc += v * q.cm[ck + k];
                    }
                    q.y[yi + i] = acc + dSkip * xv;
                }
            }
        }
        if (q.fin != null) System.arraycopy(state, 0, q.fin, q.stateAt(bi, hh), p * n);
    }

    /** The state at the start of sequence s of row bi: the initial state for s = 0, else zero. */
    private static void startState(SsdProblem q, int bi, int hh, int s, float[] state) {
        if (s == 0 && q.h0 != null) System.arraycopy(q.h0, q.stateAt(bi, hh), state, 0, q.p * q.n);
        else Arrays.fill(state, 0f);
    }

    /** One token of the recurrence on a (p, n) state (no output): used to recompute states. */
    private static void advance(SsdProblem q, int bi, int t, int hh, float[] from, int fromOff, float[] to, int toOff) {
        int p = q.p, n = q.n, gi = q.group(hh);
        float delta = q.dtEff(q.dtRaw(bi, t, hh));
        float decay = (float) Math.exp(delta * q.a[hh]);
        int xi = q.xAt(bi, t, hh), bk = q.bAt(bi, t, gi);
        for (int i = 0; i < p; i++) {
            float dx = delta * q.x[xi + i];
            for (int k = 0; k < n; k++) {
                to[toOff + i * n + k] = decay * from[fromOff + i * n + k] + dx * q.bm[bk + k];
            }
        }
    }

    // ---- backward -----------------------------------------------------------------------------

    /**
     * Reverse-mode recurrence. With G_t = ∂L/∂H_t (everything that reaches H_t from y_t and later):
     * <pre>
     *   G_t      = dy_t ⊗ C_t + decay_{t+1} · G_{t+1}       (G at the row end = dFinalState)
     *   dC_t    += H_tᵀ dy_t            dx_t += Δ_t · G_t B_t + D · dy_t
     *   dB_t    += Δ_t · G_tᵀ x_t       dΔ_t  = Σ G_t ∘ (x_t ⊗ B_t) + A · decay_t · Σ G_t ∘ H_{t−1}
     *   dA      += Δ_t · decay_t · Σ G_t ∘ H_{t−1}
     * </pre>
     * The states H_{t−1} are recomputed block by block (Q tokens) from checkpoints taken every Q
     * tokens, so memory is (l/Q + Q + 1)·p·n per head instead of l·p·n. Work is split over
     * (batch row, group), so that every dB, dC row has one writer; the per-head sums (dA, dD,
     * dDtBias) are collected per batch row and added in a fixed order (deterministic).
     */
    static void backward(SsdProblem q, ForkJoinPool pool) {
        int b = q.b, h = q.h;
        float[] headSums = new float[b * h * 3]; // (b, h, {dA, dD, dDtBias})
        Parallel.forRange(pool, b * q.g, 1, (start, end) -> {
            int pn = q.p * q.n, blk = q.q;
            float[] grad = new float[pn];                                  // G (p, n)
            float[] ckpt = new float[((q.l + blk - 1) / blk + 1) * pn];     // (blocks, p, n)
            float[] states = new float[(blk + 1) * pn];                      // (Q+1, p, n)
            for (int item = start; item < end; item++) {
                int bi = item / q.g, gi = item % q.g;
                for (int hh = gi * q.hpg; hh < (gi + 1) * q.hpg; hh++) {
                    backwardHead(q, bi, hh, grad, ckpt, states, headSums, (bi * h + hh) * 3);
                }
            }
        });
        for (int bi = 0; bi < b; bi++) {
            for (int hh = 0; hh < h; hh++) {
                int o = (bi * h + hh) * 3;
                q.da[hh] += headSums[o];
                if (q.dd != null) q.dd[hh] += headSums[o + 1];
                if (q.dDtBias != null) q.dDtBias[hh] += headSums[o + 2];
            }
        }
    }

    private static void backwardHead(SsdProblem q, int bi, int hh, float[] grad, float[] ckpt, float[] states,
                                     float[] sums, int so) {
        int p = q.p, n = q.n, pn = p * n, gi = q.group(hh), blk = q.q;
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        int[] cut = q.bounds(bi);
        for (int s = 0; s + 1 < cut.length; s++) {
            int t0 = cut[s], t1 = cut[s + 1], blocks = (t1 - t0 + blk - 1) / blk;
            // forward: checkpoint the state at the start of each block of Q tokens
            startState(q, bi, hh, s, states);
            for (int c = 0; c < blocks; c++) {
                System.arraycopy(states, 0, ckpt, c * pn, pn);
                for (int t = t0 + c * blk; t < Math.min(t1, t0 + (c + 1) * blk); t++) {
                    advance(q, bi, t, hh, states, 0, states, 0);
                }
            }
            // backward: G starts as the gradient of the final state (last sequence of the row only)
            if (s + 2 == cut.length && q.dfin != null) System.arraycopy(q.dfin, q.stateAt(bi, hh), grad, 0, pn);
            else Arrays.fill(grad, 0f);
            for (int c = blocks - 1; c >= 0; c--) {
                int tb = t0 + c * blk, te = Math.min(t1, tb + blk);
                System.arraycopy(ckpt, c * pn, states, 0, pn);
                for (int t = tb; t < te; t++) advance(q, bi, t, hh, states, (t - tb) * pn, states, (t - tb + 1) * pn);
                for (int t = te - 1; t >= tb; t--) {
                    int prev = (t - tb) * pn, cur = prev + pn;
                    float raw = q.dtRaw(bi, t, hh), delta = q.dtEff(raw);
                    float decay = (float) Math.exp(delta * a);
                    int xi = q.xAt(bi, t, hh), yi = q.dyAt(bi, t, hh), bk = q.bAt(bi, t, gi), ck = q.cAt(bi, t, gi);
                    int dxi = q.dxAt(bi, t, hh), dbk = q.dbAt(bi, t, gi), dck = q.dcAt(bi, t, gi);
                    float gxb = 0f, ghh = 0f, dD = 0f;
                    for (int i = 0; i < p; i++) {
                        float dyi = q.dy[yi + i], xv = q.x[xi + i], gB = 0f;
                        for (int k = 0; k < n; k++) {
                            float gik = grad[i * n + k] + dyi * q.cm[ck + k]; // G_t
                            grad[i * n + k] = gik;
                            q.dcm[dck + k] += dyi * states[cur + i * n + k];
                            q.dbm[dbk + k] += delta * xv * gik;
                            gB += gik * q.bm[bk + k];
                            ghh += gik * states[prev + i * n + k];
                        }
                        gxb += xv * gB;
                        q.dx[dxi + i] += delta * gB + dSkip * dyi;
                        dD += dyi * xv;
                    }
                    float dDelta = gxb + a * decay * ghh;
                    float dRaw = dDelta * q.dtGrad(raw);
                    q.ddt[q.ddtAt(bi, t, hh)] += dRaw;
                    sums[so] += delta * decay * ghh;
                    sums[so + 1] += dD;
                    sums[so + 2] += dRaw;
                    for (int k = 0; k < pn; k++) grad[k] *= decay; // G_{t−1} before adding dy_{t−1} ⊗ C_{t−1}
                }
            }
            if (s == 0 && q.dh0 != null) {
                int o = q.stateAt(bi, hh);
                for (int k = 0; k < pn; k++) q.dh0[o + k] += grad[k];
            }
        }
    }

    // ---- step ---------------------------------------------------------------------------------

    /** One token per batch row; the (b, h, p, n) state is updated in place. */
    static void step(SsdProblem q, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 1, (start, end) -> {
            for (int item = start; item < end; item++) {
                int bi = item / q.h, hh = item % q.h, gi = q.group(hh), n = q.n;
                float delta = q.dtEff(q.dtRaw(bi, 0, hh));
                float decay = (float) Math.exp(delta * q.a[hh]), dSkip = q.d == null ? 0f : q.d[hh];
                int xi = q.xAt(bi, 0, hh), yi = q.yAt(bi, 0, hh), bk = q.bAt(bi, 0, gi), ck = q.cAt(bi, 0, gi);
                int so = q.stateAt(bi, hh);
                for (int i = 0; i < q.p; i++) {
                    float xv = q.x[xi + i], dx = delta * xv, acc = 0f;
                    for (int k = 0; k < n; k++) {
                        float v = decay * q.h0[so + i * n + k] + dx * q.bm[bk + k];
                        q.h0[so + i * n + k] = v;
                        acc += v * q.cm[ck + k];
                    }
                    q.y[yi + i] = acc + dSkip * xv;
                }
            }
        });
    }
}
