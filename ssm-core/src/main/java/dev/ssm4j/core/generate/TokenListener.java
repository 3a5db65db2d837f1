package dev.ssm4j.core.generate;

/** Streaming callback of {@link Generator}. Called on the generating thread, in token order per row. */
public interface TokenListener {
    /**
     * Row {@code row} chose {@code token}. {@code text} is the text this token completes when the
     * generator has a tokenizer ("" while a multi-byte character is still incomplete, then the
     * whole character with a later token), null without a tokenizer.
     */
    void onToken(int row, int token, String text);

    /**
     * Row {@code row} finished. {@code rest} is text still held back (bytes that never completed a
     * character, shown as U+FFFD), "" if none, null without a tokenizer.
     */
    default void onFinish(int row, StopReason reason, String rest) {}
}
