package dev.ssm4j.train.optim;

import java.util.Arrays;

/**
 * Exponential moving average of the weights: a shadow copy {@code s ← d·s + (1 − d)·p} updated
 * after each optimizer step, used for evaluation. {@link #swap()} exchanges the shadow and the
 * live parameters in place (call it before eval and again after), so no third copy is needed.
 *
 * <pre>
 *   shadow [store.size()]   same layout as store.data(); starts as a copy of the parameters
 * </pre>
 */
public final class Ema {
    private final ParameterStore store;
    private final double decay;
    private final float[] shadow;
    private boolean swapped;

    /** Starts the shadow as a copy of the store's current parameters. */
    public Ema(ParameterStore store, double decay) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay is " + decay + ", expected a number in [0, 1]");
        }
        this.store = store;
        this.decay = decay;
        this.shadow = store.data().clone();
    }

    public double decay() {
        return decay;
    }

    /** s ← d·s + (1 − d)·p over all parameters. Not allowed while swapped in. */
    public void update() {
        if (swapped) throw new IllegalStateException("Ema.update() while the EMA weights are swapped in; swap() back first");
        float d = (float) decay;
        float e = (float) (1 - decay);
        float[] p = store.data();
        for (int i = 0; i < p.length; i++) shadow[i] = d * shadow[i] + e * p[i]; // vectorised by the JIT
    }

    /** Exchanges shadow and live parameters (EMA weights in for eval; call again to swap back). */
    public void swap() {
        float[] p = store.data();
        for (int i = 0; i < p.length; i++) {
            float t = p[i];
            p[i] = shadow[i];
            shadow[i] = t;
        }
        swapped = !swapped;
    }

    /** True while the EMA weights are in the store (after an odd number of {@link #swap()}s). */
    public boolean swappedIn() {
        return swapped;
    }

    /** The shadow weights, live; while swapped in, these are the training weights. */
    public float[] shadow() {
        return shadow;
    }

    /** Restores a saved shadow (from {@link #shadow()} while not swapped in). */
    public void load(float[] saved) {
        if (saved.length != shadow.length) {
            throw new IllegalArgumentException("Ema.load: saved shadow has length " + saved.length + ", expected "
                    + shadow.length + " (the store's size)");
        }
        if (swapped) throw new IllegalStateException("Ema.load while swapped in; swap() back first");
        System.arraycopy(saved, 0, shadow, 0, shadow.length);
    }

    @Override
    public String toString() {
        return "Ema(decay=" + decay + ", size=" + shadow.length + (swapped ? ", swapped in" : "") + ", shadow[0..3]="
                + Arrays.toString(Arrays.copyOf(shadow, Math.min(3, shadow.length))) + ")";
    }
}
