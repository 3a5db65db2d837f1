package dev.ssm4j.train.optim;

import dev.ssm4j.kernels.KernelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", Algorithm 2) with exactly
 * the semantics of {@code torch.optim.AdamW} (amsgrad off, maximize off). At step t (counted from 1),
 * per group with learning rate {@code lr = base · lrScale} and weight decay {@code wd}:
 * <pre>
 *   p  ← p · (1 − lr·wd)                     decoupled weight decay, applied first
 *   m  ← β1·m + (1 − β1)·g                   first moment   (state "exp_avg",    [size])
 *   v  ← β2·v + (1 − β2)·g²                  second moment  (state "exp_avg_sq", [size])
 *   p  ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
 * </pre>
 * As in torch, the bias corrections, step size and √bc2 are computed in double and then used as
 * float scalars; the element-wise work is in float in torch's order of operations
 * ({@link AdamWKernels}). With torch's defaults β = (0.9, 0.999), eps = 1e-8.
 *
 * <p>Verified against torch 2.13 on the fixture {@code ssm-train/src/test/resources/optim/adamw.json}
 * ({@code tools/golden/make_optim_goldens.py}).
 */
public final class AdamW implements Optimizer {
    private final ParameterStore store;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final ParamGroup[] rangeGroups;
    private final float[] m; // [size] first moment, "exp_avg"
    private final float[] v; // [size] second moment, "exp_avg_sq"
    private long step;

    /**
     * @param groups settings for every group tag of the store (e.g. {@link ParamGroup#decayRule})
     */
    public AdamW(ParameterStore store, double beta1, double beta2, double eps, Map<String, ParamGroup> groups) {
        check("beta1", beta1, 0, 1);
        check("beta2", beta2, 0, 1);
        if (!(eps >= 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps is " + eps + ", expected a finite number >= 0");
        }
        this.store = store;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.rangeGroups = ParamGroup.perRange(store, groups);
        this.m = new float[store.size()];
        this.v = new float[store.size()];
    }

    /** AdamW with torch's defaults β1 = 0.9, β2 = 0.999, eps = 1e-8. */
    public AdamW(ParameterStore store, Map<String, ParamGroup> groups) {
        this(store, 0.9, 0.999, 1e-8, groups);
    }

    private static void check(String what, double x, double lo, double hi) {
        if (!(x >= lo && x < hi)) {
            throw new IllegalArgumentException(what + " is " + x + ", expected a number in [" + lo + ", " + hi + ")");
        }
    }

    @Override
    public ParameterStore store() {
        return store;
    }

    @Override
    public void step(double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("lr is " + lr + ", expected a finite number >= 0");
        }
        step++;
        // Scalars in double, as torch computes them in Python floats.
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float w1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float omb2 = (float) (1 - beta2);
        float epsF = (float) eps;
        float[] p = store.data();
        float[] g = store.grad();
        var ranges = store.ranges();
        for (int r = 0; r < ranges.size(); r++) {
            ParameterStore.Range range = ranges.get(r);
            ParamGroup pg = rangeGroups[r];
            double lrG = lr * pg.lrScale();
            float decay = (float) (1 - lrG * pg.weightDecay());
            float negStep = (float) -(lrG / bc1);
            if (KernelConfig.FORCE_SCALAR) {
                AdamWKernels.updateScalar(p, g, m, v, range.offset(), range.length(), decay, w1, b2, omb2, bc2Sqrt,
                        epsF, negStep);
            } else {
                AdamWKernels.updateSimd(p, g, m, v, range.offset(), range.length(), decay, w1, b2, omb2, bc2Sqrt,
                        epsF, negStep);
            }
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    /** {@code exp_avg} (m) and {@code exp_avg_sq} (v), live. */
    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        s.put("exp_avg", m);
        s.put("exp_avg_sq", v);
        return s;
    }

    @Override
    public void loadState(Map<String, float[]> state, long stepCount) {
        if (stepCount < 0) throw new IllegalArgumentException("stepCount is " + stepCount + ", expected >= 0");
        Optimizer.copyState("AdamW", state(), state);
        this.step = stepCount;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }
}
