package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.norm.RmsNorm;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Backward pass of a whole Mamba-1 / Mamba-2 language model, from the gradient of the logits to
 * the gradient of every parameter, reading the intermediates that ssm-core's parallel forward
 * recorded into an {@link ActivationStore}. Parameters and gradients are flat arrays laid out by
 * {@link dev.ssm4j.core.model.ParameterLayout} (see {@link ParamIndex}); every gradient is
 * ACCUMULATED (+=), so micro-batches, threads' row slices and repeated applications of the same
 * weights simply add up.
 *
 * <pre>
 *   forward (ssm-core)                          backward (here, in reverse)
 *   x0     = E[tokens]           (T, H)         dE[tokens] += dx0                        {@link #embeddingBackward}
 *   x_{i+1} = x_i + mixer_i(norm_i(x_i))        Mamba1Backward / Mamba2Backward          {@link #layersBackward}
 *   f      = RMSNorm(x_L)·w_f    (T, H)         dx_L = RMSNorm'(df);  dw_f += …          {@link #headBackward}
 *   logits = f·W_headᵀ           (T, V)         df = dlogits·W_head;  dW_head += dlogitsᵀ·f
 *                                               (tied: W_head = E, so dE gets both contributions)
 * </pre>
 *
 * <p>One instance holds the scratch of one thread for up to (maxBatch, maxLen) tokens; use one per
 * thread. Long sequences may be split into chunks that continue each other's state: pass a
 * {@link StateGrads} to carry dL/d(state) from each chunk's backward to the previous chunk's.
 */
public final class ModelBackward {
    private final ModelSpec spec;
    private final ParamIndex index;
    private final Scratch sc;
    private double dtPenaltyCoef, dtPenaltyFloor = 1;
    private double dtPenaltySum;

    public ModelBackward(ModelSpec spec, int maxBatch, int maxLen) {
        this.spec = spec;
        this.index = new ParamIndex(spec);
        this.sc = new Scratch(spec, maxBatch, maxLen);
    }

    /**
     * Adds the gradient of the {@link DtPenalty} with coefficient {@code coef} = λ/(rows·length·d_inner)
     * of the whole batch (0 = off) to every following backward (Mamba-1 only).
     */
    public void dtPenalty(double coef, double floor) {
        DtPenalty.check(coef, floor);
        if (coef > 0 && spec.kind != ModelSpec.Kind.MAMBA1) {
            throw new IllegalArgumentException("the Δ penalty is implemented for Mamba-1 models only, this one is "
                    + spec.kind);
        }
        dtPenaltyCoef = coef;
        dtPenaltyFloor = floor;
    }

    /** The {@link DtPenalty} value summed over the backwards since the last call; resets it. */
    public double takeDtPenalty() {
        double v = dtPenaltySum;
        dtPenaltySum = 0;
        return v;
    }

    public ModelSpec spec() {
        return spec;
    }

    public ParamIndex index() {
        return index;
    }

    /**
     * The full backward of one recorded forward: dlogits (T, V) of that forward's logits → every
     * parameter gradient (+= into {@code grads}).
     *
     * @param carry null: the chunk started from a constant state and its final state feeds no loss;
     *              else in: dL/d(final states), out: dL/d(initial states) (see {@link StateGrads})
     */
    public void backward(ActivationStore store, float[] dlogits, float[] params, float[] grads, StateGrads carry,
                         ForkJoinPool pool) {
        float[] dx = headBackward(store, dlogits, params, grads, pool);
        layersBackward(store, params, grads, dx, carry, pool);
        embeddingBackward(store, grads, dx);
    }

    /**
     * lm_head and norm_f: returns dL/d(last layer's output) (T, H) in an internal buffer (valid until
     * the next call), from dlogits (T, V).
     */
    public float[] headBackward(ActivationStore store, float[] dlogits, float[] params, float[] grads,
                                ForkJoinPool pool) {
        int T = tokens(store), H = spec.hidden, V = spec.vocab;
        checkArrays(params, grads);
        if (dlogits == null || dlogits.length < (long) T * V) {
            throw new IllegalArgumentException("backward: dlogits has length " + (dlogits == null ? 0 : dlogits.length)
                    + ", expected (T, V) = (" + T + ", " + V + ")");
        }
        // logits = f·W_headᵀ: df (T, H) = dlogits·W_head; dW_head (V, H) += dlogitsᵀ·f.
        Matmul.nn(sc.du, 0, H, dlogits, 0, V, params, index.head, H, T, H, V, false, pool);
        Matmul.tn(grads, index.head, H, dlogits, 0, V, store.finalNormed, 0, H, V, H, T, true, pool);
        // f = RMSNorm(x_L)·w_f.
        Arrays.fill(sc.dx, 0, T * H, 0f);
        System.arraycopy(params, index.normF, sc.normW, 0, H);
        Arrays.fill(sc.dNormW, 0f);
        RmsNorm.backward(sc.dx, 0, H, sc.dNormW, sc.du, 0, H, store.finalInput, 0, H, store.finalRstd, sc.normW, T,
                H, spec.eps, pool);
        for (int k = 0; k < H; k++) grads[index.normF + k] += sc.dNormW[k];
        return sc.dx;
    }

    /**
     * Every block, last to first: {@code dx} (T, H) holds dL/d(last layer's output) on entry and
     * dL/d(layer 0's input, i.e. the embeddings' output) on return.
     */
    public void layersBackward(ActivationStore store, float[] params, float[] grads, float[] dx, StateGrads carry,
                               ForkJoinPool pool) {
        int b = store.batch(), l = store.length(), T = b * l;
        checkArrays(params, grads);
        if (dx.length < (long) T * spec.hidden) {
            throw new IllegalArgumentException("backward: dx has length " + dx.length + ", expected (T, H) = (" + T
                    + ", " + spec.hidden + ")");
        }
        if (carry != null && (!carry.spec().equals(spec) || carry.batch() < b)) {
            throw new IllegalArgumentException("backward: state gradients made for " + carry.spec() + " with "
                    + carry.batch() + " rows; the recorded forward has " + b + " rows of " + spec);
        }
        int[] mask = store.hasMask() ? store.mask : null;
        for (int i = spec.layers - 1; i >= 0; i--) {
            float[] cf = null, ci = null, sf = null, si = null;
            if (carry != null) {
                cf = carry.conv(i);
                sf = carry.ssm(i);
                ci = carry.convNext(i);
                si = carry.ssmNext(i);
                Arrays.fill(ci, 0f);
                Arrays.fill(si, 0f);
            }
            ActivationStore.Layer rec = store.layer(i);
            if (spec.kind == ModelSpec.Kind.MAMBA1) {
                dtPenaltySum += Mamba1Backward.backward(spec, rec, index.layer(i), params, grads, sc, dx, b, l, mask, cf,
                        ci, sf, si, pool, dtPenaltyCoef, dtPenaltyFloor);
            } else {
                Mamba2Backward.backward(spec, rec, index.layer(i), params, grads, sc, dx, b, l, mask, cf, ci, sf, si,
                        pool);
            }
            if (carry != null) carry.flip(i);
        }
    }

    /** x0 = E[tokens]: dE[token_t] += dx[t] (T, H). */
    public void embeddingBackward(ActivationStore store, float[] grads, float[] dx) {
        int T = tokens(store), H = spec.hidden;
        for (int t = 0; t < T; t++) {
            int row = index.embed + store.tokens[t] * H, o = t * H;
            for (int k = 0; k < H; k++) grads[row + k] += dx[o + k];
        }
    }

    private int tokens(ActivationStore store) {
        if (!store.spec().equals(spec)) {
            throw new IllegalArgumentException("backward: activation store was made for " + store.spec() + ", not "
                    + spec);
        }
        int b = store.batch(), l = store.length();
        if (b < 1 || l < 1) throw new IllegalArgumentException("backward: the activation store holds no forward yet");
        if (b > sc.maxBatch || (long) b * l > sc.maxTokens) {
            throw new IllegalArgumentException("backward: the recorded forward has (" + b + ", " + l
                    + ") tokens; this backward was made for " + sc.maxBatch + " rows and " + sc.maxTokens + " tokens");
        }
        return b * l;
    }

    private void checkArrays(float[] params, float[] grads) {
        int n = index.size();
        if (params == null || params.length < n) {
            throw new IllegalArgumentException("backward: params has length " + (params == null ? 0 : params.length)
                    + ", the layout of " + spec + " needs " + n);
        }
        if (grads == null || grads.length < n) {
            throw new IllegalArgumentException("backward: grads has length " + (grads == null ? 0 : grads.length)
                    + ", the layout of " + spec + " needs " + n);
        }
    }
}
