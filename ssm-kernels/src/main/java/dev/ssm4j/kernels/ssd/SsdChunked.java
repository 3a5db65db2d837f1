package dev.ssm4j.kernels.ssd;

import static dev.ssm4j.kernels.ssd.SsdChunkOps.L;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.roundUp;

import dev.ssm4j.kernels.Parallel;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;

/**
 * The chunked SSD forward with SIMD (Mamba-2 paper §6, Listing 1); the same algorithm as
 * {@link SsdChunkedScalar}, reorganised so that nearly all work is four small matrix products per
 * chunk, done by the register-tiled {@link SsdGemm}:
 * <pre>
 *   CB  (Q, Q)  = C · Bᵀ                          once per (chunk, group), shared by its heads
 *   M   (Q, Q)  = CB ∘ exp(segsum) ∘ Δ_j + D·I    lower triangle, per head (elementwise); the skip on the diagonal
 *   Y   (Q, p)  = exp(cum) ∘ (C · Sᵀ_{c−1}) + M · X        state → output (rows scaled as stored), then the diagonal block
 *   Sᵀ_c (n, p) = exp(cum_last) · Sᵀ_{c−1} + Bᵀ · (w ∘ X)   chunk state and state passing at once
 * </pre>
 * Chunks are processed in order with each head's state kept in the task's workspace, so the
 * "state passing" of the paper is simply the accumulate of the last product; no per-chunk states
 * are stored. Per (token, head) this costs 2·p·n (+ Q·p/2 for the diagonal block, + Q·n/2 per
 * group) multiply-adds, the same order as the recurrence, but as GEMM-shaped work that runs close
 * to the FMA peak instead of a latency-bound elementwise recurrence.
 *
 * <p>Loop order within a task: chunk outer, heads inner, so C·Bᵀ is computed once per chunk for all
 * of the task's heads; each head's state Sᵀ (n × pp floats) stays in the workspace. The chunk's x
 * and y of all the task's heads sit in token-major buffers with a padded row stride (one copy per
 * token row in and out). The loop structure, the phase split and the variants measured are in
 * docs/ssd.md.
 */
final class SsdChunked {
    private SsdChunked() {}

    /**
     * Row block of the causal (diagonal-block) products: row i only needs columns j ≤ i, so each
     * block of rows runs K up to its last row. 6 rows match the 6 × 4-vector micro-kernel.
     */
    static final int CAUSAL_ROWS = 6;

    // task workspace slots
    private static final int STATES = 0, BT = 1, CB = 2, M = 3, ROW = 4, XP = 5, XW = 6, YB = 7, RAW = 8, DELTA = 9,
            DTA = 10, CUM = 11, ECUM = 12, W = 13, DECAY = 14;

    static void forward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        int slices = SsdChunkOps.slices(q, pool), units = q.b * q.g * slices;
        if (Parallel.serial(pool, units, 1)) {
            units(q, ws, slices, 0, units); // no task closure: one thread allocates nothing
        } else {
            Parallel.forRange(pool, units, 1, (start, end) -> units(q, ws, slices, start, end));
        }
    }

    /** Units [start, end) of the (batch row, group, head slice) list, on one task's buffers. */
    private static void units(SsdProblem q, SsdWorkspace ws, int slices, int start, int end) {
        SsdWorkspace.Task t = ws.acquire();
        try {
            for (int u = start; u < end; u++) {
                int bi = u / (q.g * slices), gi = (u / slices) % q.g, s = u % slices;
                unit(q, t, bi, gi, SsdChunkOps.sliceStart(q, gi, s, slices), SsdChunkOps.sliceStart(q, gi, s + 1, slices));
            }
        } finally {
            ws.release(t);
        }
    }

    /** Heads [hA, hB) of group gi, batch row bi. */
    private static void unit(SsdProblem q, SsdWorkspace.Task t, int bi, int gi, int hA, int hB) {
        int p = q.p, n = q.n, pp = roundUp(p), qp = roundUp(q.q), heads = hB - hA, sz = n * pp;
        float[] states = t.get(STATES, heads * sz);   // (heads, n, pp): Sᵀ per head
        float[] bt = t.get(BT, n * qp);                 // (n, Qp): Bᵀ of the chunk
        float[] cb = t.get(CB, q.q * qp);               // (Q, Qp): C·Bᵀ
        float[] m = t.get(M, q.q * qp);                 // (Q, Qp): CB ∘ L ∘ Δ_j
        float[] row = t.get(ROW, qp);                   // (Qp): running row of L
        int rs = SsdChunkOps.tokenRowStride(heads, pp); // (Q, rs): one token row of the chunk per rs floats
        float[] xall = t.get(XP, q.q * rs);             // x of the chunk, head k at columns [k·pp, k·pp + p), zero-padded
        float[] yall = t.get(YB, q.q * rs);             // y of the chunk before the copy-out, same layout
        float[] xw = t.get(XW, q.q * pp);               // (Q, pp): w_j·x_j
        float[] raw = t.get(RAW, qp), delta = t.get(DELTA, qp), dtA = t.get(DTA, qp), decay = t.get(DECAY, qp);
        float[] cum = t.get(CUM, qp), ecum = t.get(ECUM, qp), w = t.get(W, qp);
        int[] cut = q.bounds(bi);
        boolean[] zero = t.flags(heads); // state known to be all zero (skip the state → output product)
        for (int s = 0; s + 1 < cut.length; s++) {
            boolean lastSeq = s + 2 == cut.length;
            for (int hh = hA; hh < hB; hh++) {
                zero[hh - hA] = !(s == 0 && q.h0 != null);
                if (!zero[hh - hA]) SsdChunkOps.stateIn(q.h0, q.stateAt(bi, hh), p, n, states, (hh - hA) * sz, pp);
            }
            for (int c0 = cut[s]; c0 < cut[s + 1]; c0 += q.q) {
                int len = Math.min(q.q, cut[s + 1] - c0), lp = roundUp(len);
                boolean lastChunk = c0 + len == cut[s + 1];
                boolean needState = !lastChunk || (lastSeq && q.fin != null);
                // C·Bᵀ for the group: the full (len, lp) square — whole register tiles beat skipping the
                // upper triangle with narrower ones, and it is shared by all heads of the task
                SsdChunkOps.packTransposed(q.bm, q.bAt(bi, c0, gi), q.bS, n, len, bt, qp);
                int cAt = q.cAt(bi, c0, gi);
                // x of the task's heads into token rows rs floats apart: the caller's rows are h·p floats
                // apart (6 KB), a stride that maps a head's rows to two L1 sets when the products below
                // stream them; rs is a little longer, so they spread over all sets. With pp = p a token
                // row is one copy of (hB − hA)·p floats; y goes out the same way
                SsdChunkOps.packTokens(q.x, q.xAt(bi, c0, hA), q.xS, hB - hA, p, len, xall, rs, pp);
                SsdGemm.mm(cb, 0, qp, 0f, null, 0, 0, q.cm, cAt, q.cS, 1, bt, 0, qp, len, lp, 0, n);
                for (int hh = hA; hh < hB; hh++) {
                    int so = (hh - hA) * sz;
                    float dSkip = q.d == null ? 0f : q.d[hh];
                    float total = SsdChunkOps.deltas(q, bi, hh, c0, len, raw, null, delta, dtA, cum, decay, ecum);
                    SsdChunkOps.decayMatrix(m, cb, qp, null, row, decay, delta, len);
                    int xo = (hh - hA) * pp; // this head's columns of xall and yall
                    // Y = exp(cum) ∘ (C · Sᵀ)   (state → output: the low-rank off-diagonal blocks), C read in place,
                    //                           the rows scaled by exp(cum_i) as the product stores them
                    //   + M · X                 (the diagonal block, with the skip D on M's diagonal), by causal
                    //                           blocks of CAUSAL_ROWS; it initialises Y when the state is zero
                    boolean fromState = !zero[hh - hA];
                    if (dSkip != 0f) for (int i = 0; i < len; i++) m[i * qp + i] += dSkip;
                    if (fromState) {
                        SsdGemm.mm(yall, xo, rs, 0f, null, 0, 0, q.cm, cAt, q.cS, 1, states, so, pp, len, pp, 0, n, ecum, 0);
                    }
                    float beta = fromState ? 1f : 0f;
                    for (int r0 = 0; r0 < len; r0 += CAUSAL_ROWS) {
                        int rows = Math.min(CAUSAL_ROWS, len - r0);
                        SsdGemm.mm(yall, xo + r0 * rs, rs, beta, yall, xo + r0 * rs, rs, m, r0 * qp, qp, 1, xall, xo, rs,
                                rows, pp, 0, r0 + rows);
                    }
                    if (needState) {
                        // Sᵀ = exp(cum_last)·Sᵀ + Bᵀ · (w ∘ X),  w_j = L[len−1][j]·Δ_j
                        SsdChunkOps.stateWeights(row, delta, len, w);
                        scaleRows(xall, xo, rs, w, len, pp, xw);
                        float keep = zero[hh - hA] ? 0f : (float) Math.exp(total);
                        SsdGemm.mm(states, so, pp, keep, states, so, pp, bt, 0, qp, 1, xw, 0, pp,
                                n, pp, 0, len);
                        zero[hh - hA] = false;
                    }
                }
                SsdChunkOps.unpackTokens(yall, rs, pp, hB - hA, p, len, q.y, q.yAt(bi, c0, hA), q.yS);
            }
            if (lastSeq && q.fin != null) {
                for (int hh = hA; hh < hB; hh++) {
                    if (zero[hh - hA]) Arrays.fill(q.fin, q.stateAt(bi, hh), q.stateAt(bi, hh) + p * n, 0f);
                    else SsdChunkOps.stateOut(states, (hh - hA) * sz, pp, p, n, q.fin, q.stateAt(bi, hh), false);
                }
            }
        }
    }

    /** dst[j][·] = w_j · src[so + j·ss + ·] for j &lt; len (pp floats per row). */
    static void scaleRows(float[] src, int so, int ss, float[] w, int len, int pp, float[] dst) {
        for (int j = 0; j < len; j++) {
            FloatVector wj = FloatVector.broadcast(SsdChunkOps.F, w[j]);
            for (int v = 0; v < pp; v += L) {
                FloatVector.fromArray(SsdChunkOps.F, src, so + j * ss + v).mul(wj).intoArray(dst, j * pp + v);
            }
        }
    }
}
