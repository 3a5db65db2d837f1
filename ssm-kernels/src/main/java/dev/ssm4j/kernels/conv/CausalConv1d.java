package dev.ssm4j.kernels.conv;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * Causal depthwise 1-D convolution of a Mamba block (Gu &amp; Dao 2023, §3.4: a short causal
 * convolution precedes the SSM; Mamba-2, Dao &amp; Gu 2024, §7 applies it to the [x | B | C] slice).
 * PyTorch writes it as {@code nn.Conv1d(d, d, w, groups=d, padding=w-1)(x)[..., :l]}.
 *
 * <pre>
 *   y_t[c] = act( bias[c] + Σ_{j=0}^{w-1} weight[c, j] · x_{t-w+1+j}[c] ),   act = identity or SiLU
 * </pre>
 * Positions before 0 come from the initial conv state when one is given, else they are 0.
 *
 * <h2>Glossary</h2>
 * b batch rows · l tokens per row · d channels (d_inner for Mamba-1, d_inner + 2·ngroups·n for
 * Mamba-2's xBC) · w kernel width (d_conv, 2..8; 4 in every released Mamba) · t token · c channel ·
 * j tap (j = w−1 multiplies the current token).
 *
 * <h2>Layouts</h2>
 * <ul>
 *   <li>x, y, dx, dy: token-major (b, l, d), element (bi, t, c) at {@code off + (bi·l + t)·stride + c};
 *       the stride lets the conv read a column slice of a GEMM output (Mamba-2's in_proj row is
 *       [z | xBC | dt]) and write into one.</li>
 *   <li>weight: (d, w) row-major, channel c's taps at {@code weight[c·w .. c·w + w)} — HF's
 *       (d, 1, w) Conv1d weight with the middle axis squeezed; j = w−1 is the newest token.</li>
 *   <li>bias: (d) or null.</li>
 *   <li>conv state: (b, w−1, d) token-major, contiguous, at an offset: slot k (0 = oldest) of row bi
 *       holds the input at position k − (w−1), i.e. the last w−1 inputs in time order. This is
 *       the transpose of mamba_ssm/HF's (b, d, w) cache, chosen so that SIMD runs over channels here
 *       too. A final state is exactly the initial state of the continuation.</li>
 *   <li>cuSeqlens (optional): packed variable-length sequences, ascending boundaries on the
 *       flattened b·l token axis ({@code [0, …, b·l]}); the conv never reads across a boundary (nor a
 *       batch-row start). The initial state of row bi feeds only that row's first sequence, and the
 *       final state is that of the row's last sequence (zeros where it is shorter than w−1, unless it
 *       is also the first sequence and the initial state reaches into it).</li>
 * </ul>
 *
 * <p>Backward passes ACCUMULATE (+=) into every gradient they are given; any gradient may be null
 * (not wanted). With {@code silu = true} the backward recomputes the pre-activation from x (w FMAs
 * per element) instead of saving it: the conv is memory-bound, and a saved (b, l, d) buffer would
 * cost more traffic than the recomputation.
 *
 * <p>This class dispatches to {@link CausalConv1dSimd} / {@link CausalConv1dSimdBackward} (or, with
 * {@code -Dssm4j.kernels.scalar=true}, to {@link CausalConv1dScalar}); both twins check their
 * arguments and throw IllegalArgumentException naming the bad one. Outputs must not overlap inputs
 * (except a disjoint column slice of the same buffer); the final state may be the very same buffer
 * and offset as the initial state (updated in place).
 */
public final class CausalConv1d {
    private CausalConv1d() {}

    /** Largest supported kernel width. */
    public static final int MAX_WIDTH = 8;

    /** Forward without states or boundaries: y (b,l,d) from x (b,l,d). */
    public static void forward(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride, float[] weight,
                               float[] bias, boolean silu, int b, int l, int d, int w, ForkJoinPool pool) {
        forward(y, yOff, yStride, null, 0, x, xOff, xStride, null, 0, null, weight, bias, silu, b, l, d, w, pool);
    }

    /**
     * Full forward.
     *
     * @param y            out (b, l, d) at yOff, token stride yStride
     * @param finalState   out (b, w−1, d) at finalStateOff, or null; may be the initial state buffer itself
     * @param x            in (b, l, d) at xOff, token stride xStride
     * @param initialState in (b, w−1, d) at initialStateOff, or null (zeros)
     * @param cuSeqlens    packed sequence boundaries on the b·l token axis, or null
     * @param weight       (d, w)
     * @param bias         (d) or null
     * @param silu         apply SiLU to the output
     * @param pool         threads (null: calling thread); the SIMD twin splits channels over it
     */
    public static void forward(float[] y, int yOff, int yStride, float[] finalState, int finalStateOff,
                               float[] x, int xOff, int xStride, float[] initialState, int initialStateOff,
                               int[] cuSeqlens, float[] weight, float[] bias, boolean silu,
                               int b, int l, int d, int w, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            CausalConv1dScalar.forward(y, yOff, yStride, finalState, finalStateOff, x, xOff, xStride, initialState,
                    initialStateOff, cuSeqlens, weight, bias, silu, b, l, d, w);
        } else {
            CausalConv1dSimd.forward(y, yOff, yStride, finalState, finalStateOff, x, xOff, xStride, initialState,
                    initialStateOff, cuSeqlens, weight, bias, silu, b, l, d, w, pool);
        }
    }

    /** Backward without states or boundaries; accumulates into dx, dweight, dbias (each may be null). */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dweight, float[] dbias,
                                float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride,
                                float[] weight, float[] bias, boolean silu, int b, int l, int d, int w,
                                ForkJoinPool pool) {
        backward(dx, dxOff, dxStride, null, 0, dweight, dbias, dy, dyOff, dyStride, null, 0, x, xOff, xStride,
                null, 0, null, weight, bias, silu, b, l, d, w, pool);
    }

    /**
     * Full backward; every gradient output is accumulated (+=) and may be null.
     *
     * @param dx                += (b, l, d) at dxOff, token stride dxStride
     * @param dInitialState     += (b, w−1, d), or null; gets a gradient even when initialState is null (zeros)
     * @param dweight           += (d, w), or null
     * @param dbias             += (d), or null
     * @param dy                upstream gradient (b, l, d)
     * @param dFinalState       upstream gradient of the final state (b, w−1, d), or null (none): what the
     *                          next chunk's backward returned as its dInitialState; must not overlap dInitialState
     * @param x                 the forward input
     * @param initialState      the forward's initial state, or null
     * @param bias              the forward's bias (needed to recompute the SiLU input), or null
     */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dInitialState, int dInitialStateOff,
                                float[] dweight, float[] dbias, float[] dy, int dyOff, int dyStride,
                                float[] dFinalState, int dFinalStateOff, float[] x, int xOff, int xStride,
                                float[] initialState, int initialStateOff, int[] cuSeqlens, float[] weight,
                                float[] bias, boolean silu, int b, int l, int d, int w, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            CausalConv1dScalar.backward(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dweight, dbias, dy,
                    dyOff, dyStride, dFinalState, dFinalStateOff, x, xOff, xStride, initialState, initialStateOff,
                    cuSeqlens, weight, bias, silu, b, l, d, w);
        } else {
            CausalConv1dSimdBackward.backward(dx, dxOff, dxStride, dInitialState, dInitialStateOff, dweight, dbias,
                    dy, dyOff, dyStride, dFinalState, dFinalStateOff, x, xOff, xStride, initialState,
                    initialStateOff, cuSeqlens, weight, bias, silu, b, l, d, w, pool);
        }
    }

    /**
     * One decoding step for b rows: y = act(bias + Σ_{j<w−1} weight[·, j]·state[j] + weight[·, w−1]·x),
     * then the state rolls by one token in place (slot k ← slot k+1, newest slot ← x).
     *
     * @param y        out (b, d) at yOff, row stride yStride
     * @param state    in/out conv state (b, w−1, d) at stateOff
     * @param x        in (b, d) at xOff, row stride xStride (e.g. the xBC slice of one in_proj row);
     *                 y may be exactly x (same array, offset and stride)
     */
    public static void step(float[] y, int yOff, int yStride, float[] state, int stateOff, float[] x, int xOff,
                            int xStride, float[] weight, float[] bias, boolean silu, int b, int d, int w) {
        if (KernelConfig.FORCE_SCALAR) {
            CausalConv1dScalar.step(y, yOff, yStride, state, stateOff, x, xOff, xStride, weight, bias, silu, b, d, w);
        } else {
            CausalConv1dSimd.step(y, yOff, yStride, state, stateOff, x, xOff, xStride, weight, bias, silu, b, d, w);
        }
    }

    // ---- argument checks shared by the twins ------------------------------------------------------------

    static void checkForward(float[] y, int yOff, int yStride, float[] finalState, int finalStateOff, float[] x,
                             int xOff, int xStride, float[] initialState, int initialStateOff, int[] cuSeqlens,
                             float[] weight, float[] bias, int b, int l, int d, int w) {
        ConvChecks.sizes(b, l, d, w);
        ConvChecks.rows("y", y, yOff, yStride, b * l, d, false);
        ConvChecks.rows("x", x, xOff, xStride, b * l, d, false);
        ConvChecks.rows("finalState", finalState, finalStateOff, d, b * (w - 1), d, true);
        ConvChecks.rows("initialState", initialState, initialStateOff, d, b * (w - 1), d, true);
        ConvChecks.exact("weight", weight, d, w, false);
        ConvChecks.exact("bias", bias, d, 0, true);
        ConvChecks.cuSeqlens(cuSeqlens, b, l);
        ConvChecks.noOverlap("y", y, yOff, yStride, b * l, "x", x, xOff, xStride, b * l, d);
        ConvChecks.noOverlap("y", y, yOff, yStride, b * l, "initialState", initialState, initialStateOff, d, b * (w - 1), d);
        ConvChecks.noOverlap("finalState", finalState, finalStateOff, d, b * (w - 1), "x", x, xOff, xStride, b * l, d);
        ConvChecks.noOverlap("finalState", finalState, finalStateOff, d, b * (w - 1), "y", y, yOff, yStride, b * l, d);
        if (finalState != null && finalState == initialState && finalStateOff != initialStateOff) {
            throw new IllegalArgumentException("finalState may share initialState's buffer only at the same offset ("
                    + finalStateOff + " != " + initialStateOff + ")");
        }
    }

    static void checkBackward(float[] dx, int dxOff, int dxStride, float[] dInitialState, int dInitialStateOff,
                              float[] dweight, float[] dbias, float[] dy, int dyOff, int dyStride,
                              float[] dFinalState, int dFinalStateOff, float[] x, int xOff, int xStride,
                              float[] initialState, int initialStateOff, int[] cuSeqlens, float[] weight,
                              float[] bias, int b, int l, int d, int w) {
        ConvChecks.sizes(b, l, d, w);
        ConvChecks.rows("dx", dx, dxOff, dxStride, b * l, d, true);
        ConvChecks.rows("dy", dy, dyOff, dyStride, b * l, d, false);
        ConvChecks.rows("x", x, xOff, xStride, b * l, d, false);
        ConvChecks.rows("dInitialState", dInitialState, dInitialStateOff, d, b * (w - 1), d, true);
        ConvChecks.rows("dFinalState", dFinalState, dFinalStateOff, d, b * (w - 1), d, true);
        ConvChecks.rows("initialState", initialState, initialStateOff, d, b * (w - 1), d, true);
        ConvChecks.exact("weight", weight, d, w, false);
        ConvChecks.exact("bias", bias, d, 0, true);
        ConvChecks.exact("dweight", dweight, d, w, true);
        ConvChecks.exact("dbias", dbias, d, 0, true);
        ConvChecks.cuSeqlens(cuSeqlens, b, l);
        ConvChecks.noOverlap("dx", dx, dxOff, dxStride, b * l, "dy", dy, dyOff, dyStride, b * l, d);
        ConvChecks.noOverlap("dx", dx, dxOff, dxStride, b * l, "x", x, xOff, xStride, b * l, d);
        ConvChecks.noOverlap("dInitialState", dInitialState, dInitialStateOff, d, b * (w - 1), "dFinalState",
                dFinalState, dFinalStateOff, d, b * (w - 1), d);
    }

    static void checkStep(float[] y, int yOff, int yStride, float[] state, int stateOff, float[] x, int xOff,
                          int xStride, float[] weight, float[] bias, int b, int d, int w) {
        ConvChecks.sizes(b, 1, d, w);
        ConvChecks.rows("y", y, yOff, yStride, b, d, false);
        ConvChecks.rows("x", x, xOff, xStride, b, d, false);
        ConvChecks.rows("state", state, stateOff, d, b * (w - 1), d, false);
        ConvChecks.exact("weight", weight, d, w, false);
        ConvChecks.exact("bias", bias, d, 0, true);
        ConvChecks.noOverlap("y", y, yOff, yStride, b, "state", state, stateOff, d, b * (w - 1), d);
        if (!(y == x && yOff == xOff && yStride == xStride)) { // exactly in place is fine: x is read before y is written
            ConvChecks.noOverlap("y", y, yOff, yStride, b, "x", x, xOff, xStride, b, d);
        }
        ConvChecks.noOverlap("state", state, stateOff, d, b * (w - 1), "x", x, xOff, xStride, b, d);
    }

    /**
     * Writes rows of the final state for channels [c0, c1): slot k of row bi ← the input at position
     * l − (w−1) + k of the row's last sequence, or the initial state (position &lt; 0, single-sequence
     * row), or 0. Ascending k makes it safe when finalState and initialState are the same buffer.
     */
    static void writeFinalState(float[] finalState, int finalStateOff, float[] x, int xOff, int xStride,
                                float[] initialState, int initialStateOff, int[] cuSeqlens, int bi, int l, int d,
                                int w, int c0, int c1) {
        int last = Segments.lastStart(cuSeqlens, bi, l);
        for (int k = 0; k < w - 1; k++) {
            int p = l - (w - 1) + k;
            int dst = finalStateOff + (bi * (w - 1) + k) * d + c0;
            if (p >= last) {
                System.arraycopy(x, xOff + (bi * l + p) * xStride + c0, finalState, dst, c1 - c0);
            } else if (p < 0 && last == 0 && initialState != null) {
                System.arraycopy(initialState, initialStateOff + (bi * (w - 1) + (w - 1 + p)) * d + c0, finalState,
                        dst, c1 - c0);
            } else {
                java.util.Arrays.fill(finalState, dst, dst + (c1 - c0), 0f);
            }
        }
    }
}
