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
 * <p>Threads split the channels: every task owns its columns of dx, dweight, dbias and the states,
 * so nothing is shared and the result does not depend on the thread count.
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
        float[] dwT = dweight == null ? null : new float[w * d];               // (w, d) partial dweight
        int blocks = (d + L - 1) / L;
        int grain = Math.max(1, GRAIN_ELEMENTS / Math.max(1, b * l * L));
        Parallel.forRange(pool, blocks, grain, (s, e) -> {
            int c0 = s * L, c1 = Math.min(e * L, d);
            Columns cols = new Columns(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dwT, dbias, dy, dyOff,
                    dyStride, x, xOff, xStride, initialState, initialStateOff, cuSeqlens, wT, bias, silu, l, d, w);
            for (int bi = 0; bi < b; bi++) {
                if (w == 4) cols.row4(bi, c0, c1);
                else for (int t = 0; t < l; t++) cols.token(bi, t, c0, c1);
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

        void token(int bi, int t, int c0, int c1) {
            int seg = Segments.start(cu, bi, l, t);
            nt = 0;
            for (int j = 0; j < w; j++) {
                int p = t - (w - 1) + j;
                if (p >= seg) {
                    src[nt] = x;
                    srcOff[nt] = xOff + (bi * l + p) * xStride;
                    dsrc[nt] = dx;
                    dsrcOff[nt] = dxOff + (bi * l + p) * dxStride;
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
            for (; c + L <= c1; c += L) full(dyRow, c);
            if (c < c1) tail(dyRow, c, c1);
        }

        /**
         * Row bi for w = 4: each sequence's first w−1 tokens through the tap table ({@link #token}), the
         * rest in blocks of T_BLOCK tokens by {@link #ring4} (full channel vectors) and {@link #token}
         * (the last, partial vector).
         */
        void row4(int bi, int c0, int c1) {
            int cFull = c0 + (c1 - c0) / L * L;
            for (int t = 0; t < l; ) {
                int seg = Segments.start(cu, bi, l, t), segEnd = Segments.end(cu, bi, l, t);
                for (int edgeEnd = Math.min(segEnd, seg + 3); t < edgeEnd; t++) token(bi, t, c0, c1);
                for (; t < segEnd; t = Math.min(segEnd, t + CausalConv1dSimd.T_BLOCK)) {
                    int g0 = bi * l + t, n = Math.min(segEnd, t + CausalConv1dSimd.T_BLOCK) - t;
                    for (int c = c0; c < cFull; c += L) ring4(g0, n, c);
                    if (cFull < c1) for (int i = 0; i < n; i++) token(bi, t + i, cFull, c1);
                }
            }
        }

        /**
         * Interior tokens [g0, g0 + n) (flattened rows, all 4 taps in x) of channels [c, c + LANES), w = 4.
         * Registers hold the weights, the bias, the dweight and dbias partials of the block, the ring of
         * the last 4 inputs and the ring of the 4 dx rows a token scatters into: dx row p is loaded once,
         * receives w3·g_p, w2·g_{p+1}, w1·g_{p+2}, w0·g_{p+3} (the same order of FMAs as {@link #full},
         * so results do not depend on where a block starts) and is stored once. The 3 rows still open at
         * the end of a block are stored and reloaded by the next block.
         */
        private void ring4(int g0, int n, int c) {
            FloatVector w0 = FloatVector.fromArray(F, wT, c), w1 = FloatVector.fromArray(F, wT, d + c);
            FloatVector w2 = FloatVector.fromArray(F, wT, 2 * d + c), w3 = FloatVector.fromArray(F, wT, 3 * d + c);
            FloatVector bv = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
            FloatVector zero = FloatVector.zero(F), db = zero, dw0 = zero, dw1 = zero, dw2 = zero, dw3 = zero;
            int xp = xOff + (g0 - 3) * xStride + c, dp = dxOff + (g0 - 3) * dxStride + c, yp = dyOff + g0 * dyStride + c;
            boolean wantDx = dx != null;
            FloatVector x0 = FloatVector.fromArray(F, x, xp), x1 = FloatVector.fromArray(F, x, xp + xStride);
            FloatVector x2 = FloatVector.fromArray(F, x, xp + 2 * xStride);
            FloatVector p0 = zero, p1 = zero, p2 = zero;                 // dx rows t−3, t−2, t−1
            if (wantDx) {
                p0 = FloatVector.fromArray(F, dx, dp);
                p1 = FloatVector.fromArray(F, dx, dp + dxStride);
                p2 = FloatVector.fromArray(F, dx, dp + 2 * dxStride);
            }
            xp += 3 * xStride;
            for (int i = 0; i < n; i++, xp += xStride, dp += dxStride, yp += dyStride) {
                FloatVector x3 = FloatVector.fromArray(F, x, xp);
                FloatVector g = FloatVector.fromArray(F, dy, yp);
                if (silu) g = g.mul(dsilu(x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, bv))))));
                db = db.add(g);
                dw0 = x0.fma(g, dw0);
                dw1 = x1.fma(g, dw1);
                dw2 = x2.fma(g, dw2);
                dw3 = x3.fma(g, dw3);
                if (wantDx) {
                    FloatVector p3 = w3.fma(g, FloatVector.fromArray(F, dx, dp + 3 * dxStride));
                    w0.fma(g, p0).intoArray(dx, dp);                        // row t−3 is complete
                    p0 = w1.fma(g, p1);
                    p1 = w2.fma(g, p2);
                    p2 = p3;
                }
                x0 = x1;
                x1 = x2;
                x2 = x3;
            }
            if (wantDx) {
                p0.intoArray(dx, dp);
                p1.intoArray(dx, dp + dxStride);
                p2.intoArray(dx, dp + 2 * dxStride);
            }
            if (dbias != null) FloatVector.fromArray(F, dbias, c).add(db).intoArray(dbias, c);
            if (dwT != null) {
                FloatVector.fromArray(F, dwT, c).add(dw0).intoArray(dwT, c);
                FloatVector.fromArray(F, dwT, d + c).add(dw1).intoArray(dwT, d + c);
                FloatVector.fromArray(F, dwT, 2 * d + c).add(dw2).intoArray(dwT, 2 * d + c);
                FloatVector.fromArray(F, dwT, 3 * d + c).add(dw3).intoArray(dwT, 3 * d + c);
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
