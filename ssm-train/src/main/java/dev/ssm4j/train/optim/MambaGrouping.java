package dev.ssm4j.train.optim;

import java.util.List;

/**
 * Which Mamba / Mamba-2 parameters get weight decay, decided from the Hugging Face tensor name.
 *
 * <p>No weight decay for names ending in {@code A_log} (the log of −A, the state decay),
 * {@code .D} (the skip connection), {@code dt_proj.bias} (Mamba-1 Δ bias), {@code dt_bias}
 * (Mamba-2 Δ bias), {@code norm.weight} (every RMSNorm, including Mamba-2's gated norm inside the
 * mixer), {@code norm_f.weight} (the final norm) and any {@code .bias}; weight decay for all others
 * (embeddings, in/out/x/dt projections, conv weights). This is exactly the rule used to make the
 * golden AdamW fixtures ({@code tools/golden/make_model_goldens.py}, {@code NO_DECAY_SUFFIXES}),
 * which follows the Mamba reference training setup (no decay on A, D, Δ bias, norms, biases).
 */
public final class MambaGrouping {
    private MambaGrouping() {}

    /** The name suffixes that put a tensor into {@link ParameterStore#NO_DECAY}. */
    public static final List<String> NO_DECAY_SUFFIXES =
            List.of("A_log", ".D", "dt_proj.bias", "dt_bias", "norm.weight", "norm_f.weight", ".bias");

    /** {@link ParameterStore#NO_DECAY} if the name ends in one of {@link #NO_DECAY_SUFFIXES}, else DECAY. */
    public static String groupOf(String hfName) {
        for (String s : NO_DECAY_SUFFIXES) {
            if (hfName.endsWith(s)) return ParameterStore.NO_DECAY;
        }
        return ParameterStore.DECAY;
    }
}
