package dev.ssm4j.train.backward;

/**
 * An optional regulariser on Mamba-1's step sizes: a push towards small Δ in log space,
 * <pre>
 *   P = λ · Σ_layers  (1 / (rows·length·d_inner)) · Σ_{t, c}  max(0, ln Δ_tc − ln Δ_floor),
 *   Δ_tc = softplus(dt_tc + b_c)        (dt = dt_proj(x_proj(conv)) without its bias, b = dt_proj.bias)
 * </pre>
 * summed over the unmasked tokens t and channels c of every layer, divided by the batch's full
 * token count times d_inner, so P is a per-element mean (per layer) whatever the threads, micro-
 * batches or chunks. Its gradient with respect to the pre-activation z = dt + b is
 * λ/(rows·length·d_inner) · σ(z)/softplus(z) where Δ > Δ_floor, else 0: about λ/N for small Δ
 * (a steady push in log space that does not vanish as Δ → 0, unlike a penalty on Δ itself) and
 * about λ/(N·Δ) for large Δ (a weak one where the model needs a large step). Below Δ_floor nothing
 * pushes. Why: a state keeps what it stored over T later tokens with retention exp(A·Σ Δ_t), so a
 * model that must hold a token over many more steps than it was trained on needs Δ far smaller
 * than short training sequences ask for (docs/results.md §1). The task loss pulls Δ up where it
 * needs a large one; the penalty pulls every other Δ down. Off (λ = 0) unless asked for.
 */
public final class DtPenalty {
    private DtPenalty() {}

    /** Checks λ ≥ 0 and 0 &lt; floor, both finite. */
    public static void check(double lambda, double floor) {
        if (!(lambda >= 0) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("Δ penalty weight is " + lambda + ", expected a finite number >= 0");
        }
        if (!(floor > 0) || !Double.isFinite(floor)) {
            throw new IllegalArgumentException("Δ penalty floor is " + floor + ", expected a finite number > 0");
        }
    }

    /** softplus(z) in double, stable for large |z|. */
    static double softplus(double z) {
        return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    /** ln softplus(z) as {@link #addGradient} computes it (a series in exp(z) below z = −5). */
    static double lnSoftplus(double z) {
        if (z < -5) {
            double e = Math.exp(z);
            return z + e * (-0.5 + e * (5.0 / 24 - e * (1.0 / 8)));
        }
        return Math.log(softplus(z));
    }

    /**
     * Adds the penalty's gradient for one layer's tokens: into {@code ddt} (T, d; stride d) — the
     * gradient of the bias-free dt — and into {@code grads[dtB + c]}. Returns the layer's
     * contribution to P (with the same coefficient).
     *
     * @param dt     the recorded bias-free dt (T, d), stride d
     * @param coef   λ / (rows·length·d_inner) of the whole batch
     * @param mask   per-token mask (0 = padding, skipped) or null
     */
    static double addGradient(float[] dt, float[] params, int dtB, float[] ddt, float[] grads, int T, int d,
                              int[] mask, double coef, double floor) {
        double lnFloor = Math.log(floor), sum = 0;
        for (int t = 0; t < T; t++) {
            if (mask != null && mask[t] == 0) continue;
            int o = t * d;
            for (int c = 0; c < d; c++) {
                double z = (double) dt[o + c] + params[dtB + c];
                if (z <= lnFloor) continue;   // ln softplus(z) < z: below the floor, no push (and no exp)
                double ln, g;
                if (z < -5) {
                    // softplus(z) = e·q with e = exp(z), q = log1p(e)/e = 1 − e/2 + e²/3 − e³/4 + …:
                    // ln softplus = z + ln q, and σ(z)/softplus(z) = 1/((1 + e)·q) (truncation ≤ e⁴ ≈ 2e-9).
                    double e = Math.exp(z);
                    double q = 1 - e * (0.5 - e * (1.0 / 3 - e * 0.25));
                    ln = z + e * (-0.5 + e * (5.0 / 24 - e * (1.0 / 8)));
                    g = coef / ((1 + e) * q);
                } else {
                    double e = Math.exp(-Math.abs(z));
                    double sp = Math.max(z, 0) + Math.log1p(e);
                    ln = Math.log(sp);
                    double sig = z >= 0 ? 1 / (1 + e) : e / (1 + e);
                    g = coef * sig / sp;   // coef · σ(z) / softplus(z)
                }
                if (!(ln > lnFloor)) continue;
                sum += ln - lnFloor;
                ddt[o + c] += (float) g;
                grads[dtB + c] += (float) g;
            }
        }
        return coef * sum;
    }

    /**
     * The penalty of one recorded layer (the same sum as {@link #addGradient}, without gradients): for
     * tests and reports.
     */
    public static double value(float[] dt, float[] params, int dtB, int T, int d, int[] mask, double coef,
                               double floor) {
        double lnFloor = Math.log(floor), sum = 0;
        for (int t = 0; t < T; t++) {
            if (mask != null && mask[t] == 0) continue;
            for (int c = 0; c < d; c++) {
                double z = (double) dt[t * d + c] + params[dtB + c];
                if (z <= lnFloor) continue;
                double ln = lnSoftplus(z);
                if (ln > lnFloor) sum += ln - lnFloor;
            }
        }
        return coef * sum;
    }
}
