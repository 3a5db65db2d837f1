package dev.ssm4j.kernels.conv;

import dev.ssm4j.kernels.VectorMath;

/**
 * Scalar twin of the causal depthwise conv1d: the reference the SIMD code is tested against and
 * the version the docs teach. One token, one channel, one tap at a time. Single-threaded.
 * Layouts and glossary: {@link CausalConv1d}.
 */
public final class CausalConv1dScalar {
    private CausalConv1dScalar() {}

    /** Forward; arguments as {@link CausalConv1d#forward(float[], int, int, float[], int, float[], int, int, float[], int, int[], float[], float[], boolean, int, int, int, int, java.util.concurrent.ForkJoinPool)}. */
    public static void forward(float[] y, int yOff, int yStride, float[] finalState, int finalStateOff,
                               float[] x, int xOff, int xStride, float[] initialState, int initialStateOff,
                               int[] cuSeqlens, float[] weight, float[] bias, boolean silu,
                               int b, int l, int d, int w) {
        CausalConv1d.checkForward(y, yOff, yStride, finalState, finalStateOff, x, xOff, xStride, initialState,
                initialStateOff, cuSeqlens, weight, bias, b, l, d, w);
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < l; t++) {
                int seg = Segments.start(cuSeqlens, bi, l, t);           // first token this one may see
                for (int c = 0; c < d; c++) {
                    float pre = bias == null ? 0f : bias[c];
                    for (int j = 0; j < w; j++) {
                        float in = input(x, xOff, xStride, initialState, initialStateOff, bi, l, d, w, seg,
                                t - (w - 1) + j, c);
                        pre += weight[c * w + j] * in;
                    }
                    y[yOff + (bi * l + t) * yStride + c] = silu ? VectorMath.silu(pre) : pre;
                }
            }
            if (finalState != null) {
                CausalConv1d.writeFinalState(finalState, finalStateOff, x, xOff, xStride, initialState,
                        initialStateOff, cuSeqlens, bi, l, d, w, 0, d);
            }
        }
    }

    /**
     * The input at position p of row bi, channel c, as seen by a token whose sequence starts at
     * {@code seg}: x itself inside the sequence, the initial state before position 0 of a row's
     * first sequence, 0 otherwise (zero padding, or across a sequence boundary).
     */
    static float input(float[] x, int xOff, int xStride, float[] init, int initOff, int bi, int l, int d, int w,
                       int seg, int p, int c) {
        if (p >= seg) return x[xOff + (bi * l + p) * xStride + c];
        if (p < 0 && seg == 0 && init != null) return init[initOff + (bi * (w - 1) + (w - 1 + p)) * d + c];
        return 0f;
    }

    /**
     * Backward; arguments as {@link CausalConv1d#backward(float[], int, int, float[], int, float[], float[], float[], int, int, float[], int, float[], int, int, float[], int, int[], float[], float[], boolean, int, int, int, int, java.util.concurrent.ForkJoinPool)}.
     * With g_t = dy_t · act'(pre_t): dbias += Σ_t g_t, dweight[c, j] += Σ_t g_t·x_{t−w+1+j},
     * d(input at p) += weight[c, j]·g_t for every tap that read it.
     */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dInitialState, int dInitialStateOff,
                                float[] dweight, float[] dbias, float[] dy, int dyOff, int dyStride,
                                float[] dFinalState, int dFinalStateOff, float[] x, int xOff, int xStride,
                                float[] initialState, int initialStateOff, int[] cuSeqlens, float[] weight,
                                float[] bias, boolean silu, int b, int l, int d, int w) {
        CausalConv1d.checkBackward(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dweight, dbias, dy, dyOff,
                dyStride, dFinalState, dFinalStateOff, x, xOff, xStride, initialState, initialStateOff, cuSeqlens,
                weight, bias, b, l, d, w);
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < l; t++) {
                int seg = Segments.start(cuSeqlens, bi, l, t);
                for (int c = 0; c < d; c++) {
                    float g = dy[dyOff + (bi * l + t) * dyStride + c];
                    if (silu) {                                           // recompute the SiLU input
                        float pre = bias == null ? 0f : bias[c];
                        for (int j = 0; j < w; j++) {
                            pre += weight[c * w + j] * input(x, xOff, xStride, initialState, initialStateOff, bi, l,
                                    d, w, seg, t - (w - 1) + j, c);
                        }
                        g *= dsilu(pre);
                    }
                    if (dbias != null) dbias[c] += g;
                    for (int j = 0; j < w; j++) {
                        int p = t - (w - 1) + j;
                        if (dweight != null) {
                            dweight[c * w + j] += g * input(x, xOff, xStride, initialState, initialStateOff, bi, l, d,
                                    w, seg, p, c);
                        }
                        float dIn = weight[c * w + j] * g;
                        if (p >= seg) {
                            if (dx != null) dx[dxOff + (bi * l + p) * dxStride + c] += dIn;
                        } else if (p < 0 && seg == 0 && dInitialState != null) {
                            dInitialState[dInitialStateOff + (bi * (w - 1) + (w - 1 + p)) * d + c] += dIn;
                        }
                    }
                }
            }
            if (dFinalState != null) {
                routeFinalStateGradient(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dFinalState,
                        dFinalStateOff, cuSeqlens, bi, l, d, w, 0, d);
            }
        }
    }

    /**
     * The final state is a copy of some inputs (see {@link CausalConv1d#writeFinalState}); its
     * gradient goes back to the same places: dx of the last sequence, or the initial state.
     */
    static void routeFinalStateGradient(float[] dx, int dxOff, int dxStride, float[] dInit, int dInitOff,
                                        float[] dFinal, int dFinalOff, int[] cuSeqlens, int bi, int l, int d, int w,
                                        int c0, int c1) {
        int last = Segments.lastStart(cuSeqlens, bi, l);
        for (int k = 0; k < w - 1; k++) {
            int p = l - (w - 1) + k;
            int src = dFinalOff + (bi * (w - 1) + k) * d;
            if (p >= last) {
                if (dx == null) continue;
                int dst = dxOff + (bi * l + p) * dxStride;
                for (int c = c0; c < c1; c++) dx[dst + c] += dFinal[src + c];
            } else if (p < 0 && last == 0 && dInit != null) {
                int dst = dInitOff + (bi * (w - 1) + (w - 1 + p)) * d;
                for (int c = c0; c < c1; c++) dInit[dst + c] += dFinal[src + c];
            }
        }
    }

    /** d silu(z)/dz = σ(z)·(1 + z·(1 − σ(z))). */
    static float dsilu(float z) {
        float s = VectorMath.sigmoid(z);
        return s * (1f + z * (1f - s));
    }

    /** One decoding step; arguments as {@link CausalConv1d#step}. */
    public static void step(float[] y, int yOff, int yStride, float[] state, int stateOff, float[] x, int xOff,
                            int xStride, float[] weight, float[] bias, boolean silu, int b, int d, int w) {
        CausalConv1d.checkStep(y, yOff, yStride, state, stateOff, x, xOff, xStride, weight, bias, b, d, w);
        for (int bi = 0; bi < b; bi++) {
            int s0 = stateOff + bi * (w - 1) * d;                         // slot k of this row at s0 + k·d
            for (int c = 0; c < d; c++) {
                float xc = x[xOff + bi * xStride + c];
                float pre = bias == null ? 0f : bias[c];
                for (int k = 0; k < w - 1; k++) pre += weight[c * w + k] * state[s0 + k * d + c];
                pre += weight[c * w + w - 1] * xc;
                for (int k = 0; k < w - 2; k++) state[s0 + k * d + c] = state[s0 + (k + 1) * d + c];  // roll
                state[s0 + (w - 2) * d + c] = xc;
                y[yOff + bi * yStride + c] = silu ? VectorMath.silu(pre) : pre;
            }
        }
    }
}
