package dev.ssm4j.kernels.act;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;

/**
 * Pointwise activations ({@link Activation}) forward and backward on (rows, cols) views
 * ({@code off + r·stride + c}) — e.g. the dt column slice of Mamba-2's in_proj output — or on flat
 * runs of n floats. Forward may run in place (y = x, same offset and stride). Backward
 * ACCUMULATES: dx += dy · f'(x), with x the forward input. Dispatches to {@link ActivationsSimd}
 * unless {@code -Dssm4j.kernels.scalar=true} ({@link ActivationsScalar}). With a pool, rows (or, for
 * a single row, column blocks) are split over threads.
 */
public final class Activations {
    private Activations() {}

    /** y = f(x) over (rows, cols). */
    public static void forward(Activation f, float[] y, int yOff, int yStride, float[] x, int xOff, int xStride,
                               int rows, int cols, ForkJoinPool pool) {
        ActChecks.rows("y", y, yOff, yStride, rows, cols);
        ActChecks.rows("x", x, xOff, xStride, rows, cols);
        if (serial(pool, rows, cols)) {                 // no lambda: nothing allocated per (decode) call
            forwardRows(f, y, yOff, yStride, x, xOff, xStride, 0, rows, 0, cols);
            return;
        }
        split(pool, rows, cols, (r0, r1, c0, c1) -> forwardRows(f, y, yOff, yStride, x, xOff, xStride, r0, r1, c0, c1));
    }

    private static void forwardRows(Activation f, float[] y, int yOff, int yStride, float[] x, int xOff, int xStride,
                                    int r0, int r1, int c0, int c1) {
        for (int r = r0; r < r1; r++) {
            int yo = yOff + r * yStride + c0, xo = xOff + r * xStride + c0;
            if (KernelConfig.FORCE_SCALAR) ActivationsScalar.forward(f, y, yo, x, xo, c1 - c0);
            else ActivationsSimd.forward(f, y, yo, x, xo, c1 - c0);
        }
    }

    /** y = f(x) over n contiguous floats. */
    public static void forward(Activation f, float[] y, int yOff, float[] x, int xOff, int n, ForkJoinPool pool) {
        forward(f, y, yOff, n, x, xOff, n, 1, n, pool);
    }

    /** dx += dy · f'(x) over (rows, cols). */
    public static void backward(Activation f, float[] dx, int dxOff, int dxStride, float[] dy, int dyOff, int dyStride,
                                float[] x, int xOff, int xStride, int rows, int cols, ForkJoinPool pool) {
        ActChecks.rows("dx", dx, dxOff, dxStride, rows, cols);
        ActChecks.rows("dy", dy, dyOff, dyStride, rows, cols);
        ActChecks.rows("x", x, xOff, xStride, rows, cols);
        if (serial(pool, rows, cols)) {
            backwardRows(f, dx, dxOff, dxStride, dy, dyOff, dyStride, x, xOff, xStride, 0, rows, 0, cols);
            return;
        }
        split(pool, rows, cols, (r0, r1, c0, c1) ->
                backwardRows(f, dx, dxOff, dxStride, dy, dyOff, dyStride, x, xOff, xStride, r0, r1, c0, c1));
    }

    private static void backwardRows(Activation f, float[] dx, int dxOff, int dxStride, float[] dy, int dyOff,
                                     int dyStride, float[] x, int xOff, int xStride, int r0, int r1, int c0, int c1) {
        for (int r = r0; r < r1; r++) {
            int dxo = dxOff + r * dxStride + c0, dyo = dyOff + r * dyStride + c0, xo = xOff + r * xStride + c0;
            if (KernelConfig.FORCE_SCALAR) ActivationsScalar.backward(f, dx, dxo, dy, dyo, x, xo, c1 - c0);
            else ActivationsSimd.backward(f, dx, dxo, dy, dyo, x, xo, c1 - c0);
        }
    }

    /** dx += dy · f'(x) over n contiguous floats. */
    public static void backward(Activation f, float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                ForkJoinPool pool) {
        backward(f, dx, dxOff, n, dy, dyOff, n, x, xOff, n, 1, n, pool);
    }

    /** Work on rows [r0, r1) × columns [c0, c1). */
    @FunctionalInterface
    interface Block {
        void run(int r0, int r1, int c0, int c1);
    }

    /** Aim for at least this many elements per parallel task. */
    static final int GRAIN_ELEMENTS = 1 << 15;
    /** Column blocks of a single row are multiples of this (whole vectors, whole cache lines). */
    private static final int COLUMN_ALIGN = 64;

    /**
     * True when {@link #split} would run everything on the calling thread in one piece: callers then
     * call their row loop directly instead of building a lambda, which C2 does not always manage to
     * scalar-replace (a 40–72 byte capture object per call, i.e. per token and layer in decoding).
     */
    static boolean serial(ForkJoinPool pool, int rows, int cols) {
        if (Parallel.threads(pool) == 1) return true;
        long n = (long) rows * cols;
        return n <= GRAIN_ELEMENTS;
    }

    /** Rows over the pool; a single row is cut into column blocks instead. */
    static void split(ForkJoinPool pool, int rows, int cols, Block body) {
        if (rows == 0 || cols == 0) return;
        if (rows > 1) {
            Parallel.forRange(pool, rows, Math.max(1, GRAIN_ELEMENTS / cols), (r0, r1) -> body.run(r0, r1, 0, cols));
        } else {
            int blocks = (cols + COLUMN_ALIGN - 1) / COLUMN_ALIGN;
            Parallel.forRange(pool, blocks, GRAIN_ELEMENTS / COLUMN_ALIGN,
                    (b0, b1) -> body.run(0, 1, b0 * COLUMN_ALIGN, Math.min(cols, b1 * COLUMN_ALIGN)));
        }
    }
}
