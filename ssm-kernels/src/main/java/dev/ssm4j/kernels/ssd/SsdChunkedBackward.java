package dev.ssm4j.kernels.ssd;

import static dev.ssm4j.kernels.ssd.SsdChunkOps.F;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.L;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.roundUp;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The chunked SSD backward with SIMD: the reverse pass of {@link SsdChunked}, with the math of
 * {@link SsdChunkedScalar#backward} (derivation in docs/ssd.md) arranged as small matrix products.
 *
 * <p>Per task (batch row, group, slice of its heads) and sequence:
 * <ol>
 *   <li>Recompute pass: run the chunk-state recurrence forward and keep each head's state at the
 *       start of every chunk, Sᵀ_{c−1} (n × pp floats per head and chunk) — one state product per
 *       chunk, a third of the forward's work.</li>
 *   <li>Reverse pass over the chunks, dSᵀ (n × pp per head) flowing backwards from dFinalState.
 *       Per chunk, once for the group: C·Bᵀ; per head, with Y's gradient dY:
 *       <pre>
 *   U      = B · dSᵀ_c                 (Q, p)   → dx_j += w_j·U_j,  dw_j = x_j·U_j
 *   dX     = D·dY + Mᵀ · dY            (Q, p)   the diagonal block's dx (causal)
 *   dCoffᵀ = Sᵀ_{c−1} · (e^cum ∘ dY)ᵀ  (n, Q)   → dC (group), ρ_i = C_i·dCoff_i
 *   dBᵀ   += dSᵀ_c · (w ∘ X)ᵀ          (n, Q)   → dB (group)
 *   dM     = dY · Xᵀ                   (Q, Q)   → dCB (summed over the group's heads), dΔ, dseg
 *   dSᵀ_{c−1} = e^{cum_last}·dSᵀ_c + Cᵀ · (e^cum ∘ dY)
 *       </pre>
 *       then per group: dC += dCB · B, dB += dCBᵀ · C.</li>
 * </ol>
 * Every dB and dC row of a (row, group) is written by one task; when a group's heads are split
 * over several tasks (b·g &lt; threads) the extra slices write into private buffers that are added
 * afterwards in a fixed order, and per-head sums (dA, dD, dDtBias) are gathered per batch row and
 * added in a fixed order too — results do not depend on thread timing.
 */
final class SsdChunkedBackward {
    private SsdChunkedBackward() {}

    // task workspace slots
    private static final int CKPT = 0, DS = 1, BT = 2, CT = 3, CB = 4, DCB = 5, DCBT = 6, DCT = 7, DBT = 8, E = 9, M = 10,
            DM = 11, ROW = 12, XP = 13, DYP = 14, DYS = 15, XPT = 16, XWT = 17, DYST = 18, U = 19, DXA = 20, DCOFF = 21,
            RAW = 22, DELTA = 23, DTA = 24, DECAY = 25, CUM = 26, ECUM = 27, W = 28, DDELTA = 29, COLT = 30, COLSEG = 31,
            ROWSEG = 32, RHO = 33, DRAW = 34, XW = 35, ROWS_OUT = 36, DXO = 37, PRE = 38, SIG = 39;
    // shared (call-wide) slots
    private static final int HEAD_SUMS = 0, PRIVATE_DB = 1, PRIVATE_DC = 2;

    static void backward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        int slices = SsdChunkOps.slices(q, pool), extra = slices - 1;
        float[] sums = ws.shared(HEAD_SUMS, q.b * q.h * 3);       // (b, h, {dA, dD, dDtBias})
        Arrays.fill(sums, 0, q.b * q.h * 3, 0f);
        int privSize = q.b * q.g * extra * q.l * q.n;             // (b, g, slices−1, l, n)
        float[] privB = extra == 0 ? null : ws.shared(PRIVATE_DB, privSize);
        float[] privC = extra == 0 ? null : ws.shared(PRIVATE_DC, privSize);
        if (extra > 0) {
            Arrays.fill(privB, 0, privSize, 0f);
            Arrays.fill(privC, 0, privSize, 0f);
        }
        int units = q.b * q.g * slices;
        if (Parallel.serial(pool, units, 1)) {
            units(q, ws, slices, sums, privB, privC, 0, units); // no task closure: one thread allocates nothing
        } else {
            Parallel.forRange(pool, units, 1, (start, end) -> units(q, ws, slices, sums, privB, privC, start, end));
        }
        // fixed-order reductions
        for (int bi = 0; bi < q.b; bi++) {
            for (int gi = 0; gi < q.g; gi++) {
                for (int s = 0; s < extra; s++) {
                    int base = ((bi * q.g + gi) * extra + s) * q.l * q.n;
                    for (int t = 0; t < q.l; t++) {
                        addRow(privB, base + t * q.n, q.dbm, q.dbAt(bi, t, gi), q.n);
                        addRow(privC, base + t * q.n, q.dcm, q.dcAt(bi, t, gi), q.n);
                    }
                }
            }
        }
        for (int bi = 0; bi < q.b; bi++) {
            for (int hh = 0; hh < q.h; hh++) {
                int o = (bi * q.h + hh) * 3;
                q.da[hh] += sums[o];
                if (q.dd != null) q.dd[hh] += sums[o + 1];
                if (q.dDtBias != null) q.dDtBias[hh] += sums[o + 2];
            }
        }
    }

    /** Units [start, end) of the (batch row, group, head slice) list, on one task's buffers. */
    private static void units(SsdProblem q, SsdWorkspace ws, int slices, float[] sums, float[] privB, float[] privC,
                              int start, int end) {
        int extra = slices - 1;
        SsdWorkspace.Task t = ws.acquire();
        try {
            Buffers bf = t.backward == null ? (t.backward = new Buffers(t)) : t.backward;
            for (int u = start; u < end; u++) {
                int bi = u / (q.g * slices), gi = (u / slices) % q.g, s = u % slices;
                int hA = SsdChunkOps.sliceStart(q, gi, s, slices), hB = SsdChunkOps.sliceStart(q, gi, s + 1, slices);
                bf.bind(q, hB - hA);
                if (s == 0) {
                    bf.sink(q.dbm, q.dbAt(bi, 0, gi), q.dbS, q.dcm, q.dcAt(bi, 0, gi), q.dcS);
                } else {
                    int at = ((bi * q.g + gi) * extra + s - 1) * q.l * q.n;
                    bf.sink(privB, at, q.n, privC, at, q.n);
                }
                unit(q, bf, sums, bi, gi, hA, hB);
            }
        } finally {
            ws.release(t);
        }
    }

    private static void addRow(float[] src, int so, float[] dst, int d, int n) {
        int nv = F.loopBound(n), k = 0;
        for (; k < nv; k += L) FloatVector.fromArray(F, dst, d + k).add(FloatVector.fromArray(F, src, so + k)).intoArray(dst, d + k);
        for (; k < n; k++) dst[d + k] += src[so + k];
    }

    /**
     * A task's buffers (views of its workspace slots, rebound for every unit by {@link #bind}; shapes in
     * comments) and where the unit's dB and dC rows go. Kept in the task ({@link SsdWorkspace.Task#backward})
     * so that a call allocates none.
     */
    static final class Buffers {
        float[] bt, ct, cb, dcb, dcbT, dCT, dBT, e, m, dm, row, xp, dyp, dxo, dys, xpT, xwT, dysT, u, dxa, dcoff;
        float[] raw, pre, sig, delta, dtA, decay, cum, ecum, w, dDelta, colT, colSeg, rowSeg, rho, dRaw, xw, rowsOut;
        final SsdWorkspace.Task t;
        float sigma; // epilogue's σ of the current head and chunk
        // sink: row t of the (batch row, group)'s dB at db[dbBase + t·dbStride], of dC likewise
        float[] db, dc;
        int dbBase, dbStride, dcBase, dcStride;

        Buffers(SsdWorkspace.Task t) {
            this.t = t;
        }

        void sink(float[] db, int dbBase, int dbStride, float[] dc, int dcBase, int dcStride) {
            this.db = db;
            this.dbBase = dbBase;
            this.dbStride = dbStride;
            this.dc = dc;
            this.dcBase = dcBase;
            this.dcStride = dcStride;
        }

        /** The slots for a unit of {@code heads} heads of problem q (each grows on demand). */
        void bind(SsdProblem q, int heads) {
            int n = q.n, pp = roundUp(q.p), qp = roundUp(q.q), qq = q.q * qp;
            bt = t.get(BT, n * qp);       // (n, Qp) Bᵀ of the chunk
            ct = t.get(CT, n * qp);       // (n, Qp) Cᵀ
            cb = t.get(CB, qq);           // (Q, Qp) C·Bᵀ
            dcb = t.get(DCB, qq);         // (Q, Qp) dCB summed over the task's heads
            dcbT = t.get(DCBT, qq);       // (Q, Qp) its transpose
            dCT = t.get(DCT, n * qp);     // (n, Qp) dCᵀ of the chunk (group)
            dBT = t.get(DBT, n * qp);     // (n, Qp) dBᵀ of the chunk (group)
            e = t.get(E, qq);             // (Q, Qp) decay matrix L
            m = t.get(M, qq);             // (Q, Qp) M = CB ∘ L ∘ Δ_j
            dm = t.get(DM, qq);           // (Q, Qp) dM = dY·Xᵀ
            row = t.get(ROW, qp);
            xp = t.get(XP, heads * q.q * pp);   // (heads, Q, pp) x of the chunk, per head
            dyp = t.get(DYP, heads * q.q * pp); // (heads, Q, pp) dy of the chunk
            dxo = t.get(DXO, heads * q.q * pp); // (heads, Q, pp) dx of the chunk, added out per token row
            dys = t.get(DYS, q.q * pp);   // (Q, pp) e^cum_i · dY_i
            xpT = t.get(XPT, pp * qp);    // (pp, Qp) Xᵀ
            xwT = t.get(XWT, pp * qp);    // (pp, Qp) (w ∘ X)ᵀ
            dysT = t.get(DYST, pp * qp);  // (pp, Qp) (e^cum ∘ dY)ᵀ
            u = t.get(U, q.q * pp);       // (Q, pp) B·dSᵀ
            dxa = t.get(DXA, q.q * pp);   // (Q, pp) D·dY + Mᵀ·dY
            dcoff = t.get(DCOFF, n * qp); // (n, Qp) dCoffᵀ of one head
            xw = t.get(XW, q.q * pp);     // (Q, pp) w ∘ X (recompute pass)
            rowsOut = t.get(ROWS_OUT, q.q * roundUp(n)); // (Q, np) dB or dC rows of the chunk
            raw = t.get(RAW, qp);
            pre = t.get(PRE, qp);         // softplus(raw) before the clamp (raw without softplus)
            sig = t.get(SIG, qp);         // σ(raw) = dsoftplus/draw
            delta = t.get(DELTA, qp);
            dtA = t.get(DTA, qp);
            decay = t.get(DECAY, qp);
            cum = t.get(CUM, qp);
            ecum = t.get(ECUM, qp);
            w = t.get(W, qp);
            dDelta = t.get(DDELTA, qp);   // ∂L/∂Δ_j
            colT = t.get(COLT, qp);
            colSeg = t.get(COLSEG, qp);   // Σ_{i>j} dseg(i, j)
            rowSeg = t.get(ROWSEG, qp);   // Σ_{j<i} dseg(i, j), j from −1
            rho = t.get(RHO, qp);
            dRaw = t.get(DRAW, qp);
        }
    }

    /**
     * Floats of chunk-start states a task keeps at most (8 M floats = 32 MB, all 24 heads of a
     * 2048-token row): beyond it heads are processed in blocks that fit, each block redoing the
     * group-level C·Bᵀ and dCB products (linear, so the blocks' dB and dC simply add up in the sink).
     * Measured at l = 2048, h = 24: blocks of 8 heads cost 10 %, of 1 head 55 % more time.
     * Not final only so that a test can make it small.
     */
    static long checkpointBudget = 8L << 20;

    /** Heads [hA, hB) of group gi, batch row bi. */
    private static void unit(SsdProblem q, Buffers bf, float[] sums, int bi, int gi, int hA, int hB) {
        int[] cut = q.bounds(bi);
        int maxChunks = 0;
        for (int s = 0; s + 1 < cut.length; s++) maxChunks = Math.max(maxChunks, (cut[s + 1] - cut[s] + q.q - 1) / q.q);
        long perHead = (long) maxChunks * q.n * roundUp(q.p);
        int block = (int) Math.max(1, Math.min(hB - hA, checkpointBudget / Math.max(1, perHead)));
        for (int h0 = hA; h0 < hB; h0 += block) {
            headBlock(q, bf, sums, bi, gi, h0, Math.min(hB, h0 + block), cut, maxChunks);
        }
    }

    /** One block of heads [hA, hB): recompute pass and reverse pass over every sequence of the row. */
    private static void headBlock(SsdProblem q, Buffers bf, float[] sums, int bi, int gi, int hA, int hB,
                                  int[] cut, int maxChunks) {
        int n = q.n, pp = roundUp(q.p), qp = roundUp(q.q), heads = hB - hA, sz = n * pp;
        float[] ckpt = bf.t.get(CKPT, heads * maxChunks * sz); // (heads, chunks, n, pp): Sᵀ at each chunk start
        float[] ds = bf.t.get(DS, heads * sz);                  // (heads, n, pp): dSᵀ
        boolean[] dsZero = bf.t.flags(heads);
        for (int s = cut.length - 2; s >= 0; s--) {
            int t0 = cut[s], t1 = cut[s + 1], chunks = (t1 - t0 + q.q - 1) / q.q;
            boolean startZero = !(s == 0 && q.h0 != null);
            recompute(q, bf, bi, gi, hA, hB, t0, t1, chunks, startZero, ckpt, maxChunks);
            for (int hh = hA; hh < hB; hh++) {
                int k = hh - hA;
                dsZero[k] = !(s + 2 == cut.length && q.dfin != null);
                if (!dsZero[k]) SsdChunkOps.stateIn(q.dfin, q.stateAt(bi, hh), q.p, n, ds, k * sz, pp);
            }
            for (int c = chunks - 1; c >= 0; c--) {
                int c0 = t0 + c * q.q, len = Math.min(q.q, t1 - c0), lp = roundUp(len);
                // group level: Bᵀ, Cᵀ, C·Bᵀ; zero the group accumulators
                SsdChunkOps.packTransposed(q.bm, q.bAt(bi, c0, gi), q.bS, n, len, bf.bt, qp);
                SsdChunkOps.packTransposed(q.cm, q.cAt(bi, c0, gi), q.cS, n, len, bf.ct, qp);
                SsdGemm.mm(bf.cb, 0, qp, 0f, null, 0, 0, q.cm, q.cAt(bi, c0, gi), q.cS, 1, bf.bt, 0, qp, len, lp, 0, n);
                for (int i = 0; i < len; i++) Arrays.fill(bf.dcb, i * qp, i * qp + lp, 0f);
                for (int k = 0; k < n; k++) {
                    Arrays.fill(bf.dCT, k * qp, k * qp + lp, 0f);
                    Arrays.fill(bf.dBT, k * qp, k * qp + lp, 0f);
                }
                SsdChunkOps.packHeads(q.x, q.xAt(bi, c0, 0), q.xS, hA, hB, q.p, len, bf.xp, q.q, pp);
                SsdChunkOps.packHeads(q.dy, q.dyAt(bi, c0, 0), q.dyS, hA, hB, q.p, len, bf.dyp, q.q, pp);
                for (int hh = hA; hh < hB; hh++) {
                    int k = hh - hA;
                    boolean prevZero = c == 0 && startZero;
                    headChunk(q, bf, sums, bi, gi, hh, c0, len, k * q.q * pp, ckpt, ((k * maxChunks) + c) * sz, prevZero,
                            ds, k * sz, dsZero[k]);
                    dsZero[k] = false;
                }
                SsdChunkOps.unpackHeads(bf.dxo, q.q, pp, hA, hB, q.p, len, q.dx, q.dxAt(bi, c0, 0), q.dxS, true);
                // group level: dC += dCB·B, dB += dCBᵀ·C, then the transposed chunk rows into the sink
                SsdTranspose.transpose(bf.dcb, 0, qp, len, len, bf.dcbT, qp);
                SsdGemm.mm(bf.dCT, 0, qp, 1f, bf.dCT, 0, qp, bf.bt, 0, qp, 1, bf.dcbT, 0, qp, n, lp, 0, len);
                SsdGemm.mm(bf.dBT, 0, qp, 1f, bf.dBT, 0, qp, bf.ct, 0, qp, 1, bf.dcb, 0, qp, n, lp, 0, len);
                int np = roundUp(n);
                SsdTranspose.transpose(bf.dBT, 0, qp, len, n, bf.rowsOut, np);
                for (int i = 0; i < len; i++) {
                    addRow(bf.rowsOut, i * np, bf.db, bf.dbBase + (c0 + i) * bf.dbStride, n);
                }
                SsdTranspose.transpose(bf.dCT, 0, qp, len, n, bf.rowsOut, np);
                for (int i = 0; i < len; i++) {
                    addRow(bf.rowsOut, i * np, bf.dc, bf.dcBase + (c0 + i) * bf.dcStride, n);
                }
            }
            if (s == 0 && q.dh0 != null) {
                for (int hh = hA; hh < hB; hh++) {
                    if (!dsZero[hh - hA]) {
                        SsdChunkOps.stateOut(ds, (hh - hA) * sz, pp, q.p, n, q.dh0, q.stateAt(bi, hh), true);
                    }
                }
            }
        }
    }

    /** The forward state pass of one sequence, keeping Sᵀ at each chunk start: ckpt[head][c]. */
    private static void recompute(SsdProblem q, Buffers bf, int bi, int gi, int hA, int hB, int t0, int t1, int chunks,
                                  boolean startZero, float[] ckpt, int maxChunks) {
        int n = q.n, p = q.p, pp = roundUp(p), qp = roundUp(q.q), sz = n * pp;
        for (int hh = hA; hh < hB; hh++) {
            if (!startZero) SsdChunkOps.stateIn(q.h0, q.stateAt(bi, hh), p, n, ckpt, (hh - hA) * maxChunks * sz, pp);
        }
        for (int c = 0; c + 1 < chunks; c++) {
            int c0 = t0 + c * q.q, len = Math.min(q.q, t1 - c0);
            SsdChunkOps.packTransposed(q.bm, q.bAt(bi, c0, gi), q.bS, n, len, bf.bt, qp);
            SsdChunkOps.packHeads(q.x, q.xAt(bi, c0, 0), q.xS, hA, hB, p, len, bf.xp, q.q, pp);
            for (int hh = hA; hh < hB; hh++) {
                int at = ((hh - hA) * maxChunks + c) * sz;
                SsdChunkOps.deltas(q, bi, hh, c0, len, bf.raw, null, bf.delta, bf.dtA, bf.cum, bf.decay, bf.ecum);
                float keep = 1f;
                for (int j = len - 1; j >= 0; j--) { // w_j = Π_{k>j} decay_k · Δ_j
                    bf.w[j] = keep * bf.delta[j];
                    keep *= bf.decay[j];
                }
                if (c == 0 && startZero) keep = 0f;
                SsdChunked.scaleRows(bf.xp, (hh - hA) * q.q * pp, pp, bf.w, len, pp, bf.xw);
                SsdGemm.mm(ckpt, at + sz, pp, keep, ckpt, at, pp, bf.bt, 0, qp, 1, bf.xw, 0, pp, n, pp, 0, len);
            }
        }
    }

    /** Chunk [c0, c0+len) of head hh: every gradient except the group-level dCB products. */
    private static void headChunk(SsdProblem q, Buffers bf, float[] sums, int bi, int gi, int hh, int c0, int len, int ho,
                                  float[] ckpt, int sAt, boolean prevZero, float[] ds, int dsAt, boolean dsZero) {
        int p = q.p, n = q.n, pp = roundUp(p), qp = roundUp(q.q), lp = roundUp(len), sz = n * pp;
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        // Δ, decays, the decay matrix L (kept in e), M and the state weights w
        float total = SsdChunkOps.deltas(q, bi, hh, c0, len, bf.raw, bf.pre, bf.delta, bf.dtA, bf.cum, bf.decay, bf.ecum);
        float keep = (float) Math.exp(total);
        SsdChunkOps.decayMatrix(bf.m, bf.cb, qp, bf.e, bf.row, bf.decay, bf.delta, len);
        SsdChunkOps.stateWeights(bf.row, bf.delta, len, bf.w);
        // x and dy of this head: dense (len, pp) blocks at ho, packed by the caller (see SsdChunked)
        float[] xa = bf.xp, dya = bf.dyp;
        int xo = ho, xs = pp, dyo = ho, dys = pp;
        // U = B · dSᵀ_c
        if (!dsZero) {
            SsdGemm.mm(bf.u, 0, pp, 0f, null, 0, 0, q.bm, q.bAt(bi, c0, gi), q.bS, 1, ds, dsAt, pp, len, pp, 0, n);
        }
        // dX = D·dY + Mᵀ·dY: row j sums over i ≥ j
        for (int j0 = 0; j0 < len; j0 += SsdChunked.CAUSAL_ROWS) {
            int rows = Math.min(SsdChunked.CAUSAL_ROWS, len - j0);
            SsdGemm.mm(bf.dxa, j0 * pp, pp, dSkip, dya, dyo + j0 * dys, dys, bf.m, j0, 1, qp,
                    dya, dyo, dys, rows, pp, j0, len);
        }
        // transposed copies: Xᵀ, (w∘X)ᵀ, (e^cum∘dY)ᵀ and e^cum∘dY
        SsdChunkOps.packTransposed(xa, xo, xs, p, len, bf.xpT, qp);
        SsdChunkOps.packTransposed(dya, dyo, dys, p, len, bf.dysT, qp);
        for (int r = 0; r < p; r++) {
            for (int v = 0; v < lp; v += L) {
                int o = r * qp + v;
                FloatVector.fromArray(F, bf.xpT, o).mul(FloatVector.fromArray(F, bf.w, v)).intoArray(bf.xwT, o);
                FloatVector.fromArray(F, bf.dysT, o).mul(FloatVector.fromArray(F, bf.ecum, v)).intoArray(bf.dysT, o);
            }
        }
        SsdChunked.scaleRows(dya, dyo, dys, bf.ecum, len, pp, bf.dys);
        // state → output: dCoffᵀ = Sᵀ_{c−1} · (e^cum∘dY)ᵀ; ρ_i = C_i·dCoff_i (σ = e^{cum_last}·<dS_c, S_{c−1}>
        // in epilogue)
        Arrays.fill(bf.rho, 0, lp, 0f);
        if (!prevZero) {
            SsdGemm.mm(bf.dcoff, 0, qp, 0f, null, 0, 0, ckpt, sAt, pp, 1, bf.dysT, 0, qp, n, lp, 0, p);
            for (int v = 0; v < lp; v += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int k = 0; k < n; k++) {
                    int o = k * qp + v;
                    FloatVector dc = FloatVector.fromArray(F, bf.dcoff, o);
                    acc = dc.fma(FloatVector.fromArray(F, bf.ct, o), acc);
                    FloatVector.fromArray(F, bf.dCT, o).add(dc).intoArray(bf.dCT, o);
                }
                acc.intoArray(bf.rho, v);
            }
        }
        // dBᵀ += dSᵀ_c · (w∘X)ᵀ
        if (!dsZero) SsdGemm.mm(bf.dBT, 0, qp, 1f, bf.dBT, 0, qp, ds, dsAt, pp, 1, bf.xwT, 0, qp, n, lp, 0, p);
        // dM = dY · Xᵀ, lower triangle by blocks of 16 rows
        for (int r0 = 0; r0 < len; r0 += 16) {
            int rows = Math.min(16, len - r0);
            SsdGemm.mm(bf.dm, r0 * qp, qp, 0f, null, 0, 0, dya, dyo + r0 * dys, dys, 1, bf.xpT, 0, qp, rows,
                    roundUp(r0 + rows), 0, p);
        }
        triangle(bf, len, qp, q.softplus);
        // dx, dw, dD, σ
        float dD = epilogue(bf, len, pp, ho, dsZero, !prevZero && !dsZero, keep, ds, dsAt, ckpt, sAt, sz);
        // dΔ·A through the segment sums: T_0 = Σρ + σ; T_{k+1} = T_k + colSeg_k − rowSeg_k
        float sigma = bf.sigma, tk = sigma, dA = 0f;
        for (int i = 0; i < len; i++) tk += bf.rho[i];
        bf.rowSeg[len - 1] += sigma;
        for (int k = 0; k < len; k++) {
            bf.dDelta[k] += a * tk + bf.colT[k];
            dA += bf.delta[k] * tk;
            tk += bf.colSeg[k] - bf.rowSeg[k];
        }
        float dBias = rawChain(q, bf, bi, hh, c0, len);
        int so = (bi * q.h + hh) * 3;
        sums[so] += dA;
        sums[so + 1] += dD;
        sums[so + 2] += dBias;
        // dSᵀ_{c−1} = e^{cum_last}·dSᵀ_c + Cᵀ · (e^cum∘dY)
        SsdGemm.mm(ds, dsAt, pp, dsZero ? 0f : keep, ds, dsAt, pp, q.cm, q.cAt(bi, c0, gi), 1, q.cS, bf.dys, 0, pp,
                n, pp, 0, len);
    }

    /**
     * The elementwise part over the lower triangle, row i, j ≤ i (vectors up to the diagonal):
     * dCB += dM·L·Δ_j (group accumulator), colT_j += dM·CB·L (∂L/∂Δ_j through M), and the
     * segment-sum gradient dseg = dM·M for j &lt; i, summed by columns (colSeg) and rows (rowSeg).
     * Then, with softplus, σ(raw) into sig for {@link #rawChain}: here because this method is
     * compiled on its own (longer than C2's FreqInlineSize, checked by SsdJitShapeTest) and, after
     * the loop's sumLanes (~10 000 IR nodes), there is room for sigmoid (~11 000) within C2's
     * inlining budget (docs/ssd.md, "Allocation and the JIT"). Before the loop it pushed sumLanes
     * past the budget (boxed, 0.6 MB per call at l = 256); in rawChain, which C2 inlines into
     * headChunk, it could land past it too.
     */
    private static void triangle(Buffers bf, int len, int qp, boolean softplus) {
        int lp = roundUp(len);
        Arrays.fill(bf.colT, 0, lp, 0f);
        Arrays.fill(bf.colSeg, 0, lp, 0f);
        Arrays.fill(bf.dDelta, 0, lp, 0f);
        FloatVector zero = FloatVector.zero(F);
        for (int i = 0; i < len; i++) {
            int end = (i / L + 1) * L, at = i * qp;
            FloatVector rs = zero;
            for (int v = 0; v < end; v += L) {
                FloatVector dm = FloatVector.fromArray(F, bf.dm, at + v), dl = FloatVector.fromArray(F, bf.delta, v);
                FloatVector a = dm.mul(FloatVector.fromArray(F, bf.e, at + v));
                FloatVector.fromArray(F, bf.dcb, at + v).add(a.mul(dl)).intoArray(bf.dcb, at + v);
                FloatVector t = a.mul(FloatVector.fromArray(F, bf.cb, at + v));
                FloatVector.fromArray(F, bf.colT, v).add(t).intoArray(bf.colT, v);
                VectorMask<Float> left = F.indexInRange(v, i); // lanes j < i
                FloatVector dseg = zero.blend(t.mul(dl), left);
                FloatVector.fromArray(F, bf.colSeg, v).add(dseg).intoArray(bf.colSeg, v);
                rs = rs.add(dseg);
            }
            bf.rowSeg[i] = VectorMath.sumLanes(rs) + bf.rho[i];
        }
        if (softplus) {
            for (int v = 0; v < lp; v += L) VectorMath.sigmoid(FloatVector.fromArray(F, bf.raw, v)).intoArray(bf.sig, v);
        }
    }

    /**
     * dx_j = dX_j + w_j·U_j (into the chunk's dx block), dw_j = x_j·U_j → dΔ_j and the segment
     * sums of the last row; returns Σ dY·x (the chunk's share of dD). With {@code withSigma},
     * σ = keep·&lt;dSᵀ_c, Sᵀ_{c−1}&gt; into bf.sigma (else 0).
     *
     * <p>It holds three sumLanes and is longer than C2's FreqInlineSize (checked by SsdJitShapeTest),
     * so it is compiled on its own: inlined into headChunk (with σ's dot product, a small method of
     * its own then) the last sumLanes landed past C2's inlining budget and boxed a vector per call
     * (docs/ssd.md, "Allocation and the JIT").
     */
    private static float epilogue(Buffers bf, int len, int pp, int ho, boolean dsZero, boolean withSigma, float keep,
                                  float[] ds, int dsAt, float[] ckpt, int sAt, int sz) {
        FloatVector dd = FloatVector.zero(F);
        float lastRow = 0f;
        for (int j = 0; j < len; j++) {
            FloatVector wj = FloatVector.broadcast(F, bf.w[j]), dw = FloatVector.zero(F);
            int br = j * pp, hr = ho + br;
            for (int v = 0; v < pp; v += L) {
                FloatVector xv = FloatVector.fromArray(F, bf.xp, hr + v);
                FloatVector g = FloatVector.fromArray(F, bf.dxa, br + v);
                if (!dsZero) {
                    FloatVector uv = FloatVector.fromArray(F, bf.u, br + v);
                    dw = uv.fma(xv, dw);
                    g = uv.fma(wj, g);
                }
                dd = FloatVector.fromArray(F, bf.dyp, hr + v).fma(xv, dd);
                g.intoArray(bf.dxo, hr + v);
            }
            if (!dsZero) {
                float dwj = VectorMath.sumLanes(dw);
                bf.dDelta[j] += dwj * bf.row[j];
                if (j < len - 1) {
                    float omega = dwj * bf.w[j];
                    bf.colSeg[j] += omega;
                    lastRow += omega;
                }
            }
        }
        bf.rowSeg[len - 1] += lastRow;
        // σ's sumLanes runs on every call (on a zero vector without σ): a call site taken only now and
        // then is cold to C2, which then does not inline sumLanes there (its vector is boxed)
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0, end = withSigma ? sz : 0; i < end; i += L) {
            acc = FloatVector.fromArray(F, ds, dsAt + i).fma(FloatVector.fromArray(F, ckpt, sAt + i), acc);
        }
        float dot = VectorMath.sumLanes(acc);
        bf.sigma = withSigma ? keep * dot : 0f;
        return VectorMath.sumLanes(dd);
    }

    /** ∂L/∂raw = ∂L/∂Δ · sigmoid(raw) (softplus) · [inside the clamp]; adds to ddt, returns the dt_bias share. */
    private static float rawChain(SsdProblem q, Buffers bf, int bi, int hh, int c0, int len) {
        int lp = roundUp(len);
        for (int v = 0; v < lp; v += L) {
            FloatVector g = FloatVector.fromArray(F, bf.dDelta, v);
            if (q.softplus) g = g.mul(FloatVector.fromArray(F, bf.sig, v));
            if (q.clamp) {
                FloatVector pre = FloatVector.fromArray(F, bf.pre, v);
                g = g.blend(0f, pre.lt(q.dtMin).or(pre.compare(VectorOperators.GT, q.dtMax)));
            }
            g.intoArray(bf.dRaw, v);
        }
        float s = 0f;
        int at = q.ddtAt(bi, c0, hh);
        for (int j = 0; j < len; j++) {
            q.ddt[at + j * q.ddtS] += bf.dRaw[j];
            s += bf.dRaw[j];
        }
        return s;
    }
}
