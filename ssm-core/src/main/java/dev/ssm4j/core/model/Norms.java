package dev.ssm4j.core.model;

import dev.ssm4j.kernels.VectorMath;

/**
 * RMSNorm and Mamba-2's gated RMSNorm on token-major rows (TEMPORARY scalar adapter until the
 * elem branch's norm kernels are merged).
 */
final class Norms {
    private Norms() {}

    /** out (T, H) = x / sqrt(mean(x²) + eps) · w; rstd (T) = the 1/rms of each token. */
    static void rmsNorm(float[] out, float[] rstd, float[] x, Vec w, float eps, int T, int H) {
        float[] wa = w.a();
        int wo = w.off();
        for (int t = 0; t < T; t++) {
            int o = t * H;
            float ss = 0;
            for (int k = 0; k < H; k++) ss += x[o + k] * x[o + k];
            float r = (float) (1.0 / Math.sqrt(ss / H + eps));
            rstd[t] = r;
            for (int k = 0; k < H; k++) out[o + k] = wa[wo + k] * (x[o + k] * r);
        }
    }

    /**
     * out (T, d) = RMSNorm_group(y·SiLU(z))·w with groups of {@code group} channels;
     * rstd (T, d/group). y at (yOff, yStride), z at (zOff, zStride).
     */
    static void gatedRmsNorm(float[] out, float[] rstd, float[] y, int yOff, int yStride, float[] z, int zOff,
                             int zStride, Vec w, int group, float eps, int T, int d) {
        float[] wa = w.a();
        int wo = w.off(), ng = d / group;
        for (int t = 0; t < T; t++) {
            int oy = yOff + t * yStride, oz = zOff + t * zStride, oo = t * d;
            for (int k = 0; k < d; k++) out[oo + k] = y[oy + k] * VectorMath.silu(z[oz + k]);
            for (int gi = 0; gi < ng; gi++) {
                int s0 = oo + gi * group;
                float ss = 0;
                for (int k = 0; k < group; k++) ss += out[s0 + k] * out[s0 + k];
                float r = (float) (1.0 / Math.sqrt(ss / group + eps));
                rstd[t * ng + gi] = r;
                for (int k = 0; k < group; k++) out[s0 + k] = wa[wo + gi * group + k] * (out[s0 + k] * r);
            }
        }
    }
}
