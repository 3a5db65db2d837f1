package dev.ssm4j.core.generate;

/**
 * What {@link Generator#generate} produced.
 *
 * @param tokens          [row] the new token ids of each row (stop sequence included), without the prompt
 * @param reasons         [row] why each row stopped
 * @param promptTokens    prompt tokens prefilled, all rows
 * @param prefillNanos    wall time of the prefill (all rows)
 * @param decodeTokens    tokens produced by decode steps (each row's first token comes from the prefill logits)
 * @param decodeNanos     wall time of the decode loop (sampling and callbacks included)
 */
public record GenerationResult(int[][] tokens, StopReason[] reasons, long promptTokens, long prefillNanos,
                               long decodeTokens, long decodeNanos) {
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : decodeTokens * 1e9 / decodeNanos;
    }
}
