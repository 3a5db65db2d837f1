package dev.ssm4j.core.model;

import dev.ssm4j.core.config.Mamba2Config;
import dev.ssm4j.core.config.MambaConfig;
import dev.ssm4j.core.config.ModelConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The sizes and switches of one Mamba language model, normalised from a Hugging Face
 * {@code config.json} (Mamba-1 or Mamba-2): everything the forward pass, the parameter layout and
 * the inference state need, with the derived widths computed once. Immutable; validated when built,
 * so a config the model cannot honour is refused here with a message that names the field.
 *
 * <h2>Glossary (name in code ↔ symbol in docs/model.md and the papers)</h2>
 * <ul>
 *   <li>{@code vocab} V · {@code hidden} H (d_model) · {@code layers} — number of blocks.</li>
 *   <li>{@code dInner} d = expand·H (Mamba-1's intermediate_size) — channels of the mixer.</li>
 *   <li>{@code dState} n — SSM state per channel (Mamba-1) or per head dimension (Mamba-2).</li>
 *   <li>{@code convWidth} w (d_conv) — taps of the causal depthwise conv.</li>
 *   <li>{@code dtRank} R — Mamba-1's low-rank Δ projection (x_proj → R → dt_proj → d).</li>
 *   <li>{@code heads} h, {@code headDim} p (h·p = d), {@code groups} g — Mamba-2: B and C have g
 *       groups, head hi uses group hi / (h/g).</li>
 *   <li>{@code normGroupSize} — Mamba-2's gated RMSNorm normalises groups of this many channels:
 *       d (transformers' MambaRMSNormGated, the default) or d/g (mamba_ssm's RMSNormGated).</li>
 *   <li>{@code dtMin}, {@code dtMax} — Mamba-2's time_step_limit: Δ is clamped to [dtMin, dtMax]
 *       after the softplus (transformers' default (0, ∞) makes the clamp a no-op).</li>
 * </ul>
 */
public final class ModelSpec {
    /** Which mixer the blocks use. */
    public enum Kind {
        /** Mamba-1 ("S6", selective scan), HF model_type "mamba". */
        MAMBA1,
        /** Mamba-2 ("SSD", state-space duality), HF model_type "mamba2". */
        MAMBA2
    }

    public final Kind kind;
    public final int vocab, hidden, layers, dInner, dState, convWidth;
    /** Mamba-1 only (0 for Mamba-2). */
    public final int dtRank;
    /** Mamba-2 only (0 for Mamba-1). */
    public final int heads, headDim, groups, chunkSize, normGroupSize;
    public final boolean useBias, useConvBias, tieEmbeddings;
    public final float eps, dtMin, dtMax;
    /** Pad token id of the config (−1 when absent); used only by the padded-batch helpers. */
    public final int padTokenId;

    // Derived widths.
    /** Channels the conv runs over: d (Mamba-1) or d + 2·g·n (Mamba-2's xBC). */
    public final int convDim;
    /** Width of one in_proj output row: 2d (Mamba-1 [x | z]) or d + convDim + h (Mamba-2 [z | xBC | dt]). */
    public final int inProjDim;
    /** Mamba-1 x_proj output width R + 2n (0 for Mamba-2). */
    public final int xProjDim;
    /** Floats of one row's conv state per layer: (w − 1)·convDim. */
    public final int convStateSize;
    /** Floats of one row's SSM state per layer: d·n (Mamba-1 (d, n); Mamba-2 (h, p, n)). */
    public final int ssmStateSize;

    private ModelSpec(Builder b) {
        this.kind = b.kind;
        this.vocab = b.vocab;
        this.hidden = b.hidden;
        this.layers = b.layers;
        this.dInner = b.dInner;
        this.dState = b.dState;
        this.convWidth = b.convWidth;
        this.dtRank = b.kind == Kind.MAMBA1 ? b.dtRank : 0;
        this.heads = b.kind == Kind.MAMBA2 ? b.heads : 0;
        this.headDim = b.kind == Kind.MAMBA2 ? b.headDim : 0;
        this.groups = b.kind == Kind.MAMBA2 ? b.groups : 0;
        this.chunkSize = b.kind == Kind.MAMBA2 ? b.chunkSize : 0;
        this.normGroupSize = b.kind == Kind.MAMBA2 ? (b.normGroupSize == 0 ? b.dInner : b.normGroupSize) : 0;
        this.useBias = b.useBias;
        this.useConvBias = b.useConvBias;
        this.tieEmbeddings = b.tieEmbeddings;
        this.eps = b.eps;
        this.dtMin = b.dtMin;
        this.dtMax = b.dtMax;
        this.padTokenId = b.padTokenId;
        validate();
        if (kind == Kind.MAMBA1) {
            convDim = dInner;
            inProjDim = 2 * dInner;
            xProjDim = dtRank + 2 * dState;
        } else {
            convDim = dInner + 2 * groups * dState;
            inProjDim = dInner + convDim + heads;
            xProjDim = 0;
        }
        convStateSize = (convWidth - 1) * convDim;
        ssmStateSize = dInner * dState;
    }

    private void validate() {
        if (kind == null) throw new IllegalArgumentException("model kind must be MAMBA1 or MAMBA2");
        positive("vocab_size", vocab);
        positive("hidden_size", hidden);
        positive("num_hidden_layers", layers);
        positive("intermediate size (expand·hidden_size)", dInner);
        positive("state_size", dState);
        if (convWidth < 2 || convWidth > 8) {
            throw new IllegalArgumentException("conv_kernel must be in [2, 8] (the causal conv kernel's range), got "
                    + convWidth);
        }
        if (!(eps > 0f) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException("layer_norm_epsilon must be a positive number, got " + eps);
        }
        if (kind == Kind.MAMBA1) {
            positive("time_step_rank", dtRank);
        } else {
            positive("num_heads", heads);
            positive("head_dim", headDim);
            positive("n_groups", groups);
            positive("chunk_size", chunkSize);
            if ((long) heads * headDim != dInner) {
                throw new IllegalArgumentException("Mamba-2 needs num_heads·head_dim = expand·hidden_size, got "
                        + heads + "·" + headDim + " = " + (long) heads * headDim + " vs " + dInner);
            }
            if (heads % groups != 0) {
                throw new IllegalArgumentException("num_heads (" + heads + ") must be a multiple of n_groups ("
                        + groups + ")");
            }
            if (normGroupSize <= 0 || dInner % normGroupSize != 0) {
                throw new IllegalArgumentException("gated-norm group size must divide the intermediate size "
                        + dInner + ", got " + normGroupSize);
            }
            if (!(dtMin >= 0f) || !(dtMax >= dtMin)) {
                throw new IllegalArgumentException("time_step_limit must be (min ≥ 0, max ≥ min), got (" + dtMin
                        + ", " + dtMax + ")");
            }
        }
        long maxRow = Math.max((long) vocab * hidden, (long) dInner * dState);
        if (maxRow > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model too large for int indexing of one tensor: " + maxRow
                    + " elements");
        }
    }

    private static void positive(String what, int v) {
        if (v < 1) throw new IllegalArgumentException("config " + what + " must be >= 1, got " + v);
    }

    /** Floats of the whole inference state of one sequence (all layers, conv + SSM). */
    public long stateFloatsPerSequence() {
        return (long) layers * (convStateSize + ssmStateSize);
    }

    /**
     * A short stable fingerprint of everything that fixes the shapes and semantics of the
     * inference state and the parameters (not the weights): stored in state files so a state
     * is never continued with a different model.
     */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The description, built once: {@link #equals} compares it, and every forward/step call checks
     * its workspace and state specs with equals (a rebuilt string per check would be garbage per token).
     * A benign race: two threads may both build it, with equal results.
     */
    private String text;

    @Override
    public String toString() {
        String t = text;
        if (t == null) text = t = describe();
        return t;
    }

    private String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(kind == Kind.MAMBA1 ? "mamba" : "mamba2").append("(V=").append(vocab).append(", H=").append(hidden)
                .append(", layers=").append(layers).append(", d=").append(dInner).append(", n=").append(dState)
                .append(", w=").append(convWidth);
        if (kind == Kind.MAMBA1) {
            sb.append(", R=").append(dtRank);
        } else {
            sb.append(", h=").append(heads).append(", p=").append(headDim).append(", g=").append(groups)
                    .append(", chunk=").append(chunkSize).append(", normGroup=").append(normGroupSize)
                    .append(", dt=[").append(dtMin).append(", ").append(dtMax).append("]");
        }
        sb.append(", bias=").append(useBias).append(", convBias=").append(useConvBias).append(", tied=")
                .append(tieEmbeddings).append(", eps=").append(eps).append(")");
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof ModelSpec s && s.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    /**
     * The spec of a Hugging Face config (coreio's typed {@link MambaConfig} / {@link Mamba2Config},
     * already validated there). A Mamba-2 config with {@code rms_norm: false} is refused: the
     * gated norm is part of every released Mamba-2 and the only form implemented.
     */
    public static ModelSpec of(ModelConfig config) {
        if (config instanceof MambaConfig c) {
            return builder(Kind.MAMBA1).vocab(c.vocabSize()).hidden(c.hiddenSize()).layers(c.numHiddenLayers())
                    .dInner(c.intermediateSize()).dState(c.stateSize()).convWidth(c.convKernel())
                    .dtRank(c.timeStepRank()).useBias(c.useBias()).useConvBias(c.useConvBias())
                    .tieEmbeddings(c.tieWordEmbeddings()).eps((float) c.layerNormEpsilon())
                    .padTokenId(c.padTokenId() == null ? -1 : c.padTokenId()).build();
        }
        Mamba2Config c = (Mamba2Config) config;
        if (!c.rmsNorm()) {
            throw new IllegalArgumentException("mamba2 config: field 'rms_norm': false (no gated RMSNorm) is not supported;"
                    + " ssm4j implements the gated RMSNorm of transformers / mamba_ssm");
        }
        float max = c.timeStepLimitMax() >= Float.MAX_VALUE ? Float.POSITIVE_INFINITY : (float) c.timeStepLimitMax();
        return builder(Kind.MAMBA2).vocab(c.vocabSize()).hidden(c.hiddenSize()).layers(c.numHiddenLayers())
                .dInner(c.intermediateSize()).dState(c.stateSize()).convWidth(c.convKernel()).heads(c.numHeads())
                .headDim(c.headDim()).groups(c.nGroups()).chunkSize(c.chunkSize()).normGroupSize(c.normGroupSize())
                .dtLimit((float) c.timeStepLimitMin(), max).useBias(c.useBias()).useConvBias(c.useConvBias())
                .tieEmbeddings(c.tieWordEmbeddings()).eps((float) c.layerNormEpsilon())
                .padTokenId(c.padTokenId() == null ? -1 : c.padTokenId()).build();
    }

    /**
     * A config with this spec's architecture and transformers' defaults elsewhere (for saving a
     * model built from a spec). IllegalArgumentException if d is not a whole multiple of H (HF
     * configs store expand, not d).
     */
    public ModelConfig toConfig() {
        if (dInner % hidden != 0) {
            throw new IllegalArgumentException("cannot write a config for " + this + ": intermediate size " + dInner
                    + " is not expand x hidden_size for a whole expand");
        }
        int expand = dInner / hidden;
        Integer pad = padTokenId >= 0 && padTokenId < vocab ? padTokenId : null;
        if (kind == Kind.MAMBA1) {
            return MambaConfig.builder().vocabSize(vocab).hiddenSize(hidden).numHiddenLayers(layers).stateSize(dState)
                    .expand(expand).convKernel(convWidth).timeStepRank(dtRank).useBias(useBias).useConvBias(useConvBias)
                    .tieWordEmbeddings(tieEmbeddings).layerNormEpsilon(eps).padTokenId(pad).bosTokenId(null)
                    .eosTokenIds(java.util.List.of()).build();
        }
        return Mamba2Config.builder().vocabSize(vocab).hiddenSize(hidden).numHiddenLayers(layers).stateSize(dState)
                .expand(expand).convKernel(convWidth).numHeads(heads).headDim(headDim).nGroups(groups)
                .chunkSize(chunkSize).normGroupSize(normGroupSize).timeStepLimit(dtMin, dtMax).useBias(useBias)
                .useConvBias(useConvBias).tieWordEmbeddings(tieEmbeddings).layerNormEpsilon(eps).padTokenId(pad)
                .bosTokenId(null).eosTokenIds(java.util.List.of()).build();
    }

    public static Builder builder(Kind kind) {
        return new Builder(kind);
    }

    /** Builds a spec; defaults follow the HF configs (expand 2, conv 4, eps 1e-5, biases as HF). */
    public static final class Builder {
        private final Kind kind;
        private int vocab, hidden, layers, dInner, dState = 16, convWidth = 4, dtRank;
        private int heads, headDim = 64, groups = 1, chunkSize = 256, normGroupSize;
        private boolean useBias, useConvBias = true, tieEmbeddings = true;
        private float eps = 1e-5f, dtMin = 0f, dtMax = Float.POSITIVE_INFINITY;
        private int padTokenId = -1;

        Builder(Kind kind) {
            this.kind = kind;
        }

        public Builder vocab(int v) { this.vocab = v; return this; }
        public Builder hidden(int v) { this.hidden = v; return this; }
        public Builder layers(int v) { this.layers = v; return this; }
        public Builder dInner(int v) { this.dInner = v; return this; }
        public Builder dState(int v) { this.dState = v; return this; }
        public Builder convWidth(int v) { this.convWidth = v; return this; }
        public Builder dtRank(int v) { this.dtRank = v; return this; }
        public Builder heads(int v) { this.heads = v; return this; }
        public Builder headDim(int v) { this.headDim = v; return this; }
        public Builder groups(int v) { this.groups = v; return this; }
        public Builder chunkSize(int v) { this.chunkSize = v; return this; }
        /** Gated-norm group size (Mamba-2); 0 = the whole d (transformers). */
        public Builder normGroupSize(int v) { this.normGroupSize = v; return this; }
        public Builder useBias(boolean v) { this.useBias = v; return this; }
        public Builder useConvBias(boolean v) { this.useConvBias = v; return this; }
        public Builder tieEmbeddings(boolean v) { this.tieEmbeddings = v; return this; }
        public Builder eps(float v) { this.eps = v; return this; }
        public Builder dtLimit(float min, float max) { this.dtMin = min; this.dtMax = max; return this; }
        public Builder padTokenId(int v) { this.padTokenId = v; return this; }

        public ModelSpec build() {
            return new ModelSpec(this);
        }
    }
}
