package dev.ssm4j.kernels.norm;

import dev.ssm4j.kernels.VectorMath;

/**
 * Scalar twin of the (gated, grouped) RMSNorm: one row, one group, one channel at a time.
 * Single-threaded. Math and layouts: {@link GatedRmsNorm}; plain RMSNorm is z = null, groupSize = d.
 */
public final class RmsNormScalar {
    private RmsNormScalar() {}

    /** Forward; arguments as {@link GatedRmsNorm#forward}. */
    public static void forward(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride,
                               float[] z, int zOff, int zStride, float[] weight, int rows, int d, int groupSize,
                               float eps) {
        NormChecks.forward(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, rows, d, groupSize);
        int groups = d / groupSize;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int c0 = g * groupSize;
                float ss = 0f;                                    // Σ u², then r = 1/sqrt(ss/G + ε)
                for (int c = c0; c < c0 + groupSize; c++) {
                    float u = gated(x, xOff + r * xStride + c, z, zOff + r * zStride + c);
                    ss += u * u;
                }
                float rs = (float) (1.0 / Math.sqrt(ss / groupSize + eps));
                if (rstd != null) rstd[r * groups + g] = rs;
                for (int c = c0; c < c0 + groupSize; c++) {
                    float u = gated(x, xOff + r * xStride + c, z, zOff + r * zStride + c);
                    y[yOff + r * yStride + c] = u * rs * weight[c];
                }
            }
        }
    }

    /** u = x · silu(z), or x without a gate. */
    private static float gated(float[] x, int xi, float[] z, int zi) {
        return z == null ? x[xi] : x[xi] * VectorMath.silu(z[zi]);
    }

    /** Backward; arguments as {@link GatedRmsNorm#backward}. */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dz, int dzOff, int dzStride,
                                float[] dweight, float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride,
                                float[] z, int zOff, int zStride, float[] rstd, float[] weight, int rows, int d,
                                int groupSize, float eps) {
        NormChecks.backward(dx, dxOff, dxStride, dz, dzOff, dzStride, dweight, dy, dyOff, dyStride, x, xOff, xStride,
                z, zOff, zStride, rstd, weight, rows, d, groupSize);
        int groups = d / groupSize;
        for (int r = 0; r < rows; r++) {
            int xr = xOff + r * xStride, zr = zOff + r * zStride, dyr = dyOff + r * dyStride;
            for (int g = 0; g < groups; g++) {
                int c0 = g * groupSize, c1 = c0 + groupSize;
                float rs;
                if (rstd != null) {
                    rs = rstd[r * groups + g];
                } else {
                    float ss = 0f;
                    for (int c = c0; c < c1; c++) {
                        float u = gated(x, xr + c, z, zr + c);
                        ss += u * u;
                    }
                    rs = (float) (1.0 / Math.sqrt(ss / groupSize + eps));
                }
                float s = 0f;                                      // s = Σ dy·weight·u over the group
                for (int c = c0; c < c1; c++) s += dy[dyr + c] * weight[c] * gated(x, xr + c, z, zr + c);
                float k = rs * rs * rs * s / groupSize;
                for (int c = c0; c < c1; c++) {
                    float u = gated(x, xr + c, z, zr + c);
                    float du = rs * dy[dyr + c] * weight[c] - k * u;
                    if (dweight != null) dweight[c] += dy[dyr + c] * u * rs;
                    if (z == null) {
                        if (dx != null) dx[dxOff + r * dxStride + c] += du;
                    } else {
                        float zc = z[zr + c], sg = VectorMath.sigmoid(zc);
                        if (dx != null) dx[dxOff + r * dxStride + c] += du * zc * sg;           // · silu(z)
                        if (dz != null) dz[dzOff + r * dzStride + c] += du * x[xr + c] * sg * (1f + zc * (1f - sg));
                    }
                }
            }
        }
    }
}
