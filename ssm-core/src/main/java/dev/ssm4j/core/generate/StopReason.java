package dev.ssm4j.core.generate;

/** Why a row of {@link Generator#generate} stopped. */
public enum StopReason {
    /** Its generated tokens ended with a stop sequence (a stop token is a sequence of length 1). */
    STOP_SEQUENCE,
    /** It reached the limit of new tokens. */
    MAX_TOKENS
}
