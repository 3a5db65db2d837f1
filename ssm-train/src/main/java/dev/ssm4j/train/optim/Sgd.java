package dev.ssm4j.train.optim;

import dev.ssm4j.kernels.KernelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stochastic gradient descent with (optionally Nesterov) momentum, with exactly the semantics of
 * {@code torch.optim.SGD} (maximize off). Per group with {@code lr = base · lrScale} and weight decay wd:
 * <pre>
 *   g ← g + wd·p                                   coupled L2 weight decay (not AdamW's decoupled decay)
 *   b ← g                     at step 1            momentum buffer (state "momentum_buffer", [size])
 *   b ← μ·b + (1 − dampening)·g   afterwards
 *   g ← g + μ·b  (nesterov)   or   g ← b
 *   p ← p − lr·g
 * </pre>
 * With μ = 0 it is plain SGD and keeps no state. Nesterov needs μ &gt; 0 and dampening = 0 (as torch).
 * Element-wise order of operations: {@link SgdKernels}. Verified against torch 2.13 on
 * {@code ssm-train/src/test/resources/optim/sgd.json}.
 */
public final class Sgd implements Optimizer {
    private final ParameterStore store;
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final ParamGroup[] rangeGroups;
    private final float[] buf; // [size] momentum buffer, or null when momentum == 0
    private long step;

    public Sgd(ParameterStore store, double momentum, double dampening, boolean nesterov,
               Map<String, ParamGroup> groups) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum is " + momentum + ", expected a number in [0, 1)");
        }
        if (!(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("dampening is " + dampening + ", expected a number in [0, 1]");
        }
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("nesterov momentum needs momentum > 0 and dampening = 0; got momentum "
                    + momentum + ", dampening " + dampening);
        }
        this.store = store;
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.rangeGroups = ParamGroup.perRange(store, groups);
        this.buf = momentum != 0 ? new float[store.size()] : null;
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
        boolean first = step == 0;
        step++;
        float[] p = store.data();
        float[] g = store.grad();
        float mu = (float) momentum;
        float omd = (float) (1 - dampening);
        var ranges = store.ranges();
        for (int r = 0; r < ranges.size(); r++) {
            ParameterStore.Range range = ranges.get(r);
            ParamGroup pg = rangeGroups[r];
            float lrG = (float) (lr * pg.lrScale());
            float wd = (float) pg.weightDecay();
            if (KernelConfig.FORCE_SCALAR) {
                SgdKernels.updateScalar(p, g, buf, range.offset(), range.length(), lrG, wd, mu, omd, nesterov, first);
            } else {
                SgdKernels.updateSimd(p, g, buf, range.offset(), range.length(), lrG, wd, mu, omd, nesterov, first);
            }
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    /** {@code momentum_buffer} (live), or nothing when momentum is 0. */
    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        if (buf != null) s.put("momentum_buffer", buf);
        return s;
    }

    @Override
    public void loadState(Map<String, float[]> state, long stepCount) {
        if (stepCount < 0) throw new IllegalArgumentException("stepCount is " + stepCount + ", expected >= 0");
        Optimizer.copyState("Sgd", state(), state);
        this.step = stepCount;
    }
}
