package dev.ssm4j.train.optim;

import java.util.Map;

/**
 * An optimizer over a {@link ParameterStore}: reads {@code store.grad()}, updates {@code store.data()}
 * in place, and keeps its own state (flat {@code float[]}s in the store's layout) plus a step count.
 */
public interface Optimizer {
    /** The store this optimizer updates. */
    ParameterStore store();

    /**
     * One update with base learning rate {@code lr}: each group uses {@code lr · lrScale} and its own
     * weight decay. The gradients are read, not changed.
     */
    void step(double lr);

    /** Number of {@link #step} calls so far (torch's {@code state['step']}), restored by {@link #loadState}. */
    long stepCount();

    /**
     * The named state buffers, each {@code [store.size()]} in the store's layout (live arrays, not
     * copies: save them, or copy them, before the next step). For checkpoints, together with
     * {@link #stepCount()}.
     */
    Map<String, float[]> state();

    /** Restores buffers saved from {@link #state()} and the step count; names and lengths must match. */
    void loadState(Map<String, float[]> state, long stepCount);

    /** Copies saved buffers into live ones, checking names and lengths. */
    static void copyState(String optimizer, Map<String, float[]> live, Map<String, float[]> saved) {
        if (!saved.keySet().equals(live.keySet())) {
            throw new IllegalArgumentException(optimizer + ".loadState: state has buffers " + saved.keySet()
                    + ", expected " + live.keySet());
        }
        for (var e : live.entrySet()) {
            float[] src = saved.get(e.getKey());
            if (src.length != e.getValue().length) {
                throw new IllegalArgumentException(optimizer + ".loadState: buffer " + e.getKey() + " has length "
                        + src.length + ", expected " + e.getValue().length + " (the store's size)");
            }
            System.arraycopy(src, 0, e.getValue(), 0, src.length);
        }
    }
}
