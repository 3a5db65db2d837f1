package dev.ssm4j.core.model;

import java.util.concurrent.ForkJoinPool;

/**
 * A weight matrix W (outDim, inDim) of a linear layer, y = x·Wᵀ (+ bias), in any of the storage
 * forms the model runs on. Adapter over the GEMM kernels (TEMPORARY naive body until the gemm
 * branch lands).
 */
final class Linear {
    private final float[] w;
    private final int off, outDim, inDim;

    private Linear(float[] w, int off, int outDim, int inDim) {
        this.w = w;
        this.off = off;
        this.outDim = outDim;
        this.inDim = inDim;
    }

    static Linear ofArray(float[] w, int off, int outDim, int inDim) {
        return new Linear(w, off, outDim, inDim);
    }

    /** A checkpoint tensor (outDim, inDim); {@code bf16}: held in BF16 (TEMPORARY: emulated by rounding). */
    static Linear ofTensor(dev.ssm4j.core.io.SafeTensor t, int outDim, int inDim, boolean bf16) {
        float[] a = t.toFloatArray();
        if (bf16) {
            for (int i = 0; i < a.length; i++) {
                a[i] = dev.ssm4j.core.io.DType.bf16ToFloat(dev.ssm4j.core.io.DType.floatToBf16(a[i]));
            }
        }
        return new Linear(a, 0, outDim, inDim);
    }

    int outDim() {
        return outDim;
    }

    int inDim() {
        return inDim;
    }

    long bytes() {
        return 4L * outDim * inDim;
    }

    /** y (m, outDim) dense = x (m, inDim) dense · Wᵀ (+ bias). */
    void apply(float[] y, int yOff, float[] x, int xOff, int m, Vec bias, float[] biasScratch, ForkJoinPool pool) {
        applyStrided(y, yOff, outDim, x, xOff, inDim, m, pool);
        if (bias != null) {
            for (int i = 0; i < m; i++) for (int o = 0; o < outDim; o++) y[yOff + i * outDim + o] += bias.get(o);
        }
    }

    /** y (m, outDim) at (yOff, ldy) = x (m, inDim) at (xOff, ldx) · Wᵀ. */
    void applyStrided(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, ForkJoinPool pool) {
        for (int i = 0; i < m; i++) {
            for (int o = 0; o < outDim; o++) {
                float s = 0;
                int wr = off + o * inDim, xr = xOff + i * ldx;
                for (int k = 0; k < inDim; k++) s += w[wr + k] * x[xr + k];
                y[yOff + i * ldy + o] = s;
            }
        }
    }

    /** Row r of W (e.g. an embedding vector) as floats into dst[dstOff .. dstOff + inDim). */
    void row(int r, float[] dst, int dstOff) {
        System.arraycopy(w, off + r * inDim, dst, dstOff, inDim);
    }
}
