package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * The Mamba-2 SSD scan (Dao &amp; Gu 2024, "Transformers are SSMs", §6 and Listing 1): forward,
 * backward and single-token step. Glossary of the sizes in {@link SsdConfig}; the algorithms,
 * layouts and the backward derivation are in docs/ssd.md.
 *
 * <p>Per batch row and head hh (group gi = hh / (h/g)), for t = 0 … l−1:
 * <pre>
 *   Δ_t  = clamp(softplus(dt_t + dt_bias), dtMin, dtMax)      (softplus and clamp optional)
 *   H_t  = exp(Δ_t·A) · H_{t−1} + Δ_t · x_t ⊗ B_t            H: (p, n), x_t: p, B_t: n
 *   y_t  = H_t · C_t + D · x_t                                contract over n
 * </pre>
 * H_{−1} is the initial state (zero when absent); with packed sequences (cuSeqlens) H restarts from
 * zero at every inner boundary. The final state is H_{l−1}.
 *
 * <h2>Layouts</h2>
 * Token-major tensors are passed as (array, offset, token stride), so that they can be column
 * slices of a wider row: element (bi, t, j) is at {@code off + (bi·l + t)·stride + j}, where the
 * row holds x as (h, p) = h·p floats, dt as h floats, B and C as (g, n) = g·n floats. States
 * (initial, final, step) are dense (b, h, p, n) arrays, n fastest. A, D, dt_bias have length h.
 * cuSeqlens, when given, has one entry per batch row: null (one sequence) or the ascending
 * boundaries {0, c1, …, l} of the sequences packed into that row.
 *
 * <h2>Threads, workspace, implementations</h2>
 * Work is split over batch rows × heads on the caller's pool (null = calling thread). A
 * {@link SsdWorkspace} holds every scratch buffer (and the call's argument record) so that repeated
 * calls allocate nothing — on one thread; with a pool, the fork/join tasks and their closure (a few
 * hundred bytes per call); pass null to use a temporary one. One workspace must not be used by two
 * calls at the same time.
 * The entry points without an {@link Impl} pick the SIMD kernels (the chunked algorithm for
 * sequences of {@link #CHUNKED_MIN_LENGTH} tokens or more, the SIMD recurrence below), or the
 * scalar twins when {@link KernelConfig#FORCE_SCALAR}.
 *
 * <p>Backward passes accumulate (+=) into every gradient array.
 */
public final class Ssd {
    private Ssd() {}

    /** Implementations; each computes the same function. */
    public enum Impl {
        /** SIMD, choosing chunked or recurrent by length (scalar twins under FORCE_SCALAR). */
        AUTO,
        /** Plain scalar recurrence: the reference (forward, backward, step). */
        SCALAR,
        /** SIMD recurrence (forward, step). */
        RECURRENT,
        /** Readable scalar version of the chunked SSD algorithm (forward, backward). */
        CHUNKED_SCALAR,
        /** Register-tiled SIMD chunked SSD algorithm (forward, backward). */
        CHUNKED
    }

    /**
     * From this many tokens per row on, {@link Impl#AUTO} uses the chunked forward; below it the
     * SIMD recurrence (measured crossover, docs/benchmarks.md).
     */
    public static final int CHUNKED_MIN_LENGTH = 16;

    // ---- forward ------------------------------------------------------------------------------

    /** {@link #forward(Impl, float[], int, int, float[], float[], int, int, float[], int, int, float[], int, int, float[], int, int, float[], int[][], float[], float[], float[], int, int, SsdConfig, SsdWorkspace, ForkJoinPool)} with {@link Impl#AUTO}. */
    public static void forward(float[] y, int yOff, int yStride,
                               float[] finalState,
                               float[] x, int xOff, int xStride,
                               float[] dt, int dtOff, int dtStride,
                               float[] B, int bOff, int bStride,
                               float[] C, int cOff, int cStride,
                               float[] initialState, int[][] cuSeqlens,
                               float[] A, float[] D, float[] dtBias,
                               int batch, int length, SsdConfig cfg, SsdWorkspace ws, ForkJoinPool pool) {
        forward(Impl.AUTO, y, yOff, yStride, finalState, x, xOff, xStride, dt, dtOff, dtStride, B, bOff, bStride,
                C, cOff, cStride, initialState, cuSeqlens, A, D, dtBias, batch, length, cfg, ws, pool);
    }

    /**
     * y = SSD(x, dt, A, B, C) + D·x.
     *
     * @param y            out (b, l, h, p), overwritten
     * @param finalState   out (b, h, p, n) or null: the state after the last token of each row
     * @param x            (b, l, h, p)
     * @param dt           (b, l, h), raw: dt_bias, softplus and the clamp of {@code cfg} are applied here
     * @param B            (b, l, g, n)
     * @param C            (b, l, g, n)
     * @param initialState (b, h, p, n) or null (zeros)
     * @param cuSeqlens    null, or per batch row null or the boundaries {0, …, l} of packed sequences
     * @param A            (h), the decay rates (−exp(A_log))
     * @param D            (h) or null
     * @param dtBias       (h) or null
     */
    public static void forward(Impl impl, float[] y, int yOff, int yStride,
                               float[] finalState,
                               float[] x, int xOff, int xStride,
                               float[] dt, int dtOff, int dtStride,
                               float[] B, int bOff, int bStride,
                               float[] C, int cOff, int cStride,
                               float[] initialState, int[][] cuSeqlens,
                               float[] A, float[] D, float[] dtBias,
                               int batch, int length, SsdConfig cfg, SsdWorkspace ws, ForkJoinPool pool) {
        if (ws == null) ws = new SsdWorkspace();
        SsdProblem pr = SsdChecks.forward(ws.problem(), y, yOff, yStride, finalState, x, xOff, xStride, dt, dtOff,
                dtStride, B, bOff, bStride, C, cOff, cStride, initialState, cuSeqlens, A, D, dtBias, batch, length, cfg);
        if (impl == Impl.AUTO) {
            impl = KernelConfig.FORCE_SCALAR ? Impl.SCALAR : length >= CHUNKED_MIN_LENGTH ? Impl.CHUNKED : Impl.RECURRENT;
        }
        try {
            switch (impl) {
                case SCALAR -> SsdScalar.forward(pr, pool);
                case RECURRENT -> SsdRecurrent.forward(pr, ws, pool);
                case CHUNKED_SCALAR -> SsdChunkedScalar.forward(pr, pool);
                case CHUNKED -> SsdChunked.forward(pr, ws, pool);
                default -> throw new IllegalArgumentException("impl " + impl);
            }
        } finally {
            pr.clear();
        }
    }

    // ---- backward -----------------------------------------------------------------------------

    /** {@link #backward(Impl, float[], int, int, float[], int, int, float[], int, int, float[], int, int, float[], float[], float[], float[], float[], int, int, float[], float[], int, int, float[], int, int, float[], int, int, float[], int, int, float[], int[][], float[], float[], float[], int, int, SsdConfig, SsdWorkspace, ForkJoinPool)} with {@link Impl#AUTO}. */
    public static void backward(float[] dx, int dxOff, int dxStride,
                                float[] ddt, int ddtOff, int ddtStride,
                                float[] dB, int dBOff, int dBStride,
                                float[] dC, int dCOff, int dCStride,
                                float[] dA, float[] dD, float[] dDtBias, float[] dInitialState,
                                float[] dy, int dyOff, int dyStride,
                                float[] dFinalState,
                                float[] x, int xOff, int xStride,
                                float[] dt, int dtOff, int dtStride,
                                float[] B, int bOff, int bStride,
                                float[] C, int cOff, int cStride,
                                float[] initialState, int[][] cuSeqlens,
                                float[] A, float[] D, float[] dtBias,
                                int batch, int length, SsdConfig cfg, SsdWorkspace ws, ForkJoinPool pool) {
        backward(Impl.AUTO, dx, dxOff, dxStride, ddt, ddtOff, ddtStride, dB, dBOff, dBStride, dC, dCOff, dCStride,
                dA, dD, dDtBias, dInitialState, dy, dyOff, dyStride, dFinalState, x, xOff, xStride,
                dt, dtOff, dtStride, B, bOff, bStride, C, cOff, cStride, initialState, cuSeqlens, A, D, dtBias,
                batch, length, cfg, ws, pool);
    }

    /**
     * Gradients of the forward pass, accumulated (+=).
     *
     * @param dx            (b, l, h, p)
     * @param ddt           (b, l, h): gradient w.r.t. the raw dt (before bias, softplus, clamp)
     * @param dB            (b, l, g, n)
     * @param dC            (b, l, g, n)
     * @param dA            (h)
     * @param dD            (h) or null (not wanted)
     * @param dDtBias       (h) or null (not wanted)
     * @param dInitialState (b, h, p, n) or null (not wanted)
     * @param dy            (b, l, h, p), the gradient of y
     * @param dFinalState   (b, h, p, n) or null: the gradient of the final state
     *                      (the remaining arguments as in forward)
     */
    public static void backward(Impl impl,
                                float[] dx, int dxOff, int dxStride,
                                float[] ddt, int ddtOff, int ddtStride,
                                float[] dB, int dBOff, int dBStride,
                                float[] dC, int dCOff, int dCStride,
                                float[] dA, float[] dD, float[] dDtBias, float[] dInitialState,
                                float[] dy, int dyOff, int dyStride,
                                float[] dFinalState,
                                float[] x, int xOff, int xStride,
                                float[] dt, int dtOff, int dtStride,
                                float[] B, int bOff, int bStride,
                                float[] C, int cOff, int cStride,
                                float[] initialState, int[][] cuSeqlens,
                                float[] A, float[] D, float[] dtBias,
                                int batch, int length, SsdConfig cfg, SsdWorkspace ws, ForkJoinPool pool) {
        if (ws == null) ws = new SsdWorkspace();
        SsdProblem pr = SsdChecks.backward(ws.problem(), dx, dxOff, dxStride, ddt, ddtOff, ddtStride, dB, dBOff,
                dBStride, dC, dCOff, dCStride, dA, dD, dDtBias, dInitialState, dy, dyOff, dyStride, dFinalState,
                x, xOff, xStride, dt, dtOff, dtStride, B, bOff, bStride, C, cOff, cStride, initialState, cuSeqlens,
                A, D, dtBias, batch, length, cfg);
        if (impl == Impl.AUTO) impl = KernelConfig.FORCE_SCALAR ? Impl.SCALAR : Impl.CHUNKED;
        try {
            switch (impl) {
                case SCALAR -> SsdScalar.backward(pr, pool);
                case CHUNKED_SCALAR -> SsdChunkedScalar.backward(pr, pool);
                case CHUNKED -> SsdChunkedBackward.backward(pr, ws, pool);
                default -> throw new IllegalArgumentException("impl " + impl + " has no backward; use SCALAR, "
                        + "CHUNKED_SCALAR or CHUNKED");
            }
        } finally {
            pr.clear();
        }
    }

    // ---- step ---------------------------------------------------------------------------------

    /** {@link #step(Impl, float[], int, int, float[], float[], int, int, float[], int, int, float[], int, int, float[], int, int, float[], float[], float[], int, SsdConfig, ForkJoinPool)} with {@link Impl#AUTO}. */
    public static void step(float[] y, int yOff, int yStride,
                            float[] state,
                            float[] x, int xOff, int xStride,
                            float[] dt, int dtOff, int dtStride,
                            float[] B, int bOff, int bStride,
                            float[] C, int cOff, int cStride,
                            float[] A, float[] D, float[] dtBias,
                            int batch, SsdConfig cfg, ForkJoinPool pool) {
        step(Impl.AUTO, y, yOff, yStride, state, x, xOff, xStride, dt, dtOff, dtStride, B, bOff, bStride,
                C, cOff, cStride, A, D, dtBias, batch, cfg, pool);
    }

    /**
     * One token for each of {@code batch} rows (decoding): the states are advanced in place.
     *
     * @param y     out (b, h, p), row bi at {@code yOff + bi·yStride}
     * @param state (b, h, p, n), updated in place
     * @param x     (b, h, p); dt (b, h) raw; B, C (b, g, n) — each (array, offset, row stride)
     */
    public static void step(Impl impl, float[] y, int yOff, int yStride,
                            float[] state,
                            float[] x, int xOff, int xStride,
                            float[] dt, int dtOff, int dtStride,
                            float[] B, int bOff, int bStride,
                            float[] C, int cOff, int cStride,
                            float[] A, float[] D, float[] dtBias,
                            int batch, SsdConfig cfg, ForkJoinPool pool) {
        if (impl == Impl.AUTO) impl = KernelConfig.FORCE_SCALAR ? Impl.SCALAR : Impl.RECURRENT;
        switch (impl) {
            case SCALAR -> SsdScalar.step(SsdChecks.step(y, yOff, yStride, state, x, xOff, xStride, dt, dtOff, dtStride,
                    B, bOff, bStride, C, cOff, cStride, A, D, dtBias, batch, cfg), pool);
            case RECURRENT -> {
                // no problem object: a decoding step on one task allocates nothing
                SsdChecks.stepArgs(y, yOff, yStride, state, x, xOff, xStride, dt, dtOff, dtStride,
                        B, bOff, bStride, C, cOff, cStride, A, D, dtBias, batch, cfg);
                SsdRecurrent.step(y, yOff, yStride, state, x, xOff, xStride, dt, dtOff, dtStride, B, bOff, bStride,
                        C, cOff, cStride, A, D, dtBias, batch, cfg, pool);
            }
            default -> throw new IllegalArgumentException("impl " + impl + " has no step; use SCALAR or RECURRENT");
        }
    }
}
