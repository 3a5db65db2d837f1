package dev.ssm4j.kernels.conv;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the causal conv1d forward and step: the lanes of a vector hold LANES neighbouring
 * channels of one token (channels are independent in a depthwise conv, and contiguous in the
 * token-major layout). Layouts and glossary: {@link CausalConv1d}; backward: {@link CausalConv1dSimdBackward}.
 *
 * <p>Loop order: token outer, channel inner. For each token the w input rows it reads are the
 * rows just read for the previous tokens, so they come from L1/L2 and memory sees one sequential
 * read of x and one sequential write of y — the conv is memory-bound (2w flops per 8 bytes moved).
 * (Channel-outer, token-inner would keep the w taps in registers but walks memory with a stride of
 * a whole token row, which defeats the hardware prefetchers once the stride exceeds a page.)
 *
 * <p>The weights are transposed once per call into a tap-major (w, d) scratch so that tap j of
 * LANES channels is one contiguous vector load.
 *
 * <p>Threads split the <em>tokens</em> of the flattened (b·l) axis when there are enough of them
 * (at least 16 per task): every task walks whole rows of its own stretch of x and y, re-reading
 * only the w − 1 rows before it, and the final state is written after all tasks (it may overwrite
 * the initial state in place). Out of cache (l = 32768, d = 1536) two threads split this way took
 * 12.9 ms where two threads splitting the channels took 19–21 ms and one thread 24 ms: with the
 * channels split, each thread walks half-rows (3 KB bursts that the prefetchers pick up late), and
 * the two hardware threads of one core overlap one's SiLU arithmetic with the other's memory
 * stream only when both stream whole rows. Short inputs split the channels (whole vectors), each
 * task owning its columns of the final state. Either way every output is computed by the same
 * operations, so the bits do not depend on the split.
 */
public final class CausalConv1dSimd {
    private CausalConv1dSimd() {}

    private static final int L = F.length();
    /** Aim for at least this many output elements per parallel task. */
    private static final int GRAIN_ELEMENTS = 1 << 15;

    /** Forward; arguments as {@link CausalConv1d#forward(float[], int, int, float[], int, float[], int, int, float[], int, int[], float[], float[], boolean, int, int, int, int, ForkJoinPool)}. */
    public static void forward(float[] y, int yOff, int yStride, float[] finalState, int finalStateOff,
                               float[] x, int xOff, int xStride, float[] initialState, int initialStateOff,
                               int[] cuSeqlens, float[] weight, float[] bias, boolean silu,
                               int b, int l, int d, int w, ForkJoinPool pool) {
        CausalConv1d.checkForward(y, yOff, yStride, finalState, finalStateOff, x, xOff, xStride, initialState,
                initialStateOff, cuSeqlens, weight, bias, b, l, d, w);
        float[] wT = tapMajor(weight, d, w);                                   // (w, d)
        int tokens = b * l, threads = Parallel.threads(pool);
        if (threads > 1 && tokens >= 2 * TOKEN_GRAIN && (long) tokens * d >= 2L * GRAIN_ELEMENTS) {
            // Threads split the tokens: each task walks whole rows of x and y (see the class comment).
            Parallel.forRange(pool, tokens, Math.max(TOKEN_GRAIN, GRAIN_ELEMENTS / Math.max(1, d)), (g0, g1) ->
                    forwardRange(y, yOff, yStride, x, xOff, xStride, initialState, initialStateOff, cuSeqlens, wT, bias,
                            silu, b, l, d, w, g0, g1, 0, d));
            if (finalState != null) { // after every task: the final state may overwrite the initial state in place
                for (int bi = 0; bi < b; bi++) {
                    CausalConv1d.writeFinalState(finalState, finalStateOff, x, xOff, xStride, initialState,
                            initialStateOff, cuSeqlens, bi, l, d, w, 0, d);
                }
            }
            return;
        }
        int blocks = (d + L - 1) / L;
        int grain = Math.max(1, GRAIN_ELEMENTS / Math.max(1, tokens * L));
        Parallel.forRange(pool, blocks, grain, (s, e) -> {
            int c0 = s * L, c1 = Math.min(e * L, d);
            forwardRange(y, yOff, yStride, x, xOff, xStride, initialState, initialStateOff, cuSeqlens, wT, bias,
                    silu, b, l, d, w, 0, tokens, c0, c1);
            if (finalState != null) {
                for (int bi = 0; bi < b; bi++) {
                    CausalConv1d.writeFinalState(finalState, finalStateOff, x, xOff, xStride, initialState,
                            initialStateOff, cuSeqlens, bi, l, d, w, c0, c1);
                }
            }
        });
    }

    /** Fewest tokens per task when threads split the tokens (each task re-reads w − 1 rows before its first). */
    private static final int TOKEN_GRAIN = 16;

    /** weight (d, w) → (w, d): tap j of channel c at j·d + c. */
    static float[] tapMajor(float[] weight, int d, int w) {
        float[] wT = new float[w * d];
        for (int c = 0; c < d; c++) {
            for (int j = 0; j < w; j++) wT[j * d + c] = weight[c * w + j];
        }
        return wT;
    }

    /** Tokens per block of the interior loop: (T + w − 1) rows of a channel block stay in L1/L2. */
    static final int T_BLOCK = 8;

    /**
     * Tokens [r0, r1) of the flattened (b·l) token axis, channels [c0, c1). Each sequence splits into
     * its first w−1 tokens ("edge": some taps read the initial state or nothing, handled through a
     * per-token tap table by {@link #token}) and the rest ("interior": all w taps are rows of x,
     * handled by {@link #span4} or {@link #interior}). A range may start or end anywhere, inside an
     * edge too: a token's taps depend only on its position and its sequence's start, and an interior
     * token reads the rows before it from x whichever task owns them.
     */
    static void forwardRange(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride,
                             float[] init, int initOff, int[] cu, float[] wT, float[] bias, boolean silu,
                             int b, int l, int d, int w, int r0, int r1, int c0, int c1) {
        if (r0 >= r1) return;
        // Tap table of one edge token: source array, offset of its row, tap offset j·d in wT.
        float[][] src = new float[w][];
        int[] srcOff = new int[w];
        int[] tapW = new int[w];
        float[] stage = w == 4 && silu ? new float[T_BLOCK * L] : null; // span4's (T_BLOCK, L) SiLU staging
        for (int bi = r0 / l; bi < b && bi * l < r1; bi++) {
            int tEnd = Math.min(l, r1 - bi * l);
            for (int t = Math.max(0, r0 - bi * l); t < tEnd; ) {
                int seg = Segments.start(cu, bi, l, t), segEnd = Math.min(tEnd, Segments.end(cu, bi, l, t));
                int edgeEnd = Math.min(segEnd, seg + w - 1);
                for (; t < edgeEnd; t++) {
                    int nt = 0;
                    for (int j = 0; j < w; j++) {
                        int p = t - (w - 1) + j;
                        if (p >= seg) {
                            src[nt] = x;
                            srcOff[nt] = xOff + (bi * l + p) * xStride;
                        } else if (p < 0 && seg == 0 && init != null) {
                            src[nt] = init;
                            srcOff[nt] = initOff + (bi * (w - 1) + (w - 1 + p)) * d;
                        } else {
                            continue;
                        }
                        tapW[nt++] = j * d;
                    }
                    token(y, yOff + (bi * l + t) * yStride, src, srcOff, tapW, nt, wT, bias, silu, c0, c1);
                }
                if (w == 4 && t < segEnd) {                     // all interior tokens of the sequence in one call
                    span4(y, yOff, yStride, x, xOff, xStride, wT, bias, stage, d, bi * l + t, bi * l + segEnd, c0, c1);
                    t = segEnd;
                }
                for (; t < segEnd; t = Math.min(segEnd, t + T_BLOCK)) {
                    int g0 = bi * l + t, g1 = bi * l + Math.min(segEnd, t + T_BLOCK);
                    interior(y, yOff, yStride, x, xOff, xStride, wT, bias, d, w, g0, g1, c0, c1);
                    if (silu) siluRows(y, yOff + g0 * yStride, yStride, g1 - g0, c0, c1);
                }
            }
        }
    }

    /**
     * Interior tokens [g0, g1) (flattened row indices, every tap inside x) of channels [c0, c1):
     * pre-activations only, the SiLU is a second pass over the block ({@link #siluRows}).
     * Channel vector outer, token inner: the w weight vectors and the bias stay in registers, and the
     * w inputs of a token are a register ring, so each x element is loaded once (plus w−1 reloads per
     * block). The block is short (T_BLOCK tokens), so the T + w − 1 rows it walks stay in cache and
     * memory still sees x and y row by row. Width 4 has its own loop, {@link #span4}.
     */
    private static void interior(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride, float[] wT,
                                 float[] bias, int d, int w, int g0, int g1, int c0, int c1) {
        int c = c0, cFull = c0 + (c1 - c0) / L * L;
        if (w == 4) {
            for (; c < cFull; c += L) ring4(y, yOff + g0 * yStride + c, yStride, x, xOff + (g0 - 3) * xStride + c, xStride, wT, bias, d, c, g1 - g0);
        } else {
            for (; c < cFull; c += L) ringAny(y, yOff + g0 * yStride + c, yStride, x, xOff + (g0 - w + 1) * xStride + c, xStride, wT, bias, d, w, c, g1 - g0);
        }
        if (c < c1) ringTail(y, yOff + g0 * yStride + c, yStride, x, xOff + (g0 - w + 1) * xStride + c, xStride, wT, bias, d, w, c, c1, g1 - g0);
    }

    /**
     * w = 4: the interior tokens [g0, g1) of one sequence, block by block of T_BLOCK = 8 tokens (channel
     * vector outer, token inner, as {@link #interior}). With the SiLU (stage non-null: T_BLOCK·L floats
     * from the caller), a whole block's 8 outputs of one channel vector go to the stage (L1) and
     * {@link #siluStage} writes their SiLU to y, so y is written once and the SiLU of one channel
     * vector overlaps the loads of the next; without it they go straight to y. The loop over blocks is in the same method as the hot channel loop, not
     * in {@link #forwardRange}: that one is entered once per call and runs interpreted until C2
     * replaces it on the stack (in a benchmark of a few hundred calls it never was), and so would a
     * method holding only the block loop; this one is compiled, outer loop included, during its
     * first call.
     */
    private static void span4(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride, float[] wT,
                              float[] bias, float[] stage, int d, int g0, int g1, int c0, int c1) {
        int cFull = c0 + (c1 - c0) / L * L;
        boolean silu = stage != null;                                    // stage: (T_BLOCK, L), one block of one channel vector
        for (int g = g0; g < g1; g += T_BLOCK) {
            int n = Math.min(T_BLOCK, g1 - g);
            if (n == T_BLOCK) {
                // The ring of ring4 unrolled over the 8 tokens inside the channel loop: a call of ring4 per
                // (block, vector) with an 8-trip loop spent more on the call, the loop's pre/post code and
                // its setup than on the 32 FMAs (measured: 1.6 → 0.8 ns per 16 outputs with the data in L1).
                // The 8 outputs go to dst[di + i·ds]: y's rows, or the stage when the SiLU follows.
                int yp = yOff + g * yStride, xp = xOff + (g - 3) * xStride;
                float[] dst = silu ? stage : y;
                int ds = silu ? L : yStride;
                for (int c = c0; c < cFull; c += L) {
                    FloatVector w0 = FloatVector.fromArray(F, wT, c), w1 = FloatVector.fromArray(F, wT, d + c);
                    FloatVector w2 = FloatVector.fromArray(F, wT, 2 * d + c), w3 = FloatVector.fromArray(F, wT, 3 * d + c);
                    FloatVector bv = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
                    int xi = xp + c, di = silu ? 0 : yp + c;
                    FloatVector a0 = FloatVector.fromArray(F, x, xi), a1 = FloatVector.fromArray(F, x, xi + xStride);
                    FloatVector a2 = FloatVector.fromArray(F, x, xi + 2 * xStride);
                    // Same order of operations as token(): bias, then taps 0..3 (see ring4).
                    FloatVector a3 = FloatVector.fromArray(F, x, xi + 3 * xStride);
                    a3.fma(w3, a2.fma(w2, a1.fma(w1, a0.fma(w0, bv)))).intoArray(dst, di);
                    FloatVector a4 = FloatVector.fromArray(F, x, xi + 4 * xStride);
                    a4.fma(w3, a3.fma(w2, a2.fma(w1, a1.fma(w0, bv)))).intoArray(dst, di + ds);
                    FloatVector a5 = FloatVector.fromArray(F, x, xi + 5 * xStride);
                    a5.fma(w3, a4.fma(w2, a3.fma(w1, a2.fma(w0, bv)))).intoArray(dst, di + 2 * ds);
                    FloatVector a6 = FloatVector.fromArray(F, x, xi + 6 * xStride);
                    a6.fma(w3, a5.fma(w2, a4.fma(w1, a3.fma(w0, bv)))).intoArray(dst, di + 3 * ds);
                    FloatVector a7 = FloatVector.fromArray(F, x, xi + 7 * xStride);
                    a7.fma(w3, a6.fma(w2, a5.fma(w1, a4.fma(w0, bv)))).intoArray(dst, di + 4 * ds);
                    FloatVector a8 = FloatVector.fromArray(F, x, xi + 8 * xStride);
                    a8.fma(w3, a7.fma(w2, a6.fma(w1, a5.fma(w0, bv)))).intoArray(dst, di + 5 * ds);
                    FloatVector a9 = FloatVector.fromArray(F, x, xi + 9 * xStride);
                    a9.fma(w3, a8.fma(w2, a7.fma(w1, a6.fma(w0, bv)))).intoArray(dst, di + 6 * ds);
                    FloatVector a10 = FloatVector.fromArray(F, x, xi + 10 * xStride);
                    a10.fma(w3, a9.fma(w2, a8.fma(w1, a7.fma(w0, bv)))).intoArray(dst, di + 7 * ds);
                    if (silu) siluStage(stage, y, yp + c, yStride);
                }
                if (cFull < c1) {
                    ringTail(y, yp + cFull, yStride, x, xp + cFull, xStride, wT, bias, d, 4, cFull, c1, n);
                    if (silu) siluRows(y, yp, yStride, n, cFull, c1);
                }
            } else {
                for (int c = c0; c < cFull; c += L) {
                    ring4(y, yOff + g * yStride + c, yStride, x, xOff + (g - 3) * xStride + c, xStride, wT, bias, d, c, n);
                }
                if (cFull < c1) {
                    ringTail(y, yOff + g * yStride + cFull, yStride, x, xOff + (g - 3) * xStride + cFull, xStride, wT, bias,
                            d, 4, cFull, c1, n);
                }
                if (silu) siluRows(y, yOff + g * yStride, yStride, n, c0, c1);
            }
        }
    }

    /**
     * y[yp + i·yStride + k] = silu(stage[i·L + k]) for the T_BLOCK staged outputs of one channel vector.
     * A method of its own, taking no vector: inlined into {@link #span4}'s channel loop next to the
     * unrolled ring, the SiLU made C2 give up inlining and box the vectors (3–4× slower, measured);
     * as a call per channel vector it is one compiled loop, and y is still written only once.
     */
    private static void siluStage(float[] stage, float[] y, int yp, int yStride) {
        for (int i = 0; i < T_BLOCK; i++, yp += yStride) VectorMath.silu(FloatVector.fromArray(F, stage, i * L)).intoArray(y, yp);
    }

    /**
     * y = silu(y) in place on n rows of channels [c0, c1) (row starts yp + i·yStride), the block just
     * written by {@link #interior} or by a partial block or the partial last vector of {@link #span4},
     * still in L1/L2. A pass of its own instead of a SiLU inside the unrolled tokens: one call site of
     * the exp-based function (8 inlined copies would exhaust C2's inlining budget, JIT note 2 of
     * docs/elementwise-kernels.md), and the FMA ring stays short. Same bits
     * as the fused SiLU of the edge tokens (silu of the same float). Loads and stores are masked only for
     * the partial last vector of a row (masked loads of every vector are slow).
     */
    private static void siluRows(float[] y, int yp, int yStride, int n, int c0, int c1) {
        for (int i = 0; i < n; i++, yp += yStride) {
            for (int c = c0; c < c1; c += L) {
                boolean full = c + L <= c1;
                VectorMask<Float> m = F.indexInRange(c, c1);
                FloatVector v = VectorMath.silu(full ? FloatVector.fromArray(F, y, yp + c) : FloatVector.fromArray(F, y, yp + c, m));
                if (full) v.intoArray(y, yp + c);
                else v.intoArray(y, yp + c, m);
            }
        }
    }

    /** w = 4 (every released checkpoint): n tokens of one channel vector; xp = first tap row of the first token. */
    private static void ring4(float[] y, int yp, int yStride, float[] x, int xp, int xStride, float[] wT, float[] bias,
                              int d, int c, int n) {
        FloatVector w0 = FloatVector.fromArray(F, wT, c), w1 = FloatVector.fromArray(F, wT, d + c);
        FloatVector w2 = FloatVector.fromArray(F, wT, 2 * d + c), w3 = FloatVector.fromArray(F, wT, 3 * d + c);
        FloatVector bv = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
        FloatVector x0 = FloatVector.fromArray(F, x, xp), x1 = FloatVector.fromArray(F, x, xp + xStride);
        FloatVector x2 = FloatVector.fromArray(F, x, xp + 2 * xStride);
        xp += 3 * xStride;
        for (int i = 0; i < n; i++, xp += xStride, yp += yStride) {
            FloatVector x3 = FloatVector.fromArray(F, x, xp);
            // Same order of operations as token() (bias, then taps 0..3), so that a sequence gives the same
            // bits whether a token is an edge or an interior one (chunked == whole, tested). The chain is
            // 4 FMAs long, but tokens are independent, so out-of-order execution overlaps them.
            x3.fma(w3, x2.fma(w2, x1.fma(w1, x0.fma(w0, bv)))).intoArray(y, yp);
            x0 = x1;
            x1 = x2;
            x2 = x3;
        }
    }

    /** Any width: n tokens of one channel vector; the w taps are reloaded per token (they are in L1). */
    private static void ringAny(float[] y, int yp, int yStride, float[] x, int xp, int xStride, float[] wT,
                                float[] bias, int d, int w, int c, int n) {
        FloatVector bv = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
        for (int i = 0; i < n; i++, xp += xStride, yp += yStride) {
            FloatVector acc = bv;
            for (int j = 0; j < w; j++) {
                acc = FloatVector.fromArray(F, x, xp + j * xStride).fma(FloatVector.fromArray(F, wT, j * d + c), acc);
            }
            acc.intoArray(y, yp);
        }
    }

    /** The last, partial channel vector [c, c1) of n interior tokens, masked. */
    private static void ringTail(float[] y, int yp, int yStride, float[] x, int xp, int xStride, float[] wT,
                                 float[] bias, int d, int w, int c, int c1, int n) {
        VectorMask<Float> m = F.indexInRange(c, c1);
        FloatVector bv = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c, m);
        for (int i = 0; i < n; i++, xp += xStride, yp += yStride) {
            FloatVector acc = bv;
            for (int j = 0; j < w; j++) {
                acc = FloatVector.fromArray(F, x, xp + j * xStride, m).fma(FloatVector.fromArray(F, wT, j * d + c, m), acc);
            }
            acc.intoArray(y, yp, m);
        }
    }

    /**
     * Channels [c0, c1) of one token from its tap table. A method of its own so that the JIT compiles
     * it after a few thousand tokens, instead of waiting for an on-stack replacement of the whole
     * loop nest (the Vector API is very slow until compiled).
     */
    private static void token(float[] y, int yRow, float[][] src, int[] srcOff, int[] tapW, int nt, float[] wT,
                              float[] bias, boolean silu, int c0, int c1) {
        int c = c0;
        for (; c <= c1 - L; c += L) {
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
            for (int k = 0; k < nt; k++) {
                FloatVector xv = FloatVector.fromArray(F, src[k], srcOff[k] + c);
                acc = xv.fma(FloatVector.fromArray(F, wT, tapW[k] + c), acc);
            }
            if (silu) acc = VectorMath.silu(acc);
            acc.intoArray(y, yRow + c);
        }
        if (c < c1) {                                                       // last partial vector, masked
            VectorMask<Float> m = F.indexInRange(c, c1);
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c, m);
            for (int k = 0; k < nt; k++) {
                FloatVector xv = FloatVector.fromArray(F, src[k], srcOff[k] + c, m);
                acc = xv.fma(FloatVector.fromArray(F, wT, tapW[k] + c, m), acc);
            }
            if (silu) acc = VectorMath.silu(acc);
            acc.intoArray(y, yRow + c, m);
        }
    }

    /** Gather index maps: lane i reads weight[(c + i)·w + j], i.e. offset i·w from weight[c·w + j]. */
    private static final int[][] GATHER = new int[CausalConv1d.MAX_WIDTH + 1][];

    static {
        for (int w = 2; w <= CausalConv1d.MAX_WIDTH; w++) {
            GATHER[w] = new int[L];
            for (int i = 0; i < L; i++) GATHER[w][i] = i * w;
        }
    }

    /*
     * Index tables of row4's transpose (L lanes, H = L/2): the weights of L channels, (L, 4) row-major,
     * are 4 vectors; channels [0, H) are in the first two. TAPS01[k] picks tap 0 (lanes < H) and tap 1
     * (lanes ≥ H) of channel k mod H out of a pair of vectors, TAPS23 taps 2 and 3; LOW and HIGH then
     * join the halves of two such results (channels [0, H) and [H, L)).
     */
    private static final float[] TAPS01 = new float[L], TAPS23 = new float[L], LOW = new float[L], HIGH = new float[L];

    static {
        int h = L / 2;
        for (int k = 0; k < L; k++) {
            TAPS01[k] = k < h ? 4 * k : 4 * (k - h) + 1;
            TAPS23[k] = TAPS01[k] + 2;
            LOW[k] = k < h ? k : L + k - h;
            HIGH[k] = k < h ? h + k : L + k;
        }
    }

    /**
     * One step of w = 4 for the whole vectors of one row, channels [0, d − d mod L): the 4 weight taps
     * of L channels are 4 contiguous vectors of the (d, 4) weights, transposed to one vector per tap by
     * 8 two-vector permutes ({@code selectFrom(v1, v2)}, vpermt2ps on AVX-512) instead of 4 gathers of
     * L lanes each; the gathers were the step's main cost. Same FMA order as the general loop, so the
     * same bits. The channel loop is in here, not around a call per vector: C2 then keeps the four
     * index vectors in registers and the call and its setup are paid once per row (a call per vector
     * measured 1.66 against 0.72–0.81 µs per step at d = 1536). The permutes themselves are cheap:
     * the same loop over weights kept tap-major (w, d), four plain loads per vector and no permute,
     * measured 0.81–0.89 µs, slower (four weight streams instead of one).
     */
    private static void row4(float[] y, int yp, float[] state, int sp, float[] x, int xp, float[] weight,
                             float[] bias, boolean silu, int d) {
        FloatVector i01 = FloatVector.fromArray(F, TAPS01, 0), i23 = FloatVector.fromArray(F, TAPS23, 0);
        FloatVector lo = FloatVector.fromArray(F, LOW, 0), hi = FloatVector.fromArray(F, HIGH, 0);
        for (int c = 0; c <= d - L; c += L) {
            int wp = 4 * c;
            FloatVector v0 = FloatVector.fromArray(F, weight, wp), v1 = FloatVector.fromArray(F, weight, wp + L);
            FloatVector v2 = FloatVector.fromArray(F, weight, wp + 2 * L), v3 = FloatVector.fromArray(F, weight, wp + 3 * L);
            FloatVector a01 = i01.selectFrom(v0, v1), a23 = i23.selectFrom(v0, v1);   // channels [0, L/2)
            FloatVector b01 = i01.selectFrom(v2, v3), b23 = i23.selectFrom(v2, v3);   // channels [L/2, L)
            FloatVector t0 = lo.selectFrom(a01, b01), t1 = hi.selectFrom(a01, b01);
            FloatVector t2 = lo.selectFrom(a23, b23), t3 = hi.selectFrom(a23, b23);
            FloatVector xv = FloatVector.fromArray(F, x, xp + c);
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
            int s = sp + c;
            FloatVector s0 = FloatVector.fromArray(F, state, s), s1 = FloatVector.fromArray(F, state, s + d);
            FloatVector s2 = FloatVector.fromArray(F, state, s + 2 * d);
            acc = s0.fma(t0, acc);
            acc = s1.fma(t1, acc);
            acc = s2.fma(t2, acc);
            acc = xv.fma(t3, acc);
            s1.intoArray(state, s);                                         // roll: slot k ← slot k + 1
            s2.intoArray(state, s + d);
            xv.intoArray(state, s + 2 * d);
            if (silu) acc = VectorMath.silu(acc);
            acc.intoArray(y, yp + c);
        }
    }

    /**
     * One decoding step; arguments as {@link CausalConv1d#step}. Each state element is loaded
     * once, used, and stored one slot lower (the roll is fused into the dot product). The weight
     * taps of LANES channels are strided by w in the (d, w) layout, so they are gathered — this
     * avoids transposing w·d weights for every token, which would cost as much as the step itself.
     */
    public static void step(float[] y, int yOff, int yStride, float[] state, int stateOff, float[] x, int xOff,
                            int xStride, float[] weight, float[] bias, boolean silu, int b, int d, int w) {
        CausalConv1d.checkStep(y, yOff, yStride, state, stateOff, x, xOff, xStride, weight, bias, b, d, w);
        int[] idx = GATHER[w];
        for (int bi = 0; bi < b; bi++) {
            int s0 = stateOff + bi * (w - 1) * d, xRow = xOff + bi * xStride, yRow = yOff + bi * yStride;
            int c = 0;
            if (w == 4) {
                row4(y, yRow, state, s0, x, xRow, weight, bias, silu, d);
                c = d - d % L;
            }
            for (; c <= d - L; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xRow + c);
                FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, c);
                for (int k = 0; k < w - 1; k++) {
                    FloatVector sk = FloatVector.fromArray(F, state, s0 + k * d + c);
                    acc = sk.fma(FloatVector.fromArray(F, weight, c * w + k, idx, 0), acc);
                    if (k > 0) sk.intoArray(state, s0 + (k - 1) * d + c);
                }
                acc = xv.fma(FloatVector.fromArray(F, weight, c * w + w - 1, idx, 0), acc);
                xv.intoArray(state, s0 + (w - 2) * d + c);
                if (silu) acc = VectorMath.silu(acc);
                acc.intoArray(y, yRow + c);
            }
            for (; c < d; c++) {                      // tail channels one by one: a masked gather
                float xc = x[xRow + c];               // still range-checks its inactive lanes
                float pre = bias == null ? 0f : bias[c];
                for (int k = 0; k < w - 1; k++) {
                    float sk = state[s0 + k * d + c];
                    pre += weight[c * w + k] * sk;
                    if (k > 0) state[s0 + (k - 1) * d + c] = sk;
                }
                pre += weight[c * w + w - 1] * xc;
                state[s0 + (w - 2) * d + c] = xc;
                y[yRow + c] = silu ? VectorMath.silu(pre) : pre;
            }
        }
    }
}
