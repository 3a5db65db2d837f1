package dev.ssm4j.kernels.norm;

import java.util.concurrent.ForkJoinPool;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019), the normalisation of every Mamba block and of the final
 * layer: over the last dim of each row,
 * <pre>
 *   r = 1 / sqrt(mean_i(x_i²) + ε),   y_i = x_i · r · weight_i
 * </pre>
 * Backward (with s = Σ_k dy_k·weight_k·x_k over the row):
 * <pre>
 *   dx_i += r·weight_i·dy_i − r³·x_i·s / d,    dweight_i += Σ_rows dy_i·x_i·r
 * </pre>
 *
 * <p>Layouts: x, y, dx, dy are (rows, d) at an offset with a row stride (rows = b·l tokens); weight
 * (d); rstd (rows) — r of each row, saved by the forward (may be null there) and read by the
 * backward (null: recomputed). y may be x itself (in place). Backward ACCUMULATES into dx and dweight
 * (either may be null). This is {@link GatedRmsNorm} without a gate and with one group per row.
 * With a pool, rows are split over threads; dweight gets one partial sum per part, added in a
 * fixed order.
 */
public final class RmsNorm {
    private RmsNorm() {}

    /** y = RMSNorm(x)·weight; rstd (rows) saved when non-null. */
    public static void forward(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride,
                               float[] weight, int rows, int d, float eps, ForkJoinPool pool) {
        GatedRmsNorm.forward(y, yOff, yStride, rstd, x, xOff, xStride, null, 0, 0, weight, rows, d, d, eps, pool);
    }

    /** dx += ∂L/∂x, dweight += ∂L/∂weight given dy; rstd from the forward, or null to recompute with eps. */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dweight, float[] dy, int dyOff,
                                int dyStride, float[] x, int xOff, int xStride, float[] rstd, float[] weight,
                                int rows, int d, float eps, ForkJoinPool pool) {
        GatedRmsNorm.backward(dx, dxOff, dxStride, null, 0, 0, dweight, dy, dyOff, dyStride, x, xOff, xStride, null,
                0, 0, rstd, weight, rows, d, d, eps, pool);
    }
}
