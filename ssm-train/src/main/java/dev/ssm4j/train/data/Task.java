package dev.ssm4j.train.data;

import java.util.Map;

/**
 * A synthetic sequence task: a generator of (inputs, targets) batches for a causal model, with loss
 * and accuracy only at the task's answer positions (other targets are {@link Batch#IGNORE}).
 * Instances are immutable and configured with their parameters; create them by name with
 * {@link Tasks#create}.
 */
public interface Task {
    /** Registry name, e.g. {@code "selective_copying"}. */
    String name();

    /** Number of token ids: every input and target id is in {@code [0, vocabSize())}. */
    int vocabSize();

    /** The configured sequence length (used when the caller does not ask for another). */
    int length();

    /** The shortest sequence this configuration can be laid out in. */
    int minLength();

    /** The configured parameters, by their registry names (including {@code length}). */
    Map<String, Integer> params();

    /** Accuracy of guessing: the expected accuracy of a predictor that ignores the input. */
    double chance();

    /**
     * {@code b} fresh random sequences of {@code length} tokens, drawn from {@code rng} only (so the
     * same rng state gives the same batch).
     */
    Batch batch(Rng rng, int b, int length);

    /** {@link #batch(Rng, int, int)} at the configured {@link #length()}. */
    default Batch batch(Rng rng, int b) {
        return batch(rng, b, length());
    }

    /** Fraction of answer positions predicted right ({@link Batch#accuracy(int[])}). */
    default double accuracy(Batch batch, int[] predictions) {
        return batch.accuracy(predictions);
    }

    /** Fraction of answer positions whose argmax over {@code logits [b·s, vocabSize()]} is right. */
    default double accuracy(Batch batch, float[] logits) {
        return batch.accuracy(logits, vocabSize());
    }

    /** Checks b and length for {@link #batch}. */
    default void checkBatchArgs(int b, int length) {
        if (b <= 0) throw new IllegalArgumentException(name() + ": batch size b is " + b + ", expected >= 1");
        if (length < minLength()) {
            throw new IllegalArgumentException(name() + ": length is " + length + ", expected >= " + minLength()
                    + " for " + params());
        }
    }
}
