package dev.ssm4j.train.data;

/**
 * Where training batches come from, with a position that a checkpoint can save: after
 * {@code restore(state())} the source produces exactly the batches it would have produced.
 */
public interface BatchSource {
    /** The next batch of {@code b} rows of {@code s} tokens. */
    Batch next(int b, int s);

    /** The whole position/state of the source as one number (RNG state or window counter). */
    long state();

    /** Continues from a value saved by {@link #state()}. */
    void restore(long state);
}
