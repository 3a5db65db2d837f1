package dev.ssm4j.core.model;

/**
 * How {@link MambaLM#load} holds the weight matrices (in_proj, x_proj, out_proj, embedding,
 * lm_head). Small tensors (norms, biases, A_log, D, conv taps, dt_proj) are always float32 arrays.
 *
 * @param matrices storage precision of the weight matrices
 * @param mapped   true: a matrix whose file type already is the wanted one (F32 for F32, BF16 for
 *                 BF16) is used in place from the memory-mapped file — no copy, pages shared
 *                 between processes, loading costs only the small tensors; the model must stay
 *                 open. false (default): copied into the Java heap (F32) or process memory (BF16)
 *                 at load. Either way the kernels see one kind of storage per format (float[] for
 *                 copied F32, a plain native segment for everything else — see
 *                 {@code Linear.kernelView}), so mapped weights decode as fast as copied ones
 *                 while their pages stay in memory. Why the default is false: a copy stays
 *                 resident, whereas mapped pages can be evicted under memory pressure and are then
 *                 faulted back in from the file during decoding. {@code ./ssm bench model --mapped
 *                 both} measures the two side by side.
 */
public record LoadOptions(Matrices matrices, boolean mapped) {
    /** Storage of the weight matrices. */
    public enum Matrices {
        /** As in the file: F32 stays F32, BF16 stays BF16; F16 is converted to F32. */
        AS_STORED,
        /** Everything F32. */
        F32,
        /** Everything BF16 (F32/F16 rounded to nearest even on load): half the bytes to stream per token. */
        BF16
    }

    public LoadOptions {
        if (matrices == null) throw new IllegalArgumentException("matrices must not be null");
    }

    /** Weights as stored, copied into memory. */
    public static final LoadOptions DEFAULT = new LoadOptions(Matrices.AS_STORED, false);

    /** Weight matrices in BF16 (faster decoding, looser numerics). */
    public static final LoadOptions BF16 = new LoadOptions(Matrices.BF16, false);

    /** Everything in F32. */
    public static final LoadOptions F32 = new LoadOptions(Matrices.F32, false);

    /** The same precision, used in place from the mapped file where the file type allows. */
    public LoadOptions withMapped(boolean on) {
        return new LoadOptions(matrices, on);
    }
}
