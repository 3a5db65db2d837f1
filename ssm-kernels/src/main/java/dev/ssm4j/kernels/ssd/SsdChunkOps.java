package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pieces shared by the SIMD chunked forward and backward: how the work is split into tasks, the
 * per-chunk Δ, the decay matrix, packing and the state transposes.
 *
 * <h2>Internal layouts</h2>
 * Inside the chunked kernels a head's state is kept transposed, Sᵀ (n, pp) with pp = p rounded up
 * to the vector length (zero padding), so that every product that updates or reads it is
 * vectorised along p; the public (b, h, p, n) layout is converted at the start and the end of a
 * sequence only. Chunk operands are packed into (Q, pp) or (n, Qp) rows with zero padding, so
 * the micro-kernels of {@link SsdGemm} never see a ragged edge.
 */
final class SsdChunkOps {
    private SsdChunkOps() {}

    static final VectorSpecies<Float> F = KernelConfig.F;
    static final int L = KernelConfig.LANES;

    static int roundUp(int v) {
        return (v + L - 1) / L * L;
    }

    // ---- work split ---------------------------------------------------------------------------

    /**
     * Tasks are (batch row, group, slice of the group's heads): a task shares C·Bᵀ between its
     * heads, and in the backward it alone writes the dB, dC rows of its (row, group) — unless the
     * group's heads are sliced to give every thread work (b·g &lt; threads), in which case slice 0
     * writes them and the other slices add theirs afterwards in a fixed order.
     */
    static int slices(SsdProblem q, ForkJoinPool pool) {
        int threads = Parallel.threads(pool), rowsGroups = q.b * q.g;
        if (rowsGroups >= threads) return 1;
        return Math.min(q.hpg, (threads + rowsGroups - 1) / rowsGroups);
    }

    /** First head of slice {@code s} of group {@code gi} when the group's heads are cut in {@code slices}. */
    static int sliceStart(SsdProblem q, int gi, int s, int slices) {
        return gi * q.hpg + (int) ((long) q.hpg * s / slices);
    }

    // ---- Δ ------------------------------------------------------------------------------------

    /**
     * The Δ work of head hh for the tokens [c0, c0 + len) of row bi, every array padded to
     * roundUp(len) lanes:
     * <pre>
     *   raw   = dt + dt_bias                        (0 past len)
     *   pre   = softplus(raw), or raw without it    (before the clamp; past len: of raw = 0)  — skipped when null
     *   delta = Δ = clamp(pre)                      (0 past len)
     *   dtA   = Δ·A                                 (0 past len)
     *   cum_i = Σ_{k≤i} dtA_k                       (0 past len)
     *   decay = exp(dtA), ecum = exp(cum)           (1 past len)
     * </pre>
     * and returns cum_{len−1}, the chunk's total log-decay. softplus is VectorMath.softplus's
     * operations in its order (max(raw, 0) + log1pUnit(exp(−|raw|))), so every value is bit for bit
     * what separate softplus and exp calls give.
     *
     * <p>Why it is one method with one exp call site (docs/ssd.md, "Allocation and the JIT"): each
     * inlined VectorMath.exp costs C2 about 13 000 of the 18 000 IR nodes a compilation may reach
     * before it stops inlining (NodeCountInliningCutoff), and a VectorMath call that is not inlined
     * boxes its vectors on the heap. The three exps of a chunk (softplus's, exp(cum), exp(dtA)) run
     * through the one loop below, one pass each, so this method's compilation holds one exp and one
     * log1pUnit and both fit. It is longer than 325 bytecodes (C2's FreqInlineSize; checked by
     * SsdJitShapeTest), so C2 never inlines it into the kernels' big loop methods, where the budget
     * is already spent by other work: it is always compiled on its own.
     */
    static float deltas(SsdProblem q, int bi, int hh, int c0, int len, float[] raw, float[] pre, float[] delta,
                        float[] dtA, float[] cum, float[] decay, float[] ecum) {
        float bias = q.dtBias == null ? 0f : q.dtBias[hh], a = q.a[hh];
        int at = q.dtAt(bi, c0, hh), lp = roundUp(len);
        for (int j = 0; j < len; j++) raw[j] = q.dt[at + j * q.dtS] + bias;
        Arrays.fill(raw, len, lp, 0f);
        // pass 0: e^−|raw| into decay (softplus only; −|raw| staged in cum, which is free until pass 1);
        // then Δ, Δ·A and cum; pass 1: decay = exp(dtA); pass 2: ecum = exp(cum)
        if (q.softplus) for (int j = 0; j < lp; j++) cum[j] = -Math.abs(raw[j]);
        float total = 0f;
        for (int pass = q.softplus ? 0 : 1; pass < 3; pass++) {
            if (pass == 1) {
                for (int v = 0; v < lp; v += L) {
                    FloatVector r = FloatVector.fromArray(F, raw, v);
                    FloatVector d = q.softplus ? r.max(0f).add(VectorMath.log1pUnit(FloatVector.fromArray(F, decay, v))) : r;
                    if (pre != null) d.intoArray(pre, v);
                    if (q.clamp) d = d.max(q.dtMin).min(q.dtMax);
                    d.intoArray(delta, v);
                    d.mul(a).intoArray(dtA, v);
                }
                Arrays.fill(delta, len, lp, 0f);
                Arrays.fill(dtA, len, lp, 0f);
                float s = 0f;
                for (int i = 0; i < len; i++) cum[i] = s += dtA[i];
                Arrays.fill(cum, len, lp, 0f);
                total = s;
            }
            float[] src = pass == 1 ? dtA : cum, dst = pass == 2 ? ecum : decay;
            for (int v = 0; v < lp; v += L) VectorMath.exp(FloatVector.fromArray(F, src, v)).intoArray(dst, v);
        }
        return total;
    }

    // ---- decay matrix ---------------------------------------------------------------------------

    private static final float FLUSH = 1e-30f;

    /**
     * The decay matrix L[i][j] = exp(seg(i, j)) = Π_{j<k≤i} decay_k (1 on the diagonal, 0 above)
     * and M[i][j] = CB[i][j] · L[i][j] · Δ_j, rows i &lt; len (columns up to roundUp(len)), row
     * stride ld. With {@code e} non-null, L itself is
     * stored there too.
     *
     * <p>L is built as a running product of one row: row i = row i−1 · decay_i, then lane i set
     * to 1 (same values, bit for bit, as computing it in that order with scalars). That is the segment sum of the paper exponentiated term by term: every factor is
     * exp(Δ·A) ≤ 1 (for A ≤ 0), so no exponent is ever large and positive and no difference of
     * large cumulative sums is taken; the relative error grows by at most one rounding per factor
     * (≤ Q·2⁻²⁴), and it costs one multiply per element instead of one exp. Entries below 1e−30 are
     * flushed to 0 so that strong decay never leaves slow subnormal numbers behind. On return
     * {@code row} holds L[len−1][·], the weights of the chunk's tokens in its final state.
     */
    static void decayMatrix(float[] m, float[] cb, int ld, float[] e, float[] row, float[] decay, float[] delta,
                            int len) {
        int lp = roundUp(len);
        if (lp <= 4 * L) {
            // rows of at most 4 vectors (Q ≤ 64 on AVX-512): the running row is held in 4 registers.
            // The loop below keeps it in memory, and the store and reload of each row puts a
            // store-to-load forwarding on the row-to-row dependency chain (≈ 2× slower at Q = 64).
            // All 4 vectors are updated every row (columns past the diagonal start at 0 and stay 0,
            // so M's upper part is written as zeros without a separate fill); same values, bit for
            // bit. In this method rather than a callee of its own: a small callee reached only
            // through it was left in C1 code (boxed vectors, 5–8× slower calls) for seconds of
            // warm-up at l = 256.
            int nv = roundUp(len) / L;
            FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
            FloatVector r0 = zero, r1 = zero, r2 = zero, r3 = zero;
            FloatVector i0 = FloatVector.fromArray(F, IOTA, 0), i1 = i0.add(L), i2 = i0.add(2 * L), i3 = i0.add(3 * L);
            FloatVector d0 = FloatVector.fromArray(F, delta, 0);
            FloatVector d1 = nv > 1 ? FloatVector.fromArray(F, delta, L) : zero;
            FloatVector d2 = nv > 2 ? FloatVector.fromArray(F, delta, 2 * L) : zero;
            FloatVector d3 = nv > 3 ? FloatVector.fromArray(F, delta, 3 * L) : zero;
            for (int i = 0; i < len; i++) {
                int at = i * ld;
                FloatVector di = FloatVector.broadcast(F, decay[i]), ii = FloatVector.broadcast(F, (float) i);
                r0 = r0.mul(di);
                r0 = r0.blend(0f, r0.lt(FLUSH)).blend(one, i0.eq(ii));
                if (e != null) r0.intoArray(e, at);
                FloatVector.fromArray(F, cb, at).mul(r0).mul(d0).intoArray(m, at);
                if (nv > 1) {
                    r1 = r1.mul(di);
                    r1 = r1.blend(0f, r1.lt(FLUSH)).blend(one, i1.eq(ii));
                    if (e != null) r1.intoArray(e, at + L);
                    FloatVector.fromArray(F, cb, at + L).mul(r1).mul(d1).intoArray(m, at + L);
                }
                if (nv > 2) {
                    r2 = r2.mul(di);
                    r2 = r2.blend(0f, r2.lt(FLUSH)).blend(one, i2.eq(ii));
                    if (e != null) r2.intoArray(e, at + 2 * L);
                    FloatVector.fromArray(F, cb, at + 2 * L).mul(r2).mul(d2).intoArray(m, at + 2 * L);
                }
                if (nv > 3) {
                    r3 = r3.mul(di);
                    r3 = r3.blend(0f, r3.lt(FLUSH)).blend(one, i3.eq(ii));
                    if (e != null) r3.intoArray(e, at + 3 * L);
                    FloatVector.fromArray(F, cb, at + 3 * L).mul(r3).mul(d3).intoArray(m, at + 3 * L);
                }
            }
            r0.intoArray(row, 0);
            if (nv > 1) r1.intoArray(row, L);
            if (nv > 2) r2.intoArray(row, 2 * L);
            if (nv > 3) r3.intoArray(row, 3 * L);
            return;
        }
        Arrays.fill(row, 0, lp, 0f);
        FloatVector iota = FloatVector.fromArray(F, IOTA, 0), zero = FloatVector.zero(F);
        for (int i = 0; i < len; i++) {
            // one pass per row: update the running row, set L[i][i] = 1 in its vector, write L and M
            // (the first version made two passes and an Arrays.fill per row: 1.5× the time)
            int diag = i / L * L, end = diag + L, at = i * ld;
            FloatVector di = FloatVector.broadcast(F, decay[i]);
            for (int v = 0; v < end; v += L) {
                FloatVector r = FloatVector.fromArray(F, row, v).mul(di);
                r = r.blend(0f, r.lt(FLUSH));
                if (v == diag) r = r.blend(1f, iota.eq((float) (i - diag)));
                r.intoArray(row, v);
                if (e != null) r.intoArray(e, at + v);
                FloatVector.fromArray(F, cb, at + v).mul(r).mul(FloatVector.fromArray(F, delta, v)).intoArray(m, at + v);
            }
            for (int v = end; v < lp; v += L) { // so that row blocks of any height may read past the diagonal
                zero.intoArray(m, at + v);
                if (e != null) zero.intoArray(e, at + v);
            }
        }
    }

    /** 0, 1, …, L−1: lane numbers, to place the 1 of the diagonal. */
    private static final float[] IOTA = new float[L];

    static {
        for (int i = 0; i < L; i++) IOTA[i] = i;
    }

    /** w_j = L[len−1][j] · Δ_j: the weight of token j in the chunk's state (0 past len). */
    static void stateWeights(float[] lastRow, float[] delta, int len, float[] w) {
        for (int v = 0; v < roundUp(len); v += L) {
            FloatVector.fromArray(F, lastRow, v).mul(FloatVector.fromArray(F, delta, v)).intoArray(w, v);
        }
    }

    // ---- packing ------------------------------------------------------------------------------

    /**
     * Heads [hA, hB) of tokens [0, len) of a token-major (·, h, p) tensor whose token rows start at
     * src[off + j·stride] into dst (heads, Q, pp) — head k's rows at (k·Q + j)·pp, zero-padded. One
     * pass along each token row, so the caller's memory is read sequentially (the hardware
     * prefetcher follows it) rather than one head slice (p floats) per 6 KB row at a time.
     */
    static void packHeads(float[] src, int off, int stride, int hA, int hB, int p, int len, float[] dst, int q, int pp) {
        for (int j = 0; j < len; j++) {
            int s = off + j * stride + hA * p;
            for (int k = 0; k < hB - hA; k++) {
                int d = (k * q + j) * pp;
                System.arraycopy(src, s + k * p, dst, d, p);
                if (pp > p) Arrays.fill(dst, d + p, d + pp, 0f);
            }
        }
    }

    /**
     * Row stride of a token-major chunk buffer holding {@code heads} heads of pp floats per token:
     * heads·pp plus one cache line, so that consecutive rows do not alias to the same few L1 sets
     * (a multiple of 4 KB apart, or 6 KB as in the caller's (h, p) rows at h = 24, p = 64, would).
     */
    static int tokenRowStride(int heads, int pp) {
        return heads * pp + 64 / Float.BYTES;
    }

    /**
     * {@code heads} heads of tokens [0, len) of a token-major (·, h, p) tensor, the first of them at
     * src[off + j·stride], into dst rows of rs floats: head k at dst[j·rs + k·pp], zero-padded to pp.
     * With pp = p a token row is one copy (sequential on both sides).
     */
    static void packTokens(float[] src, int off, int stride, int heads, int p, int len, float[] dst, int rs, int pp) {
        for (int j = 0; j < len; j++) {
            int s = off + j * stride, d = j * rs;
            if (pp == p) {
                System.arraycopy(src, s, dst, d, heads * p);
                continue;
            }
            for (int k = 0; k < heads; k++) {
                System.arraycopy(src, s + k * p, dst, d + k * pp, p);
                Arrays.fill(dst, d + k * pp + p, d + (k + 1) * pp, 0f);
            }
        }
    }

    /** The inverse of {@link #packTokens} for the p real columns of each head (written). */
    static void unpackTokens(float[] src, int rs, int pp, int heads, int p, int len, float[] dst, int off, int stride) {
        for (int j = 0; j < len; j++) {
            int s = j * rs, d = off + j * stride;
            if (pp == p) {
                System.arraycopy(src, s, dst, d, heads * p);
                continue;
            }
            for (int k = 0; k < heads; k++) System.arraycopy(src, s + k * pp, dst, d + k * p, p);
        }
    }

    /** The inverse of {@link #packHeads} for the p real columns: written ({@code add} false) or added. */
    static void unpackHeads(float[] src, int q, int pp, int hA, int hB, int p, int len, float[] dst, int off, int stride,
                            boolean add) {
        for (int j = 0; j < len; j++) {
            int d = off + j * stride + hA * p;
            for (int k = 0; k < hB - hA; k++) {
                int s = (k * q + j) * pp;
                if (!add) {
                    System.arraycopy(src, s, dst, d + k * p, p);
                } else {
                    int dk = d + k * p, r = 0;
                    for (int pv = F.loopBound(p); r < pv; r += L) {
                        FloatVector.fromArray(F, dst, dk + r).add(FloatVector.fromArray(F, src, s + r)).intoArray(dst, dk + r);
                    }
                    for (; r < p; r++) dst[dk + r] += src[s + r];
                }
            }
        }
    }

    /** Transpose: dst[k][j] = src[off + j·stride + k] for k &lt; width, j &lt; len; columns [len, lp) zeroed. */
    static void packTransposed(float[] src, int off, int stride, int width, int len, float[] dst, int ld) {
        SsdTranspose.transpose(src, off, stride, width, len, dst, ld);
    }

    /** Public (p, n) state at src[off] → internal Sᵀ (n, pp) at dst[dOff], zero padding. */
    static void stateIn(float[] src, int off, int p, int n, float[] dst, int dOff, int pp) {
        SsdTranspose.transpose(src, off, n, n, p, dst, dOff, pp);
    }

    /** Internal Sᵀ (n, pp) → public (p, n), written (add = false) or added. */
    static void stateOut(float[] src, int sOff, int pp, int p, int n, float[] dst, int off, boolean add) {
        if (!add) {
            SsdTranspose.transpose(src, sOff, pp, p, n, dst, off, n, false);
            return;
        }
        for (int r = 0; r < p; r++) {
            int row = off + r * n;
            for (int k = 0; k < n; k++) dst[row + k] += src[sOff + k * pp + r];
        }
    }
}
