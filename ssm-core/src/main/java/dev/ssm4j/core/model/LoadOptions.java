package dev.ssm4j.core.model;

/**
 * How {@link MambaLM#load} holds the weight matrices (in_proj, x_proj, dt_proj, out_proj,
 * embedding, lm_head). Small tensors (norms, biases, A_log, D, conv taps) are always float32.
 *
 * @param matrices storage of the weight matrices
 */
public record LoadOptions(Matrices matrices) {
    /** Storage of the weight matrices. */
    public enum Matrices {
        /** As in the file: F32 stays F32, BF16 stays BF16 (memory-mapped); F16 is converted to F32. */
        AS_STORED,
        /** Everything converted to F32. */
        F32,
        /** Everything as BF16 (F32/F16 rounded to nearest even on load): half the bytes to stream per token. */
        BF16
    }

    public LoadOptions {
        if (matrices == null) throw new IllegalArgumentException("matrices must not be null");
    }

    /** Weights as stored. */
    public static final LoadOptions DEFAULT = new LoadOptions(Matrices.AS_STORED);

    /** Weight matrices in BF16 (faster decoding, looser numerics). */
    public static final LoadOptions BF16 = new LoadOptions(Matrices.BF16);

    /** Everything in F32. */
    public static final LoadOptions F32 = new LoadOptions(Matrices.F32);
}
