package dev.ssm4j.kernels.norm;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;

/**
 * Mamba-2's gated RMSNorm (Dao &amp; Gu 2024, §7: Mamba-2 adds a normalization layer after the
 * gating, before the output projection; mamba_ssm {@code RMSNormGated(norm_before_gate=False)}, HF
 * {@code MambaRMSNormGated}): the SSD output x is gated by silu(z), then normalised over groups
 * of {@code groupSize} channels:
 * <pre>
 *   u_i = x_i · silu(z_i)                                   (u = x when z is null)
 *   r_g = 1 / sqrt(mean_{i∈g}(u_i²) + ε)                     one r per (row, group)
 *   y_i = u_i · r_g · weight_i
 * </pre>
 * groupSize = d is transformers' whole-width norm; groupSize = d / ngroups is mamba_ssm's per-group
 * norm (the SSD's ngroups B/C groups).
 *
 * <p>Backward, within group g (G = groupSize, h = u·r, s_g = Σ_{k∈g} dy_k·weight_k·u_k):
 * <pre>
 *   du_i       = r_g·dy_i·weight_i − r_g³·u_i·s_g / G
 *   dx_i      += du_i · silu(z_i)
 *   dz_i      += du_i · x_i · σ(z_i)·(1 + z_i·(1 − σ(z_i)))
 *   dweight_i += Σ_rows dy_i · u_i · r_g
 * </pre>
 *
 * <p>Layouts: x, z, y and their gradients are (rows, d) at an offset with a row stride (z is
 * typically the z column slice of in_proj's output); weight (d); rstd (rows, d/groupSize)
 * contiguous, r of (row, group) at {@code row·(d/groupSize) + group}. y may be x or z itself (in
 * place). The backward ACCUMULATES into dx, dz, dweight (each may be null); rstd null there means
 * "recompute with eps".
 */
public final class GatedRmsNorm {
    private GatedRmsNorm() {}

    /** Forward; z may be null (no gate), rstd may be null (not saved). */
    public static void forward(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride,
                               float[] z, int zOff, int zStride, float[] weight, int rows, int d, int groupSize,
                               float eps, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            RmsNormScalar.forward(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, rows, d,
                    groupSize, eps);
        } else {
            RmsNormSimd.forward(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, rows, d,
                    groupSize, eps, pool);
        }
    }

    /** Backward; accumulates into dx, dz, dweight (each may be null). */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dz, int dzOff, int dzStride,
                                float[] dweight, float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride,
                                float[] z, int zOff, int zStride, float[] rstd, float[] weight, int rows, int d,
                                int groupSize, float eps, ForkJoinPool pool) {
        if (KernelConfig.FORCE_SCALAR) {
            RmsNormScalar.backward(dx, dxOff, dxStride, dz, dzOff, dzStride, dweight, dy, dyOff, dyStride, x, xOff,
                    xStride, z, zOff, zStride, rstd, weight, rows, d, groupSize, eps);
        } else {
            RmsNormSimdBackward.backward(dx, dxOff, dxStride, dz, dzOff, dzStride, dweight, dy, dyOff, dyStride, x,
                    xOff, xStride, z, zOff, zStride, rstd, weight, rows, d, groupSize, eps, pool);
        }
    }
}
