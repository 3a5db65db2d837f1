package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ModelSpec;
import java.util.Arrays;

/**
 * Gradients with respect to the recurrent state carried between chunks of a long sequence (truncated
 * or full backpropagation through time over chunks): per layer, the conv state (b, w−1, convDim)
 * and the SSM state (b, d, n) — Mamba-2: (b, h, p, n) — in {@link dev.ssm4j.core.model.InferenceState}'s
 * layouts.
 *
 * <p>Protocol: chunks are backpropagated from the last to the first. Before the backward of a chunk,
 * {@link #conv(int)} / {@link #ssm(int)} hold dL/d(the state the chunk ENDED in) (zeros for the last
 * chunk of a window); {@link ModelBackward} replaces them by dL/d(the state the chunk STARTED from),
 * which is what the previous chunk's backward needs. {@link #zero()} detaches (starts a window).
 */
public final class StateGrads {
    private final ModelSpec spec;
    private final int batch;
    private final float[][] conv, ssm;        // current: dL/d final state, then dL/d initial state
    private final float[][] convNext, ssmNext;

    public StateGrads(ModelSpec spec, int batch) {
        if (batch < 1) throw new IllegalArgumentException("state gradients need batch >= 1, got " + batch);
        this.spec = spec;
        this.batch = batch;
        int L = spec.layers;
        conv = new float[L][batch * spec.convStateSize];
        ssm = new float[L][batch * spec.ssmStateSize];
        convNext = new float[L][batch * spec.convStateSize];
        ssmNext = new float[L][batch * spec.ssmStateSize];
    }

    public ModelSpec spec() {
        return spec;
    }

    public int batch() {
        return batch;
    }

    /** dL/d conv state of layer i, (b, w−1, convDim). */
    public float[] conv(int i) {
        return conv[i];
    }

    /** dL/d SSM state of layer i, (b, d, n). */
    public float[] ssm(int i) {
        return ssm[i];
    }

    /** Sets every state gradient to zero (the state is a constant: the window starts here). */
    public void zero() {
        for (int i = 0; i < conv.length; i++) {
            Arrays.fill(conv[i], 0f);
            Arrays.fill(ssm[i], 0f);
        }
    }

    /** Scratch to accumulate layer i's dL/d initial conv state into (zeroed by the caller). */
    float[] convNext(int i) {
        return convNext[i];
    }

    float[] ssmNext(int i) {
        return ssmNext[i];
    }

    /** Layer i's initial-state gradients become the current ones. */
    void flip(int i) {
        float[] t = conv[i];
        conv[i] = convNext[i];
        convNext[i] = t;
        t = ssm[i];
        ssm[i] = ssmNext[i];
        ssmNext[i] = t;
    }
}
