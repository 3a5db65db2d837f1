package dev.ssm4j.kernels.conv;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the causal conv1d backward. Lanes hold LANES neighbouring channels of one token,
 * as in {@link CausalConv1dSimd}; tokens outer, channels inner.
 *
 * <p>For token t (g_t = dy_t · act'(pre_t), pre_t recomputed when the SiLU is fused):
 * <pre>
 *   dbias        += g_t
 *   dweight[·,j] += g_t · in_{t−w+1+j}          (tap-major scratch, added to (d, w) at the end)
 *   d in_{t−w+1+j} += weight[·,j] · g_t         (scatter into the w rows this token read)
 * </pre>
 * The scatter form touches the w most recent dx rows, which are still in cache, so dx is read and
 * written once from memory; the gather form (dx_p = Σ_j weight_j · g_{p+w−1−j}) would need g of
 * future tokens, i.e. a saved buffer or w recomputations of the SiLU input.
 *
 * <p>Long inputs (at least two chunks of {@link #TOKEN_CHUNK} tokens, counting each batch row
 * separately) are cut into those fixed chunks, whatever the thread count, and threads take whole
 * chunks: each walks whole rows, as the forward's token split does (out of cache at l = 32768,
 * d = 1536, two threads: 41 → 24 ms in a scratch harness, 49 → 31 ms in JMH; channel-split tasks walk
 * half-rows). A chunk keeps its own dweight
 * and dbias partials and, for the w − 1 dx rows before its first token (the previous chunk's rows,
 * which its first tokens scatter into), a private halo; afterwards, on the calling thread and in chunk
 * order, the halos are added into dx and the partials into dweight and dbias. The chunks are fixed by
 * the shape, so the bits do not depend on the thread count. Short inputs split the channels: every
 * task owns its columns of dx, dweight, dbias and the states, so nothing is shared either.
 */
public final class CausalConv1dSimdBackward {
    private CausalConv1dSimdBackward() {}

    private static final int L = F.length();
    private static final int GRAIN_ELEMENTS = 1 << 15;

    /** Backward; arguments as {@link CausalConv1d#backward(float[], int, int, float[], int, float[], float[], float[], int, int, float[], int, float[], int, int, float[], int, int[], float[], float[], boolean, int, int, int, int, ForkJoinPool)}. */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dInitialState, int dInitialStateOff,
                                float[] dweight, float[] dbias, float[] dy, int dyOff, int dyStride,
                                float[] dFinalState, int dFinalStateOff, float[] x, int xOff, int xStride,
                                float[] initialState, int initialStateOff, int[] cuSeqlens, float[] weight,
                                float[] bias, boolean silu, int b, int l, int d, int w, ForkJoinPool pool) {
        CausalConv1d.checkBackward(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dweight, dbias, dy, dyOff,
                dyStride, dFinalState, dFinalStateOff, x, xOff, xStride, initialState, initialStateOff, cuSeqlens,
                weight, bias, b, l, d, w);
        float[] wT = CausalConv1dSimd.tapMajor(weight, d, w);                  // (w, d)
        int perRow = (l + TOKEN_CHUNK - 1) / TOKEN_CHUNK;
        if ((long) b * perRow >= 2 && (long) b * l * d >= 2L * GRAIN_ELEMENTS) {
            byTokens(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dweight, dbias, dy, dyOff, dyStride,
                    dFinalState, dFinalStateOff, x, xOff, xStride, initialState, initialStateOff, cuSeqlens, wT, bias,
                    silu, b, l, d, w, pool);
            return;
        }
        float[] dwT = dweight == null ? null : new float[w * d];               // (w, d) partial dweight
        int blocks = (d + L - 1) / L;
        int grain = Math.max(1, GRAIN_ELEMENTS / Math.max(1, b * l * L));
        Parallel.forRange(pool, blocks, grain, (s, e) -> {
            int c0 = s * L, c1 = Math.min(e * L, d);
            Columns cols = new Columns(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dwT, dbias, dy, dyOff,
                    dyStride, x, xOff, xStride, initialState, initialStateOff, cuSeqlens, wT, bias, silu, l, d, w);
            for (int bi = 0; bi < b; bi++) {
                cols.range(bi, 0, l, c0, c1);
                if (dFinalState != null) {
                    CausalConv1dScalar.routeFinalStateGradient(dx, dxOff, dxStride, dInitialState, dInitialStateOff,
                            dFinalState, dFinalStateOff, cuSeqlens, bi, l, d, w, c0, c1);
                }
            }
            if (dweight != null) {
                for (int c = c0; c < c1; c++) {
                    for (int j = 0; j < w; j++) dweight[c * w + j] += dwT[j * d + c];
                }
            }
        });
    }

    /** Tokens per chunk of the token split (chunks start at row starts and every TOKEN_CHUNK tokens; ≥ w − 1). */
    static final int TOKEN_CHUNK = 1024;

    /** The token split (class comment): chunks of TOKEN_CHUNK tokens of one row on the pool, then the merge. */
    private static void byTokens(float[] dx, int dxOff, int dxStride, float[] dInit, int dInitOff, float[] dweight,
                                 float[] dbias, float[] dy, int dyOff, int dyStride, float[] dFinal, int dFinalOff,
                                 float[] x, int xOff, int xStride, float[] init, int initOff, int[] cu, float[] wT,
                                 float[] bias, boolean silu, int b, int l, int d, int w, ForkJoinPool pool) {
        int perRow = (l + TOKEN_CHUNK - 1) / TOKEN_CHUNK, chunks = b * perRow;
        float[][] dwParts = new float[chunks][], dbParts = new float[chunks][], halos = new float[chunks][];
        Parallel.forRange(pool, chunks, 1, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                int bi = k / perRow, t0 = k % perRow * TOKEN_CHUNK, t1 = Math.min(l, t0 + TOKEN_CHUNK);
                float[] dwT = dweight == null ? null : (dwParts[k] = new float[w * d]);
                float[] db = dbias == null ? null : (dbParts[k] = new float[d]);
                Columns cols = new Columns(dx, dxOff, dxStride, dInit, dInitOff, dwT, db, dy, dyOff, dyStride, x, xOff,
                        xStride, init, initOff, cu, wT, bias, silu, l, d, w);
                // The halo's first tokens take the tap-table path with or without dx, so that leaving dx out
                // keeps dweight's and dbias's bits.
                if (t0 > 0) cols.halo(dx == null ? null : (halos[k] = new float[(w - 1) * d]), bi * l + t0);
                cols.range(bi, t0, t1, 0, d);
            }
        });
        for (int k = 0; k < chunks; k++) {                  // fixed order: the bits do not depend on the threads
            if (halos[k] != null) {
                int first = (k / perRow) * l + k % perRow * TOKEN_CHUNK - (w - 1);
                for (int r = 0; r < w - 1; r++) {
                    int row = dxOff + (first + r) * dxStride;
                    for (int c = 0; c < d; c++) dx[row + c] += halos[k][r * d + c];
                }
            }
            if (dbParts[k] != null) for (int c = 0; c < d; c++) dbias[c] += dbParts[k][c];
            if (dwParts[k] != null) {
                for (int c = 0; c < d; c++) {
                    for (int j = 0; j < w; j++) dweight[c * w + j] += dwParts[k][j * d + c];
                }
            }
        }
        if (dFinal != null) {
            for (int bi = 0; bi < b; bi++) {
                CausalConv1dScalar.routeFinalStateGradient(dx, dxOff, dxStride, dInit, dInitOff, dFinal, dFinalOff, cu, bi,
                        l, d, w, 0, d);
            }
        }
    }

    /** The per-task state: arguments plus the tap table of the current token. */
    private static final class Columns {
        final float[] dx, dInit, dwT, dbias, dy, x, init, wT, bias;
        final int dxOff, dxStride, dInitOff, dyOff, dyStride, xOff, xStride, initOff, l, d, w;
        final int[] cu;
        final boolean silu;
        // Tap table of one token: input row (null = zeros), its gradient row (null = not wanted), j·d.
        final float[][] src, dsrc;
        final int[] srcOff, dsrcOff, tapW;
        int nt;
        // g = dy·silu'(pre) of one full block of {@link #span4}: T_BLOCK vectors.
        final float[] gs = new float[CausalConv1dSimd.T_BLOCK * L];
        // Token split: dx rows before haloFrom (flattened) go to halo, (w − 1, d), row 0 = haloFrom − (w − 1).
        float[] halo;
        int haloFrom = Integer.MIN_VALUE;

        Columns(float[] dx, int dxOff, int dxStride, float[] dInit, int dInitOff, float[] dwT, float[] dbias,
                float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride, float[] init, int initOff,
                int[] cu, float[] wT, float[] bias, boolean silu, int l, int d, int w) {
            this.dx = dx; this.dxOff = dxOff; this.dxStride = dxStride;
            this.dInit = dInit; this.dInitOff = dInitOff; this.dwT = dwT; this.dbias = dbias;
            this.dy = dy; this.dyOff = dyOff; this.dyStride = dyStride;
            this.x = x; this.xOff = xOff; this.xStride = xStride; this.init = init; this.initOff = initOff;
            this.cu = cu; this.wT = wT; this.bias = bias; this.silu = silu; this.l = l; this.d = d; this.w = w;
            src = new float[w][];
            dsrc = new float[w][];
            srcOff = new int[w];
            dsrcOff = new int[w];
            tapW = new int[w];
        }

        /**
         * Routes the gradient of dx rows before flattened row {@code from} into {@code rows} ((w − 1, d);
         * null when dx is not wanted) and sends the range's first w − 1 tokens through the tap table.
         */
        void halo(float[] rows, int from) {
            halo = rows;
            haloFrom = from;
        }

        void token(int bi, int t, int c0, int c1) {
            int seg = Segments.start(cu, bi, l, t);
            nt = 0;
            for (int j = 0; j < w; j++) {
                int p = t - (w - 1) + j;
                if (p >= seg) {
                    int gp = bi * l + p;
                    src[nt] = x;
                    srcOff[nt] = xOff + gp * xStride;
                    if (gp < haloFrom) {
                        dsrc[nt] = dx == null ? null : halo;
                        dsrcOff[nt] = (gp - haloFrom + w - 1) * d;
                    } else {
                        dsrc[nt] = dx;
                        dsrcOff[nt] = dxOff + gp * dxStride;
                    }
                } else if (p < 0 && seg == 0 && (init != null || dInit != null)) {
                    int row = (bi * (w - 1) + (w - 1 + p)) * d;
                    src[nt] = init;
                    srcOff[nt] = initOff + row;
                    dsrc[nt] = dInit;
                    dsrcOff[nt] = dInitOff + row;
                } else {
                    continue;
                }
                tapW[nt++] = j * d;
            }
            int dyRow = dyOff + (bi * l + t) * dyStride;
            int c = c0;
            for (; c <= c1 - L; c += L) full(dyRow, c);
            if (c < c1) tail(dyRow, c, c1);
        }

        /**
         * Tokens [t0, t1) of row bi, channels [c0, c1). Any w: token by token through the tap table
         * ({@link #token}). w = 4: each sequence's first w−1 tokens, and with a halo the range's first
         * w−1 tokens (they scatter into rows before it), through the tap table, the rest by {@link #span4}.
         */
        void range(int bi, int t0, int t1, int c0, int c1) {
            if (w != 4) {
                for (int t = t0; t < t1; t++) token(bi, t, c0, c1);
                return;
            }
            int first = haloFrom == Integer.MIN_VALUE ? t0 : t0 + 3;
            for (int t = t0; t < t1; ) {
                int seg = Segments.start(cu, bi, l, t), segEnd = Math.min(t1, Segments.end(cu, bi, l, t));
                for (int edgeEnd = Math.min(segEnd, Math.max(seg + 3, first)); t < edgeEnd; t++) token(bi, t, c0, c1);
                if (t < segEnd) span4(bi, t, segEnd, c0, c1);
                t = segEnd;
            }
        }

        /**
         * w = 4: interior tokens [t0, t1) of row bi (all 4 taps in x), in blocks of T_BLOCK = 8 tokens
         * ({@link #block}); the partial last channel vector through the tap table ({@link #token}).
         */
        private void span4(int bi, int t0, int t1, int c0, int c1) {
            final int T = CausalConv1dSimd.T_BLOCK;
            int cFull = c0 + (c1 - c0) / L * L;
            for (int t = t0; t < t1; t += T) {
                int n = Math.min(T, t1 - t);
                block(bi * l + t, n, c0, cFull);
                if (cFull < c1) for (int i = 0; i < n; i++) token(bi, t + i, cFull, c1);
            }
        }

        /**
         * Interior tokens [g0, g0 + n), n ≤ T_BLOCK (flattened rows, all 4 taps in x), channels [c0, cFull)
         * in whole vectors, w = 4; channel vector outer, token inner. Per channel vector:
         * <ol>
         * <li>with the SiLU, a loop over the n tokens forms g = dy·silu'(pre) into the scratch gs (n
         *     vectors, in L1), pre from a register ring of the inputs. One sigmoid call site for the
         *     method: more inlined copies exhaust C2's inlining budget (JIT note 2);</li>
         * <li>the scatter: registers hold the weights, the dweight and dbias partials of the block, the
         *     input ring and the ring of the 4 dx rows a token scatters into: dx row p is loaded once,
         *     receives w3·g_p, w2·g_{p+1}, w1·g_{p+2}, w0·g_{p+3} (the order of FMAs of {@link #full},
         *     so the bits do not depend on where a block starts) and is stored once; the 3 rows still
         *     open at the end of a block are stored and reloaded by the next block. A full block is
         *     straight-line code (11 x loads, 8 g loads, 8 dx loads and stores, 72 FMA/adds); a loop
         *     of 8 per (block, vector) spent a large part of its time on loop and call overhead.</li>
         * </ol>
         * One method per block holding every vector operation, full and partial blocks alike: it is
         * called a few hundred times per call and so is compiled by C2 within the first calls. A method
         * entered once per call (a row loop) runs in C1 code, which boxes every vector, until an
         * on-stack replacement, and a separate method for the rare partial blocks stayed in C1 code
         * for dozens of calls (~0.8 MB allocated per (1, 2048, 1536) call, measured).
         */
        private void block(int g0, int n, int c0, int cFull) {
            final int T = CausalConv1dSimd.T_BLOCK;
            final float[] x = this.x, dx = this.dx, dy = this.dy, wT = this.wT, gs = this.gs;
            final int xS = xStride, dS = dxStride, yS = dyStride, d = this.d;
            final boolean wantDx = dx != null, silu = this.silu;
            final FloatVector zero = FloatVector.zero(F);
            int xb = xOff + (g0 - 3) * xS, db0 = dxOff + (g0 - 3) * dS, yb = dyOff + g0 * yS;
            for (int c = c0; c < cFull; c += L) {
                FloatVector w0 = FloatVector.fromArray(F, wT, c), w1 = FloatVector.fromArray(F, wT, d + c);
                FloatVector w2 = FloatVector.fromArray(F, wT, 2 * d + c), w3 = FloatVector.fromArray(F, wT, 3 * d + c);
                int xi = xb + c, di = db0 + c;
                float[] ga;                                              // g of token i at ga[gi + i·gS]
                int gi, gS;
                if (silu) {
                    FloatVector bv = bias == null ? zero : FloatVector.fromArray(F, bias, c);
                    FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + xS);
                    FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * xS);
                    for (int k = 0, xp = xi + 3 * xS, yp = yb + c; k < n; k++, xp += xS, yp += yS) {
                        FloatVector x3 = FloatVector.fromArray(F, x, xp);
                        FloatVector pre = x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, bv))));   // as full()
                        FloatVector.fromArray(F, dy, yp).mul(dsilu(pre)).intoArray(gs, k * L);
                        x0 = x1;
                        x1 = x2;
                        x2 = x3;
                    }
                    ga = gs;
                    gi = 0;
                    gS = L;
                } else {
                    ga = dy;
                    gi = yb + c;
                    gS = yS;
                }
                    FloatVector a0 = FloatVector.fromArray(F, x, xi), a1 = FloatVector.fromArray(F, x, xi + xS);
                    FloatVector a2 = FloatVector.fromArray(F, x, xi + 2 * xS);
                    FloatVector p0 = zero, p1 = zero, p2 = zero;                 // open dx rows t−3, t−2, t−1
                    if (wantDx) {
                        p0 = FloatVector.fromArray(F, dx, di);
                        p1 = FloatVector.fromArray(F, dx, di + dS);
                        p2 = FloatVector.fromArray(F, dx, di + 2 * dS);
                    }
                    FloatVector db = zero, dw0 = zero, dw1 = zero, dw2 = zero, dw3 = zero;
                    if (n == T) {
                        // Unrolled: token i reads x rows a_i..a_{i+3}; dx row i is complete after token i.
                        FloatVector g = FloatVector.fromArray(F, ga, gi);
                        FloatVector a3 = FloatVector.fromArray(F, x, xi + 3 * xS);
                        db = db.add(g);
                        dw0 = a0.fma(g, dw0);
                        dw1 = a1.fma(g, dw1);
                        dw2 = a2.fma(g, dw2);
                        dw3 = a3.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 3 * dS));
                            w0.fma(g, p0).intoArray(dx, di);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 1 * gS);
                        FloatVector a4 = FloatVector.fromArray(F, x, xi + 4 * xS);
                        db = db.add(g);
                        dw0 = a1.fma(g, dw0);
                        dw1 = a2.fma(g, dw1);
                        dw2 = a3.fma(g, dw2);
                        dw3 = a4.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 4 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 1 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 2 * gS);
                        FloatVector a5 = FloatVector.fromArray(F, x, xi + 5 * xS);
                        db = db.add(g);
                        dw0 = a2.fma(g, dw0);
                        dw1 = a3.fma(g, dw1);
                        dw2 = a4.fma(g, dw2);
                        dw3 = a5.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 5 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 2 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 3 * gS);
                        FloatVector a6 = FloatVector.fromArray(F, x, xi + 6 * xS);
                        db = db.add(g);
                        dw0 = a3.fma(g, dw0);
                        dw1 = a4.fma(g, dw1);
                        dw2 = a5.fma(g, dw2);
                        dw3 = a6.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 6 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 3 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 4 * gS);
                        FloatVector a7 = FloatVector.fromArray(F, x, xi + 7 * xS);
                        db = db.add(g);
                        dw0 = a4.fma(g, dw0);
                        dw1 = a5.fma(g, dw1);
                        dw2 = a6.fma(g, dw2);
                        dw3 = a7.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 7 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 4 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 5 * gS);
                        FloatVector a8 = FloatVector.fromArray(F, x, xi + 8 * xS);
                        db = db.add(g);
                        dw0 = a5.fma(g, dw0);
                        dw1 = a6.fma(g, dw1);
                        dw2 = a7.fma(g, dw2);
                        dw3 = a8.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 8 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 5 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 6 * gS);
                        FloatVector a9 = FloatVector.fromArray(F, x, xi + 9 * xS);
                        db = db.add(g);
                        dw0 = a6.fma(g, dw0);
                        dw1 = a7.fma(g, dw1);
                        dw2 = a8.fma(g, dw2);
                        dw3 = a9.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 9 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 6 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                        g = FloatVector.fromArray(F, ga, gi + 7 * gS);
                        FloatVector a10 = FloatVector.fromArray(F, x, xi + 10 * xS);
                        db = db.add(g);
                        dw0 = a7.fma(g, dw0);
                        dw1 = a8.fma(g, dw1);
                        dw2 = a9.fma(g, dw2);
                        dw3 = a10.fma(g, dw3);
                        if (wantDx) {
                            FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + 10 * dS));
                            w0.fma(g, p0).intoArray(dx, di + 7 * dS);
                            p0 = w1.fma(g, p1);
                            p1 = w2.fma(g, p2);
                            p2 = p3;
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            FloatVector g = FloatVector.fromArray(F, ga, gi + i * gS);
                            FloatVector a3 = FloatVector.fromArray(F, x, xi + (i + 3) * xS);
                            db = db.add(g);
                            dw0 = a0.fma(g, dw0);
                            dw1 = a1.fma(g, dw1);
                            dw2 = a2.fma(g, dw2);
                            dw3 = a3.fma(g, dw3);
                            if (wantDx) {
                                FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, di + (i + 3) * dS));
                                w0.fma(g, p0).intoArray(dx, di + i * dS);
                                p0 = w1.fma(g, p1);
                                p1 = w2.fma(g, p2);
                                p2 = p3;
                            }
                            a0 = a1;
                            a1 = a2;
                            a2 = a3;
                        }
                    }
                    if (wantDx) {
                        p0.intoArray(dx, di + n * dS);
                        p1.intoArray(dx, di + (n + 1) * dS);
                        p2.intoArray(dx, di + (n + 2) * dS);
                    }
                    if (dbias != null) FloatVector.fromArray(F, dbias, c).add(db).intoArray(dbias, c);
                    if (dwT != null) {
                        FloatVector.fromArray(F, dwT, c).add(dw0).intoArray(dwT, c);
                        FloatVector.fromArray(F, dwT, d + c).add(dw1).intoArray(dwT, d + c);
                        FloatVector.fromArray(F, dwT, 2 * d + c).add(dw2).intoArray(dwT, 2 * d + c);
                        FloatVector.fromArray(F, dwT, 3 * d + c).add(dw3).intoArray(dwT, 3 * d + c);
                    }
            }
        }

        /** silu'(pre) = σ·(1 + pre·(1 − σ)). */
        private static FloatVector dsilu(FloatVector pre) {
            FloatVector sg = VectorMath.sigmoid(pre);
            return sg.mul(pre.mul(sg.neg().add(1f)).add(1f));
        }

        /*
         * full() and tail() are the same computation without and with a lane mask. They are kept as
         * two copies on purpose: a VectorMask passed into a method that the JIT does not inline has
         * no exact type, and the Vector API then falls back to slow boxed code.
         */

        /** Channels [c, c + LANES) of the current token. */
        private void full(int dyRow, int c) {
            FloatVector g = FloatVector.fromArray(F, dy, dyRow + c);
            if (silu) {
                FloatVector pre = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
                for (int k = 0; k < nt; k++) {
                    if (src[k] == null) continue;
                    pre = FloatVector.fromArray(F, src[k], srcOff[k] + c).fma(FloatVector.fromArray(F, wT, tapW[k] + c), pre);
                }
                g = g.mul(dsilu(pre));
            }
            if (dbias != null) FloatVector.fromArray(F, dbias, c).add(g).intoArray(dbias, c);
            for (int k = 0; k < nt; k++) {
                if (dwT != null && src[k] != null) {
                    int o = tapW[k] + c;
                    FloatVector.fromArray(F, src[k], srcOff[k] + c).fma(g, FloatVector.fromArray(F, dwT, o)).intoArray(dwT, o);
                }
                if (dsrc[k] != null) {
                    int o = dsrcOff[k] + c;
                    FloatVector.fromArray(F, wT, tapW[k] + c).fma(g, FloatVector.fromArray(F, dsrc[k], o)).intoArray(dsrc[k], o);
                }
            }
        }

        /** The last, partial vector: channels [c, c1), masked. */
        private void tail(int dyRow, int c, int c1) {
            VectorMask<Float> m = F.indexInRange(c, c1);
            FloatVector g = FloatVector.fromArray(F, dy, dyRow + c, m);
            if (silu) {
                FloatVector pre = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c, m);
                for (int k = 0; k < nt; k++) {
                    if (src[k] == null) continue;
                    pre = FloatVector.fromArray(F, src[k], srcOff[k] + c, m).fma(FloatVector.fromArray(F, wT, tapW[k] + c, m), pre);
                }
                g = g.mul(dsilu(pre));
            }
            if (dbias != null) FloatVector.fromArray(F, dbias, c, m).add(g).intoArray(dbias, c, m);
            for (int k = 0; k < nt; k++) {
                if (dwT != null && src[k] != null) {
                    int o = tapW[k] + c;
                    FloatVector.fromArray(F, src[k], srcOff[k] + c, m).fma(g, FloatVector.fromArray(F, dwT, o, m))
                            .intoArray(dwT, o, m);
                }
                if (dsrc[k] != null) {
                    int o = dsrcOff[k] + c;
                    FloatVector.fromArray(F, wT, tapW[k] + c, m).fma(g, FloatVector.fromArray(F, dsrc[k], o, m))
                            .intoArray(dsrc[k], o, m);
                }
            }
        }
    }
}
