package dev.ssm4j.core.model;

/**
 * How {@link MambaLM#load} holds the weight matrices (in_proj, x_proj, out_proj, embedding,
 * lm_head). Small tensors (norms, biases, A_log, D, conv taps, dt_proj) are always float32 arrays.
 *
 * @param matrices storage precision of the weight matrices
 * @param mapped   true: a matrix whose file type already is the wanted one (F32 for F32, BF16 for
 *                 BF16) is used in place from the memory-mapped file — no copy, pages shared
 *                 between processes, loading costs only the small tensors; the model must stay
 *                 open (the default). false: copied into the Java heap (F32) or process memory (BF16)
 *                 at load. Either way the kernels see one kind of storage per format (float[] for
 *                 copied F32, a plain native segment for everything else — see
 *                 {@code Linear.kernelView}), so mapped weights decode as fast as copied ones
 *                 while their pages stay in memory. Mapped is the default because it costs no copy
 *                 and measured as fast or faster ({@code ./ssm bench model --mapped both}, idle,
 *                 2026-12-06: decode 42 → 48 tokens/s f32, 70 → 75 bf16 for Mamba-1, equal
 *                 prefill; docs/benchmarks.md). Use {@link #COPIED} when the file may change or
 *                 go away while the model is in use, or when its pages must not be evicted under
 *                 memory pressure (they are then faulted back in from the file while decoding).
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

    /** Weights as stored, used in place from the memory-mapped file (no copy). */
    public static final LoadOptions DEFAULT = new LoadOptions(Matrices.AS_STORED, true);

    /** Weights as stored, copied into memory (the file is closed after loading). */
    public static final LoadOptions COPIED = new LoadOptions(Matrices.AS_STORED, false);

    /** Weight matrices in BF16 (faster decoding, looser numerics); mapped where the file is BF16. */
    public static final LoadOptions BF16 = new LoadOptions(Matrices.BF16, true);

    /** Everything in F32; mapped where the file is F32. */
    public static final LoadOptions F32 = new LoadOptions(Matrices.F32, true);

    /** The same precision, used in place from the mapped file where the file type allows. */
    public LoadOptions withMapped(boolean on) {
        return new LoadOptions(matrices, on);
    }
}
