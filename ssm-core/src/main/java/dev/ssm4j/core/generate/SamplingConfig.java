package dev.ssm4j.core.generate;

/**
 * How the next token is chosen from a row of logits. The processing order is that of Hugging Face
 * {@code generate()}: repetition penalty, then temperature, then top-k, top-p and min-p filtering,
 * then a draw from the renormalised distribution.
 *
 * @param temperature       divides the logits; 0 means greedy (argmax, no randomness)
 * @param topK              keep only the k most likely tokens; 0 = off
 * @param topP              nucleus: keep the smallest set of most likely tokens whose probability
 *                          sums to at least p; 1 = off
 * @param minP              keep tokens whose probability is at least minP × the top probability; 0 = off
 * @param repetitionPenalty CTRL-style penalty on tokens already in the context: a positive logit is
 *                          divided by it, a negative one multiplied; 1 = off
 * @param seed              seed of the random draws (each batch row gets its own stream)
 */
public record SamplingConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {

    public SamplingConfig {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0, got " + repetitionPenalty);
        }
    }

    /** Argmax decoding. */
    public static SamplingConfig greedy() {
        return new SamplingConfig(0f, 0, 1f, 0f, 1f, 0L);
    }

    /** Plain sampling at temperature 1 with the given seed. */
    public static SamplingConfig random(long seed) {
        return new SamplingConfig(1f, 0, 1f, 0f, 1f, seed);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
