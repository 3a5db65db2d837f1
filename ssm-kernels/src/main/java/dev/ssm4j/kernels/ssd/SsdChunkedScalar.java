package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.Parallel;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * The chunked SSD algorithm (Mamba-2 paper §6, Listing 1) in plain scalar Java, one head at a
 * time: the readable twin of {@link SsdChunked} and {@link SsdChunkedBackward}, and what
 * docs/ssd.md walks through.
 *
 * <p>A sequence is cut into chunks of Q tokens (the last one may be shorter). Inside chunk c,
 * with cum_i = Σ_{k≤i} Δ_k·A (chunk-relative, inclusive) and the segment sum
 * seg(i, j) = Σ_{j<k≤i} Δ_k·A:
 * <pre>
 *   Y_i   = Σ_{j≤i} exp(seg(i,j)) · (C_i·B_j) · Δ_j · x_j        (1) diagonal block, quadratic in Q
 *         + exp(cum_i) · S_{c−1} C_i                                (2) off-diagonal: state → output
 *   S_c   = exp(cum_{Q−1}) · S_{c−1} + Σ_j exp(seg(Q−1,j)) · Δ_j · x_j ⊗ B_j   (3) chunk state, passing
 * </pre>
 * S_{c−1} is the state before the chunk (the initial state, or zero, before the first chunk).
 * Segment sums are accumulated directly (a running sum over k), never as cum_i − cum_j, which
 * would lose the small differences of large cumulative sums; with A ≤ 0 every exponent is ≤ 0.
 */
final class SsdChunkedScalar {
    private SsdChunkedScalar() {}

    // ---- forward ------------------------------------------------------------------------------

    static void forward(SsdProblem q, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 1, (start, end) -> {
            float[] state = new float[q.p * q.n]; // S (p, n)
            float[] delta = new float[q.q];       // Δ_j of the chunk
            float[] dtA = new float[q.q];         // Δ_j·A
            for (int item = start; item < end; item++) forwardHead(q, item / q.h, item % q.h, state, delta, dtA);
        });
    }

    private static void forwardHead(SsdProblem q, int bi, int hh, float[] state, float[] delta, float[] dtA) {
        int p = q.p, n = q.n, gi = q.group(hh);
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        int[] cut = q.bounds(bi);
        for (int s = 0; s + 1 < cut.length; s++) {
            startState(q, bi, hh, s, state);
            for (int c0 = cut[s]; c0 < cut[s + 1]; c0 += q.q) {
                int len = Math.min(q.q, cut[s + 1] - c0);
                for (int j = 0; j < len; j++) {
                    delta[j] = q.dtEff(q.dtRaw(bi, c0 + j, hh));
                    dtA[j] = delta[j] * a;
                }
                float cum = 0f;
                for (int i = 0; i < len; i++) {
                    cum += dtA[i];
                    int xi = q.xAt(bi, c0 + i, hh), yi = q.yAt(bi, c0 + i, hh), ci = q.cAt(bi, c0 + i, gi);
                    // (2) state → output, then D·x
                    float decayIn = (float) Math.exp(cum);
                    for (int r = 0; r < p; r++) {
                        float acc = 0f;
                        for (int k = 0; k < n; k++) acc += state[r * n + k] * q.cm[ci + k];
                        q.y[yi + r] = decayIn * acc + dSkip * q.x[xi + r];
                    }
                    // (1) diagonal block: row i of (L ∘ C Bᵀ) · (Δ x)
                    float seg = 0f; // seg(i, j), grown from j = i downwards
                    for (int j = i; j >= 0; j--) {
                        int bj = q.bAt(bi, c0 + j, gi), xj = q.xAt(bi, c0 + j, hh);
                        float cb = 0f;
                        for (int k = 0; k < n; k++) cb += q.cm[ci + k] * q.bm[bj + k];
                        float m = (float) Math.exp(seg) * cb * delta[j];
                        for (int r = 0; r < p; r++) q.y[yi + r] += m * q.x[xj + r];
                        seg += dtA[j];
                    }
                }
                // (3) chunk state and state passing: S = exp(cum_last)·S + Σ_j w_j x_j ⊗ B_j
                float total = 0f;
                for (int j = 0; j < len; j++) total += dtA[j];
                float keep = (float) Math.exp(total);
                for (int e = 0; e < p * n; e++) state[e] *= keep;
                float seg = 0f; // seg(len−1, j)
                for (int j = len - 1; j >= 0; j--) {
                    float w = (float) Math.exp(seg) * delta[j];
                    int xj = q.xAt(bi, c0 + j, hh), bj = q.bAt(bi, c0 + j, gi);
                    for (int r = 0; r < p; r++) {
                        float wx = w * q.x[xj + r];
                        for (int k = 0; k < n; k++) state[r * n + k] += wx * q.bm[bj + k];
                    }
                    seg += dtA[j];
                }
            }
        }
        if (q.fin != null) System.arraycopy(state, 0, q.fin, q.stateAt(bi, hh), p * n);
    }

    private static void startState(SsdProblem q, int bi, int hh, int s, float[] state) {
        if (s == 0 && q.h0 != null) System.arraycopy(q.h0, q.stateAt(bi, hh), state, 0, q.p * q.n);
        else Arrays.fill(state, 0f);
    }

    // ---- backward -----------------------------------------------------------------------------

    /**
     * Reverse pass over the chunks of the forward above, with dS = ∂L/∂S_c flowing from the last
     * chunk to the first (it starts as dFinalState). The chunk-start states S_{c−1} are recomputed
     * by a forward state pass (step (3) only) and kept, one (p, n) state per chunk.
     *
     * <p>All exponent gradients are gathered in one matrix dseg(i, j), j = −1 … i−1, the gradient
     * w.r.t. the segment sum seg(i, j) (column −1 stands for cum_i = seg(i, −1)); since
     * seg(i, j) = Σ_{j<k≤i} Δ_k A, the gradient of Δ_k·A is T_k = Σ_{i≥k} Σ_{j<k} dseg(i, j),
     * computed in O(Q²) by T_{k+1} = T_k + Σ_{i>k} dseg(i, k) − Σ_{j<k} dseg(k, j).
     * The derivation is in docs/ssd.md.
     */
    static void backward(SsdProblem q, ForkJoinPool pool) {
        int b = q.b, h = q.h;
        float[] headSums = new float[b * h * 3]; // (b, h, {dA, dD, dDtBias})
        Parallel.forRange(pool, b * q.g, 1, (start, end) -> {
            Scratch sc = new Scratch(q);
            for (int item = start; item < end; item++) {
                int bi = item / q.g, gi = item % q.g;
                for (int hh = gi * q.hpg; hh < (gi + 1) * q.hpg; hh++) {
                    backwardHead(q, bi, hh, sc, headSums, (bi * h + hh) * 3);
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

    private static final class Scratch {
        final float[] ckpt, ds, dsPrev, raw, delta, dtA, dDelta, dseg, u;

        Scratch(SsdProblem q) {
            int pn = q.p * q.n, chunks = (q.l + q.q - 1) / q.q + 1;
            ckpt = new float[chunks * pn];          // (chunks, p, n) chunk-start states
            ds = new float[pn];                     // dS_c (p, n)
            dsPrev = new float[pn];                 // dS_{c−1}
            raw = new float[q.q];
            delta = new float[q.q];
            dtA = new float[q.q];
            dDelta = new float[q.q];                // ∂L/∂Δ_j
            dseg = new float[q.q * (q.q + 1)];      // (Q, Q+1): dseg(i, j) at [i][j+1]
            u = new float[q.p];
        }
    }

    private static void backwardHead(SsdProblem q, int bi, int hh, Scratch sc, float[] sums, int so) {
        int p = q.p, n = q.n, pn = p * n, gi = q.group(hh), w1 = q.q + 1;
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        float[] ckpt = sc.ckpt, ds = sc.ds, dsPrev = sc.dsPrev, delta = sc.delta, dtA = sc.dtA, dDelta = sc.dDelta,
                dseg = sc.dseg, u = sc.u;
        int[] cut = q.bounds(bi);
        for (int s = 0; s + 1 < cut.length; s++) {
            int t0 = cut[s], t1 = cut[s + 1], chunks = (t1 - t0 + q.q - 1) / q.q;
            // recompute the chunk-start states with step (3) of the forward
            startState(q, bi, hh, s, dsPrev);
            for (int c = 0; c < chunks; c++) {
                System.arraycopy(dsPrev, 0, ckpt, c * pn, pn);
                int c0 = t0 + c * q.q, len = Math.min(q.q, t1 - c0);
                loadDt(q, bi, hh, c0, len, sc);
                float total = 0f;
                for (int j = 0; j < len; j++) total += dtA[j];
                float keep = (float) Math.exp(total);
                for (int e = 0; e < pn; e++) dsPrev[e] *= keep;
                float seg = 0f;
                for (int j = len - 1; j >= 0; j--) {
                    float w = (float) Math.exp(seg) * delta[j];
                    int xj = q.xAt(bi, c0 + j, hh), bj = q.bAt(bi, c0 + j, gi);
                    for (int r = 0; r < p; r++) {
                        for (int k = 0; k < n; k++) dsPrev[r * n + k] += w * q.x[xj + r] * q.bm[bj + k];
                    }
                    seg += dtA[j];
                }
            }
            if (s + 2 == cut.length && q.dfin != null) System.arraycopy(q.dfin, q.stateAt(bi, hh), ds, 0, pn);
            else Arrays.fill(ds, 0f);

            for (int c = chunks - 1; c >= 0; c--) {
                int c0 = t0 + c * q.q, len = Math.min(q.q, t1 - c0), sp = c * pn; // S_{c−1} at ckpt[sp]
                loadDt(q, bi, hh, c0, len, sc);
                Arrays.fill(dDelta, 0, len, 0f);
                Arrays.fill(dseg, 0, len * w1, 0f);
                Arrays.fill(dsPrev, 0f);
                float dD = 0f;
                // (2) state → output: Y_i += exp(cum_i) · S_{c−1} C_i
                float cum = 0f;
                for (int i = 0; i < len; i++) {
                    cum += dtA[i];
                    float e = (float) Math.exp(cum), rho = 0f;
                    int yi = q.dyAt(bi, c0 + i, hh), ci = q.cAt(bi, c0 + i, gi), dci = q.dcAt(bi, c0 + i, gi);
                    for (int r = 0; r < p; r++) {
                        float dyr = q.dy[yi + r], v = 0f;
                        for (int k = 0; k < n; k++) {
                            v += ckpt[sp + r * n + k] * q.cm[ci + k];
                            q.dcm[dci + k] += e * dyr * ckpt[sp + r * n + k];
                            dsPrev[r * n + k] += e * dyr * q.cm[ci + k];
                        }
                        rho += dyr * v;
                    }
                    dseg[i * w1] += e * rho; // ∂L/∂cum_i
                }
                // (1) diagonal block: M(i,j) = exp(seg(i,j)) · (C_i·B_j) · Δ_j, Y_i += M(i,j) x_j
                for (int i = 0; i < len; i++) {
                    int yi = q.dyAt(bi, c0 + i, hh), ci = q.cAt(bi, c0 + i, gi), dci = q.dcAt(bi, c0 + i, gi);
                    float seg = 0f;
                    for (int j = i; j >= 0; j--) {
                        int xj = q.xAt(bi, c0 + j, hh), bj = q.bAt(bi, c0 + j, gi);
                        int dxj = q.dxAt(bi, c0 + j, hh), dbj = q.dbAt(bi, c0 + j, gi);
                        float cb = 0f, dM = 0f;
                        for (int k = 0; k < n; k++) cb += q.cm[ci + k] * q.bm[bj + k];
                        for (int r = 0; r < p; r++) dM += q.dy[yi + r] * q.x[xj + r];
                        float e = (float) Math.exp(seg), m = e * cb * delta[j];
                        for (int r = 0; r < p; r++) q.dx[dxj + r] += m * q.dy[yi + r];
                        float dCB = dM * e * delta[j];
                        for (int k = 0; k < n; k++) {
                            q.dcm[dci + k] += dCB * q.bm[bj + k];
                            q.dbm[dbj + k] += dCB * q.cm[ci + k];
                        }
                        dDelta[j] += dM * e * cb;
                        if (j < i) dseg[i * w1 + j + 1] += dM * m;
                        seg += dtA[j];
                    }
                }
                // (3) chunk state: S_c = exp(cum_last)·S_{c−1} + Σ_j w_j x_j ⊗ B_j, w_j = exp(seg(last,j))·Δ_j
                float seg = 0f;
                for (int j = len - 1; j >= 0; j--) {
                    float e = (float) Math.exp(seg), w = e * delta[j];
                    int xj = q.xAt(bi, c0 + j, hh), bj = q.bAt(bi, c0 + j, gi);
                    int dxj = q.dxAt(bi, c0 + j, hh), dbj = q.dbAt(bi, c0 + j, gi);
                    float dw = 0f;
                    for (int r = 0; r < p; r++) {
                        float ur = 0f;
                        for (int k = 0; k < n; k++) ur += ds[r * n + k] * q.bm[bj + k];
                        u[r] = ur;
                        q.dx[dxj + r] += w * ur;
                        dw += q.x[xj + r] * ur;
                    }
                    for (int k = 0; k < n; k++) {
                        float acc = 0f;
                        for (int r = 0; r < p; r++) acc += q.x[xj + r] * ds[r * n + k];
                        q.dbm[dbj + k] += w * acc;
                    }
                    dDelta[j] += dw * e;
                    if (j < len - 1) dseg[(len - 1) * w1 + j + 1] += dw * w;
                    seg += dtA[j];
                }
                float keep = (float) Math.exp(seg), sigma = 0f; // seg is now cum_last
                for (int e = 0; e < pn; e++) {
                    sigma += ds[e] * ckpt[sp + e];
                    dsPrev[e] += keep * ds[e];
                }
                dseg[(len - 1) * w1] += keep * sigma;
                // D skip
                for (int i = 0; i < len; i++) {
                    int yi = q.dyAt(bi, c0 + i, hh), xi = q.xAt(bi, c0 + i, hh), dxi = q.dxAt(bi, c0 + i, hh);
                    for (int r = 0; r < p; r++) {
                        dD += q.dy[yi + r] * q.x[xi + r];
                        q.dx[dxi + r] += dSkip * q.dy[yi + r];
                    }
                }
                // segment sums → ∂L/∂(Δ_k A) = T_k
                float tk = 0f;
                for (int i = 0; i < len; i++) tk += dseg[i * w1];
                float dA = 0f;
                for (int k = 0; k < len; k++) {
                    dDelta[k] += a * tk;
                    dA += delta[k] * tk;
                    float below = 0f, left = 0f;
                    for (int i = k + 1; i < len; i++) below += dseg[i * w1 + k + 1];
                    for (int j = -1; j < k; j++) left += dseg[k * w1 + j + 1];
                    tk += below - left;
                }
                // Δ = clamp(softplus(raw)) → raw
                float dBias = 0f;
                for (int j = 0; j < len; j++) {
                    float dRaw = dDelta[j] * q.dtGrad(sc.raw[j]);
                    q.ddt[q.ddtAt(bi, c0 + j, hh)] += dRaw;
                    dBias += dRaw;
                }
                sums[so] += dA;
                sums[so + 1] += dD;
                sums[so + 2] += dBias;
                System.arraycopy(dsPrev, 0, ds, 0, pn);
            }
            if (s == 0 && q.dh0 != null) {
                int o = q.stateAt(bi, hh);
                for (int e = 0; e < pn; e++) q.dh0[o + e] += ds[e];
            }
        }
    }

    private static void loadDt(SsdProblem q, int bi, int hh, int c0, int len, Scratch sc) {
        for (int j = 0; j < len; j++) {
            sc.raw[j] = q.dtRaw(bi, c0 + j, hh);
            sc.delta[j] = q.dtEff(sc.raw[j]);
            sc.dtA[j] = sc.delta[j] * q.a[hh];
        }
    }
}
