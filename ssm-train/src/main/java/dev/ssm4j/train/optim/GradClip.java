package dev.ssm4j.train.optim;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_} (2-norm): the norm of
 * the whole flat gradient is computed (in double here; torch uses float), and if it exceeds
 * {@code maxNorm} every gradient is multiplied by {@code maxNorm / (norm + 1e-6)}.
 *
 * <p>One difference from torch: when the norm is not finite (a NaN or ∞ gradient) the gradients are
 * left as they are (torch would multiply them by NaN); the caller sees the returned norm and decides
 * (e.g. skip the step).
 */
public final class GradClip {
    private GradClip() {}

    /** The 2-norm of {@code g[off .. off + len)}, accumulated in double. */
    public static double norm(float[] g, int off, int len) {
        if (off < 0 || len < 0 || off + len > g.length) {
            throw new IllegalArgumentException("norm: range [" + off + ", " + (off + len) + ") is outside g of length "
                    + g.length);
        }
        // Four independent double accumulators: a sequential double sum would be latency-bound
        // (the JIT does not reorder floating-point reductions on its own).
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = off;
        int end = off + len;
        for (; i <= end - 4; i += 4) {
            double a = g[i], b = g[i + 1], c = g[i + 2], d = g[i + 3];
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += d * d;
        }
        for (; i < end; i++) s0 += (double) g[i] * g[i];
        return Math.sqrt((s0 + s1) + (s2 + s3));
    }

    /** The global 2-norm of all gradients of the store. */
    public static double globalNorm(ParameterStore store) {
        return norm(store.grad(), 0, store.size());
    }

    /**
     * Scales the store's gradients so their global norm is at most {@code maxNorm}; returns the norm
     * BEFORE clipping. Nothing is scaled when the norm is ≤ maxNorm (up to torch's 1e-6) or not finite.
     */
    public static double clipGlobalNorm(ParameterStore store, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("maxNorm is " + maxNorm + ", expected a number > 0");
        }
        double norm = globalNorm(store);
        if (!Double.isFinite(norm)) return norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1.0) {
            float c = (float) coef;
            float[] g = store.grad();
            for (int i = 0; i < g.length; i++) g[i] *= c; // the JIT vectorises this loop by itself
        }
        return norm;
    }
}
