package dev.ssm4j.core.config;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Configuration of a Mamba-2 (SSD) language model: transformers' {@code Mamba2Config}
 * ({@code "model_type": "mamba2"}), plus one ssm4j field for the gated norm. Field names are the
 * JSON names in snake case; defaults are transformers'.
 *
 * <pre>
 *   JSON field                 component               default     meaning (paper symbol)
 *   num_heads                  numHeads                128         H
 *   head_dim                   headDim                 64          P; H·P must equal expand·hidden_size
 *   vocab_size                 vocabSize               32768       V
 *   hidden_size                hiddenSize              4096        d_model = D
 *   state_size                 stateSize               128         N
 *   num_hidden_layers          numHiddenLayers         64
 *   layer_norm_epsilon         layerNormEpsilon        1e-5        ε of both RMSNorms
 *   expand                     expand                  2           d_inner = expand·D
 *   conv_kernel                convKernel              4           causal depthwise conv width (2..8)
 *   n_groups                   nGroups                 8           G groups sharing B and C; divides H
 *   use_bias                   useBias                 false       bias in in_proj / out_proj
 *   use_conv_bias              useConvBias             true
 *   hidden_act                 hiddenAct               "silu"      only silu is implemented
 *   initializer_range          initializerRange        0.1
 *   residual_in_fp32           residualInFp32          true
 *   time_step_rank             timeStepRank            "auto"      ceil(D/16); not used by the SSD math
 *   time_step_min/max/floor    timeStepMin/Max/Floor   1e-3/0.1/1e-4   Δ (dt_bias) init
 *   time_step_limit            timeStepLimitMin/Max    [0, inf]    clamp of Δ after softplus; read as a number,
 *                                                                  Infinity (Python), {"__float__": "Infinity"}
 *                                                                  (transformers 5) or a huge number; written as
 *                                                                  Infinity, which every transformers version reads
 *   rescale_prenorm_residual   rescalePrenormResidual  false
 *   rms_norm                   rmsNorm                 true        false: no norm, y·silu(z) only (mamba_ssm rmsnorm=False)
 *   chunk_size                 chunkSize               256         SSD chunk length Q
 *   tie_word_embeddings        tieWordEmbeddings       false
 *   pad/bos/eos_token_id       pad/bos/eosTokenId(s)   1/0/[2]
 *   norm_group_size (ssm4j)    normGroupSize           intermediate_size
 * </pre>
 *
 * <h2>norm_group_size (ours)</h2>
 * The gated RMSNorm computes {@code y · silu(z)} and normalizes it in groups of
 * {@code norm_group_size} consecutive channels, each group with its own mean square. transformers'
 * MambaRMSNormGated normalizes the whole width at once — that is the default
 * ({@code norm_group_size = intermediate_size}, one group). The original mamba_ssm Mamba2 block
 * normalizes per B/C group: {@code norm_group_size = intermediate_size / n_groups}; set that to run
 * checkpoints trained with mamba_ssm exactly. It must divide intermediate_size. When it equals
 * intermediate_size it is not written, so transformers' files stay unchanged. The order is always
 * "gate, then normalize" (mamba_ssm's {@code norm_before_gate=False}, transformers' only mode): a
 * file saying {@code "norm_before_gate": true} is rejected; false is accepted and kept.
 */
public record Mamba2Config(
        int numHeads,
        int headDim,
        int vocabSize,
        int hiddenSize,
        int stateSize,
        int numHiddenLayers,
        double layerNormEpsilon,
        int expand,
        int convKernel,
        int nGroups,
        boolean useBias,
        boolean useConvBias,
        String hiddenAct,
        double initializerRange,
        boolean residualInFp32,
        int timeStepRank,
        double timeStepMin,
        double timeStepMax,
        double timeStepFloor,
        double timeStepLimitMin,
        double timeStepLimitMax,
        boolean rescalePrenormResidual,
        boolean rmsNorm,
        int chunkSize,
        boolean tieWordEmbeddings,
        Integer padTokenId,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        int normGroupSize,
        Map<String, Object> extra) implements ModelConfig {

    public static final String MODEL_TYPE = "mamba2";
    /** Our JSON field for the gated-norm group width (see the class comment). */
    public static final String NORM_GROUP_SIZE = "norm_group_size";

    /** The JSON fields this record interprets (everything else goes to {@link #extra()}). */
    public static final Set<String> KNOWN = Set.of("model_type", "num_heads", "head_dim", "vocab_size", "hidden_size", "state_size",
            "num_hidden_layers", "layer_norm_epsilon", "expand", "conv_kernel", "n_groups", "use_bias", "use_conv_bias",
            "hidden_act", "initializer_range", "residual_in_fp32", "time_step_rank", "time_step_min", "time_step_max",
            "time_step_floor", "time_step_limit", "rescale_prenorm_residual", "rms_norm", "chunk_size", "tie_word_embeddings",
            "pad_token_id", "bos_token_id", "eos_token_id", NORM_GROUP_SIZE);

    /** Validates; IllegalArgumentException "invalid mamba2 config: field 'x': ..." otherwise. */
    public Mamba2Config {
        eosTokenIds = List.copyOf(eosTokenIds);
        try {
            extra = Fields.extraCopy(extra, KNOWN);
            Fields.positive("num_heads", numHeads);
            Fields.positive("head_dim", headDim);
            Fields.positive("vocab_size", vocabSize);
            Fields.positive("hidden_size", hiddenSize);
            Fields.positive("state_size", stateSize);
            Fields.positive("num_hidden_layers", numHiddenLayers);
            Fields.positive("expand", expand);
            Fields.positive("n_groups", nGroups);
            Fields.positive("chunk_size", chunkSize);
            Fields.positive("time_step_rank", timeStepRank);
            Fields.positiveFinite("layer_norm_epsilon", layerNormEpsilon);
            Fields.convKernel(convKernel);
            Fields.silu(hiddenAct);
            int inner = Fields.product("expand", "intermediate_size = expand x hidden_size", expand, hiddenSize);
            int heads = Fields.product("head_dim", "num_heads x head_dim", numHeads, headDim);
            if (heads != inner) {
                throw Fields.invalid("head_dim", "num_heads x head_dim = " + numHeads + " x " + headDim + " = " + heads
                        + " must equal intermediate_size = expand x hidden_size = " + expand + " x " + hiddenSize + " = " + inner);
            }
            if (numHeads % nGroups != 0) {
                throw Fields.invalid("n_groups", "n_groups = " + nGroups + " must divide num_heads = " + numHeads);
            }
            // conv_dim and in_proj width must fit an int
            Fields.product("n_groups", "n_groups x state_size", nGroups, stateSize);
            if ((long) 2 * inner + 2L * nGroups * stateSize + numHeads > Integer.MAX_VALUE) {
                throw Fields.invalid("hidden_size", "in_proj width 2 x intermediate_size + 2 x n_groups x state_size + num_heads exceeds an int");
            }
            if (normGroupSize <= 0 || inner % normGroupSize != 0) {
                throw Fields.invalid(NORM_GROUP_SIZE, "expected a positive divisor of intermediate_size = " + inner + " (" + inner
                        + " for transformers' whole-width norm, " + (inner % nGroups == 0 ? String.valueOf(inner / nGroups) : "intermediate_size / n_groups")
                        + " for mamba_ssm's per-group norm), found " + normGroupSize);
            }
            if (!(initializerRange >= 0) || Double.isInfinite(initializerRange)) {
                throw Fields.invalid("initializer_range", "expected a finite number >= 0, found " + initializerRange);
            }
            Fields.timeStepInit(timeStepMin, timeStepMax, timeStepFloor);
            if (!(timeStepLimitMin >= 0) || !(timeStepLimitMax > timeStepLimitMin)) {
                throw Fields.invalid("time_step_limit", "expected [min, max] with 0 <= min < max (max may be Infinity), found ["
                        + timeStepLimitMin + ", " + timeStepLimitMax + "]");
            }
            Fields.tokenId("pad_token_id", padTokenId, vocabSize);
            Fields.tokenId("bos_token_id", bosTokenId, vocabSize);
            Fields.tokenIds("eos_token_id", eosTokenIds, vocabSize);
            if (Boolean.TRUE.equals(extra.get("norm_before_gate"))) {
                throw Fields.invalid("norm_before_gate", "true (normalize, then gate) is not supported; ssm4j gates first, like transformers");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid mamba2 config: " + e.getMessage(), e);
        }
    }

    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    /** d_inner = expand × hidden_size = num_heads × head_dim. */
    @Override
    public int intermediateSize() {
        return expand * hiddenSize;
    }

    /** Channels of the causal conv: x, B and C = intermediate_size + 2 · n_groups · state_size. */
    public int convDim() {
        return intermediateSize() + 2 * nGroups * stateSize;
    }

    /** Output width of in_proj: z, xBC and dt = 2 · intermediate_size + 2 · n_groups · state_size + num_heads. */
    public int inProjSize() {
        return intermediateSize() + convDim() + numHeads;
    }

    /** Number of groups of the gated RMSNorm: intermediate_size / norm_group_size (1 = transformers). */
    public int normGroups() {
        return intermediateSize() / normGroupSize;
    }

    /** Heads per B/C group: num_heads / n_groups. */
    public int headsPerGroup() {
        return numHeads / nGroups;
    }

    /** False when time_step_limit is (0, ∞) or so wide (≥ Float.MAX_VALUE) that clamping is a no-op. */
    public boolean hasTimeStepLimit() {
        return timeStepLimitMin > 0 || timeStepLimitMax < Float.MAX_VALUE;
    }

    /** The first eos id, or -1 if there is none. */
    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.get(0);
    }

    /** Reads the fields of a parsed config.json; errors start with {@code source}. */
    public static Mamba2Config fromJson(Map<String, ?> json, String source) {
        try {
            if (!MODEL_TYPE.equals(json.get("model_type"))) {
                throw Fields.type("model_type", "\"" + MODEL_TYPE + "\"", json.get("model_type"));
            }
            Fields f = new Fields(json);
            Builder b = builder();
            b.numHeads(f.integer("num_heads", b.numHeads))
                    .headDim(f.integer("head_dim", b.headDim))
                    .vocabSize(f.integer("vocab_size", b.vocabSize))
                    .hiddenSize(f.integer("hidden_size", b.hiddenSize))
                    .stateSize(f.integer("state_size", b.stateSize))
                    .numHiddenLayers(f.integer("num_hidden_layers", b.numHiddenLayers))
                    .layerNormEpsilon(f.number("layer_norm_epsilon", b.layerNormEpsilon))
                    .expand(f.integer("expand", b.expand))
                    .convKernel(f.integer("conv_kernel", b.convKernel))
                    .nGroups(f.integer("n_groups", b.nGroups))
                    .useBias(f.bool("use_bias", b.useBias))
                    .useConvBias(f.bool("use_conv_bias", b.useConvBias))
                    .hiddenAct(f.string("hidden_act", b.hiddenAct))
                    .initializerRange(f.number("initializer_range", b.initializerRange))
                    .residualInFp32(f.bool("residual_in_fp32", b.residualInFp32))
                    .timeStepRank(f.intOrAuto("time_step_rank"))
                    .timeStepMin(f.number("time_step_min", b.timeStepMin))
                    .timeStepMax(f.number("time_step_max", b.timeStepMax))
                    .timeStepFloor(f.number("time_step_floor", b.timeStepFloor));
            double[] limit = f.pair("time_step_limit", new double[] {b.timeStepLimitMin, b.timeStepLimitMax});
            b.timeStepLimit(limit[0], limit[1])
                    .rescalePrenormResidual(f.bool("rescale_prenorm_residual", b.rescalePrenormResidual))
                    .rmsNorm(f.bool("rms_norm", b.rmsNorm))
                    .chunkSize(f.integer("chunk_size", b.chunkSize))
                    .tieWordEmbeddings(f.bool("tie_word_embeddings", b.tieWordEmbeddings))
                    .padTokenId(f.nullableInt("pad_token_id", b.padTokenId))
                    .bosTokenId(f.nullableInt("bos_token_id", b.bosTokenId))
                    .eosTokenIds(f.intOrList("eos_token_id", b.eosTokenIds));
            if (f.has(NORM_GROUP_SIZE)) b.normGroupSize(f.integer(NORM_GROUP_SIZE, 0));
            Object beforeGate = json.get("norm_before_gate"); // kept as an extra; true is rejected by the constructor
            if (beforeGate != null && !(beforeGate instanceof Boolean)) throw Fields.type("norm_before_gate", "true or false", beforeGate);
            b.extra(f.extras());
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new TreeMap<>(extra);
        m.put("model_type", MODEL_TYPE);
        m.put("num_heads", numHeads);
        m.put("head_dim", headDim);
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("state_size", stateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("layer_norm_epsilon", layerNormEpsilon);
        m.put("expand", expand);
        m.put("conv_kernel", convKernel);
        m.put("n_groups", nGroups);
        m.put("use_bias", useBias);
        m.put("use_conv_bias", useConvBias);
        m.put("hidden_act", hiddenAct);
        m.put("initializer_range", initializerRange);
        m.put("residual_in_fp32", residualInFp32);
        m.put("time_step_rank", timeStepRank);
        m.put("time_step_min", timeStepMin);
        m.put("time_step_max", timeStepMax);
        m.put("time_step_floor", timeStepFloor);
        m.put("time_step_limit", List.of(timeStepLimitMin, timeStepLimitMax));
        m.put("rescale_prenorm_residual", rescalePrenormResidual);
        m.put("rms_norm", rmsNorm);
        m.put("chunk_size", chunkSize);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("pad_token_id", padTokenId);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", Fields.eosJson(eosTokenIds));
        if (normGroupSize != intermediateSize()) m.put(NORM_GROUP_SIZE, normGroupSize);
        return m;
    }

    /** A builder holding transformers' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.numHeads = numHeads;
        b.headDim = headDim;
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.stateSize = stateSize;
        b.numHiddenLayers = numHiddenLayers;
        b.layerNormEpsilon = layerNormEpsilon;
        b.expand = expand;
        b.convKernel = convKernel;
        b.nGroups = nGroups;
        b.useBias = useBias;
        b.useConvBias = useConvBias;
        b.hiddenAct = hiddenAct;
        b.initializerRange = initializerRange;
        b.residualInFp32 = residualInFp32;
        b.timeStepRank = timeStepRank;
        b.timeStepMin = timeStepMin;
        b.timeStepMax = timeStepMax;
        b.timeStepFloor = timeStepFloor;
        b.timeStepLimitMin = timeStepLimitMin;
        b.timeStepLimitMax = timeStepLimitMax;
        b.rescalePrenormResidual = rescalePrenormResidual;
        b.rmsNorm = rmsNorm;
        b.chunkSize = chunkSize;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId;
        b.eosTokenIds = eosTokenIds;
        b.normGroupSize = normGroupSize == intermediateSize() ? null : normGroupSize;
        b.extra = extra;
        return b;
    }

    /** Mutable builder with transformers' defaults; {@link #build()} validates. */
    public static final class Builder {
        int numHeads = 128;
        int headDim = 64;
        int vocabSize = 32768;
        int hiddenSize = 4096;
        int stateSize = 128;
        int numHiddenLayers = 64;
        double layerNormEpsilon = 1e-5;
        int expand = 2;
        int convKernel = 4;
        int nGroups = 8;
        boolean useBias = false;
        boolean useConvBias = true;
        String hiddenAct = "silu";
        double initializerRange = 0.1;
        boolean residualInFp32 = true;
        Integer timeStepRank = null; // "auto"
        double timeStepMin = 0.001;
        double timeStepMax = 0.1;
        double timeStepFloor = 1e-4;
        double timeStepLimitMin = 0.0;
        double timeStepLimitMax = Double.POSITIVE_INFINITY;
        boolean rescalePrenormResidual = false;
        boolean rmsNorm = true;
        int chunkSize = 256;
        boolean tieWordEmbeddings = false;
        Integer padTokenId = 1;
        Integer bosTokenId = 0;
        List<Integer> eosTokenIds = List.of(2);
        Integer normGroupSize = null; // = intermediate_size
        Map<String, Object> extra = Map.of();

        Builder() {}

        public Builder numHeads(int v) { numHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder stateSize(int v) { stateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder layerNormEpsilon(double v) { layerNormEpsilon = v; return this; }
        public Builder expand(int v) { expand = v; return this; }
        public Builder convKernel(int v) { convKernel = v; return this; }
        public Builder nGroups(int v) { nGroups = v; return this; }
        public Builder useBias(boolean v) { useBias = v; return this; }
        public Builder useConvBias(boolean v) { useConvBias = v; return this; }
        public Builder hiddenAct(String v) { hiddenAct = v; return this; }
        public Builder initializerRange(double v) { initializerRange = v; return this; }
        public Builder residualInFp32(boolean v) { residualInFp32 = v; return this; }
        /** null = "auto" (ceil(hidden_size / 16)). */
        public Builder timeStepRank(Integer v) { timeStepRank = v; return this; }
        public Builder timeStepMin(double v) { timeStepMin = v; return this; }
        public Builder timeStepMax(double v) { timeStepMax = v; return this; }
        public Builder timeStepFloor(double v) { timeStepFloor = v; return this; }
        public Builder timeStepLimit(double min, double max) { timeStepLimitMin = min; timeStepLimitMax = max; return this; }
        public Builder rescalePrenormResidual(boolean v) { rescalePrenormResidual = v; return this; }
        public Builder rmsNorm(boolean v) { rmsNorm = v; return this; }
        public Builder chunkSize(int v) { chunkSize = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder padTokenId(Integer v) { padTokenId = v; return this; }
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder eosTokenId(int v) { eosTokenIds = List.of(v); return this; }
        /** Gated-norm group width; null = intermediate_size (transformers' whole-width norm). */
        public Builder normGroupSize(Integer v) { normGroupSize = v; return this; }
        /** mamba_ssm's per-group norm: norm_group_size = intermediate_size / n_groups (set sizes first). */
        public Builder mambaSsmGroupedNorm() { normGroupSize = expand * hiddenSize / nGroups; return this; }
        /** Extra fields kept verbatim on write (must not hold the fields above). */
        public Builder extra(Map<String, Object> v) { extra = v; return this; }

        public Mamba2Config build() {
            int rank = timeStepRank == null ? MambaConfig.autoTimeStepRank(hiddenSize) : timeStepRank;
            int groupSize = normGroupSize == null ? expand * hiddenSize : normGroupSize;
            return new Mamba2Config(numHeads, headDim, vocabSize, hiddenSize, stateSize, numHiddenLayers, layerNormEpsilon, expand,
                    convKernel, nGroups, useBias, useConvBias, hiddenAct, initializerRange, residualInFp32, rank, timeStepMin,
                    timeStepMax, timeStepFloor, timeStepLimitMin, timeStepLimitMax, rescalePrenormResidual, rmsNorm, chunkSize,
                    tieWordEmbeddings, padTokenId, bosTokenId, eosTokenIds, groupSize, extra);
        }
    }
}
