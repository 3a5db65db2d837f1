package dev.ssm4j.core.config;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Configuration of a Mamba-1 (S6) language model: transformers' {@code MambaConfig}
 * ({@code "model_type": "mamba"}, e.g. state-spaces/mamba-130m-hf). Field names are the JSON
 * names in snake case; defaults are transformers'.
 *
 * <pre>
 *   JSON field                 component               default    meaning (paper symbol)
 *   vocab_size                 vocabSize               50280      V
 *   hidden_size                hiddenSize              768        d_model = D
 *   state_size                 stateSize               16         N
 *   num_hidden_layers          numHiddenLayers         32
 *   layer_norm_epsilon         layerNormEpsilon        1e-5       RMSNorm ε
 *   expand                     expand                  2          E; d_inner = E·D (intermediate_size)
 *   conv_kernel                convKernel              4          causal depthwise conv width (2..8)
 *   use_bias                   useBias                 false      bias in in_proj / out_proj
 *   use_conv_bias              useConvBias             true       bias in conv1d
 *   hidden_act                 hiddenAct               "silu"     only silu is implemented
 *   initializer_range          initializerRange        0.1
 *   residual_in_fp32           residualInFp32          true
 *   time_step_rank             timeStepRank            "auto"     R (rank of Δ's projection); auto = ceil(D/16)
 *   time_step_scale            timeStepScale           1.0        Δ init: dt_proj weight scale
 *   time_step_min/max          timeStepMin/Max         1e-3/0.1   Δ init range (log-uniform)
 *   time_step_init_scheme      timeStepInitScheme      "random"   "random" or "constant"
 *   time_step_floor            timeStepFloor           1e-4       Δ init floor
 *   rescale_prenorm_residual   rescalePrenormResidual  false      out_proj init rescaled by 1/sqrt(layers)
 *   tie_word_embeddings        tieWordEmbeddings       true       lm_head shares the embedding
 *   pad/bos/eos_token_id       pad/bos/eosTokenId(s)   0/0/[0]
 * </pre>
 * {@code intermediate_size} is derived (expand × hidden_size) and written for transformers'
 * sake; a file whose intermediate_size disagrees is rejected. Anything else (use_cache,
 * architectures, torch_dtype, ...) is kept in {@link #extra()}.
 */
public record MambaConfig(
        int vocabSize,
        int hiddenSize,
        int stateSize,
        int numHiddenLayers,
        double layerNormEpsilon,
        int expand,
        int convKernel,
        boolean useBias,
        boolean useConvBias,
        String hiddenAct,
        double initializerRange,
        boolean residualInFp32,
        int timeStepRank,
        double timeStepScale,
        double timeStepMin,
        double timeStepMax,
        String timeStepInitScheme,
        double timeStepFloor,
        boolean rescalePrenormResidual,
        boolean tieWordEmbeddings,
        Integer padTokenId,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Map<String, Object> extra) implements ModelConfig {

    public static final String MODEL_TYPE = "mamba";

    /** The JSON fields this record interprets (everything else goes to {@link #extra()}). */
    public static final java.util.Set<String> KNOWN = java.util.Set.of("model_type", "vocab_size", "hidden_size", "state_size",
            "num_hidden_layers", "layer_norm_epsilon", "expand", "intermediate_size", "conv_kernel", "use_bias", "use_conv_bias",
            "hidden_act", "initializer_range", "residual_in_fp32", "time_step_rank", "time_step_scale", "time_step_min",
            "time_step_max", "time_step_init_scheme", "time_step_floor", "rescale_prenorm_residual", "tie_word_embeddings",
            "pad_token_id", "bos_token_id", "eos_token_id");

    /** Validates; IllegalArgumentException "invalid mamba config: field 'x': ..." otherwise. */
    public MambaConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        try {
            extra = Fields.extraCopy(extra, KNOWN);
            validate(vocabSize, hiddenSize, stateSize, numHiddenLayers, layerNormEpsilon, expand, convKernel, hiddenAct,
                    initializerRange, timeStepRank, timeStepScale, timeStepMin, timeStepMax, timeStepInitScheme, timeStepFloor,
                    padTokenId, bosTokenId, eosTokenIds);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid mamba config: " + e.getMessage(), e);
        }
    }

    private static void validate(int vocabSize, int hiddenSize, int stateSize, int numHiddenLayers, double eps, int expand,
                                 int convKernel, String hiddenAct, double initializerRange, int timeStepRank, double timeStepScale,
                                 double timeStepMin, double timeStepMax, String timeStepInitScheme, double timeStepFloor,
                                 Integer pad, Integer bos, List<Integer> eos) {
        Fields.positive("vocab_size", vocabSize);
        Fields.positive("hidden_size", hiddenSize);
        Fields.positive("state_size", stateSize);
        Fields.positive("num_hidden_layers", numHiddenLayers);
        Fields.positive("expand", expand);
        Fields.product("expand", "intermediate_size = expand x hidden_size", expand, hiddenSize);
        Fields.positive("time_step_rank", timeStepRank);
        Fields.positiveFinite("layer_norm_epsilon", eps);
        Fields.convKernel(convKernel);
        Fields.silu(hiddenAct);
        if (!(initializerRange >= 0) || Double.isInfinite(initializerRange)) {
            throw Fields.invalid("initializer_range", "expected a finite number >= 0, found " + initializerRange);
        }
        Fields.positiveFinite("time_step_scale", timeStepScale);
        Fields.timeStepInit(timeStepMin, timeStepMax, timeStepFloor);
        if (!timeStepInitScheme.equals("random") && !timeStepInitScheme.equals("constant")) {
            throw Fields.invalid("time_step_init_scheme", "expected \"random\" or \"constant\", found \"" + timeStepInitScheme + "\"");
        }
        Fields.tokenId("pad_token_id", pad, vocabSize);
        Fields.tokenId("bos_token_id", bos, vocabSize);
        Fields.tokenIds("eos_token_id", eos, vocabSize);
    }

    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    /** d_inner = expand × hidden_size. */
    @Override
    public int intermediateSize() {
        return expand * hiddenSize;
    }

    /** The first eos id, or -1 if there is none. */
    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.get(0);
    }

    /** transformers' default for the rank of Δ's projection: ceil(hidden_size / 16). */
    public static int autoTimeStepRank(int hiddenSize) {
        return (hiddenSize + 15) / 16;
    }

    /** Reads the fields of a parsed config.json; errors start with {@code source}. */
    public static MambaConfig fromJson(Map<String, ?> json, String source) {
        try {
            if (!MODEL_TYPE.equals(json.get("model_type"))) {
                throw Fields.type("model_type", "\"" + MODEL_TYPE + "\"", json.get("model_type"));
            }
            Fields f = new Fields(json);
            Builder b = builder();
            b.vocabSize(f.integer("vocab_size", b.vocabSize))
                    .hiddenSize(f.integer("hidden_size", b.hiddenSize))
                    .stateSize(f.integer("state_size", b.stateSize))
                    .numHiddenLayers(f.integer("num_hidden_layers", b.numHiddenLayers))
                    .layerNormEpsilon(f.number("layer_norm_epsilon", b.layerNormEpsilon))
                    .expand(f.integer("expand", b.expand))
                    .convKernel(f.integer("conv_kernel", b.convKernel))
                    .useBias(f.bool("use_bias", b.useBias))
                    .useConvBias(f.bool("use_conv_bias", b.useConvBias))
                    .hiddenAct(f.string("hidden_act", b.hiddenAct))
                    .initializerRange(f.number("initializer_range", b.initializerRange))
                    .residualInFp32(f.bool("residual_in_fp32", b.residualInFp32))
                    .timeStepScale(f.number("time_step_scale", b.timeStepScale))
                    .timeStepMin(f.number("time_step_min", b.timeStepMin))
                    .timeStepMax(f.number("time_step_max", b.timeStepMax))
                    .timeStepInitScheme(f.string("time_step_init_scheme", b.timeStepInitScheme))
                    .timeStepFloor(f.number("time_step_floor", b.timeStepFloor))
                    .rescalePrenormResidual(f.bool("rescale_prenorm_residual", b.rescalePrenormResidual))
                    .tieWordEmbeddings(f.bool("tie_word_embeddings", b.tieWordEmbeddings))
                    .padTokenId(f.nullableInt("pad_token_id", b.padTokenId))
                    .bosTokenId(f.nullableInt("bos_token_id", b.bosTokenId))
                    .eosTokenIds(f.intOrList("eos_token_id", b.eosTokenIds));
            b.timeStepRank(f.intOrAuto("time_step_rank")); // null = "auto", resolved in build()
            if (f.has("intermediate_size")) {
                int given = f.integer("intermediate_size", 0);
                if ((long) given != (long) b.expand * b.hiddenSize) {
                    throw Fields.invalid("intermediate_size", "expected expand x hidden_size = " + b.expand + " x " + b.hiddenSize
                            + " = " + ((long) b.expand * b.hiddenSize) + ", found " + given);
                }
            }
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
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("state_size", stateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("layer_norm_epsilon", layerNormEpsilon);
        m.put("expand", expand);
        m.put("intermediate_size", intermediateSize());
        m.put("conv_kernel", convKernel);
        m.put("use_bias", useBias);
        m.put("use_conv_bias", useConvBias);
        m.put("hidden_act", hiddenAct);
        m.put("initializer_range", initializerRange);
        m.put("residual_in_fp32", residualInFp32);
        m.put("time_step_rank", timeStepRank);
        m.put("time_step_scale", timeStepScale);
        m.put("time_step_min", timeStepMin);
        m.put("time_step_max", timeStepMax);
        m.put("time_step_init_scheme", timeStepInitScheme);
        m.put("time_step_floor", timeStepFloor);
        m.put("rescale_prenorm_residual", rescalePrenormResidual);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("pad_token_id", padTokenId);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", Fields.eosJson(eosTokenIds));
        return m;
    }

    /** A builder holding transformers' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.stateSize = stateSize;
        b.numHiddenLayers = numHiddenLayers;
        b.layerNormEpsilon = layerNormEpsilon;
        b.expand = expand;
        b.convKernel = convKernel;
        b.useBias = useBias;
        b.useConvBias = useConvBias;
        b.hiddenAct = hiddenAct;
        b.initializerRange = initializerRange;
        b.residualInFp32 = residualInFp32;
        b.timeStepRank = timeStepRank;
        b.timeStepScale = timeStepScale;
        b.timeStepMin = timeStepMin;
        b.timeStepMax = timeStepMax;
        b.timeStepInitScheme = timeStepInitScheme;
        b.timeStepFloor = timeStepFloor;
        b.rescalePrenormResidual = rescalePrenormResidual;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId;
        b.eosTokenIds = eosTokenIds;
        b.extra = extra;
        return b;
    }

    /** Mutable builder with transformers' defaults; {@link #build()} validates. */
    public static final class Builder {
        int vocabSize = 50280;
        int hiddenSize = 768;
        int stateSize = 16;
        int numHiddenLayers = 32;
        double layerNormEpsilon = 1e-5;
        int expand = 2;
        int convKernel = 4;
        boolean useBias = false;
        boolean useConvBias = true;
        String hiddenAct = "silu";
        double initializerRange = 0.1;
        boolean residualInFp32 = true;
        Integer timeStepRank = null; // "auto"
        double timeStepScale = 1.0;
        double timeStepMin = 0.001;
        double timeStepMax = 0.1;
        String timeStepInitScheme = "random";
        double timeStepFloor = 1e-4;
        boolean rescalePrenormResidual = false;
        boolean tieWordEmbeddings = true;
        Integer padTokenId = 0;
        Integer bosTokenId = 0;
        List<Integer> eosTokenIds = List.of(0);
        Map<String, Object> extra = Map.of();

        Builder() {}

        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder stateSize(int v) { stateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder layerNormEpsilon(double v) { layerNormEpsilon = v; return this; }
        public Builder expand(int v) { expand = v; return this; }
        public Builder convKernel(int v) { convKernel = v; return this; }
        public Builder useBias(boolean v) { useBias = v; return this; }
        public Builder useConvBias(boolean v) { useConvBias = v; return this; }
        public Builder hiddenAct(String v) { hiddenAct = v; return this; }
        public Builder initializerRange(double v) { initializerRange = v; return this; }
        public Builder residualInFp32(boolean v) { residualInFp32 = v; return this; }
        /** null = "auto" (ceil(hidden_size / 16), resolved at build time). */
        public Builder timeStepRank(Integer v) { timeStepRank = v; return this; }
        public Builder timeStepScale(double v) { timeStepScale = v; return this; }
        public Builder timeStepMin(double v) { timeStepMin = v; return this; }
        public Builder timeStepMax(double v) { timeStepMax = v; return this; }
        public Builder timeStepInitScheme(String v) { timeStepInitScheme = v; return this; }
        public Builder timeStepFloor(double v) { timeStepFloor = v; return this; }
        public Builder rescalePrenormResidual(boolean v) { rescalePrenormResidual = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder padTokenId(Integer v) { padTokenId = v; return this; }
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder eosTokenId(int v) { eosTokenIds = List.of(v); return this; }
        /** Extra fields kept verbatim on write (must not hold the fields above). */
        public Builder extra(Map<String, Object> v) { extra = v; return this; }

        public MambaConfig build() {
            int rank = timeStepRank == null ? autoTimeStepRank(hiddenSize) : timeStepRank;
            return new MambaConfig(vocabSize, hiddenSize, stateSize, numHiddenLayers, layerNormEpsilon, expand, convKernel,
                    useBias, useConvBias, hiddenAct, initializerRange, residualInFp32, rank, timeStepScale, timeStepMin,
                    timeStepMax, timeStepInitScheme, timeStepFloor, rescalePrenormResidual, tieWordEmbeddings, padTokenId,
                    bosTokenId, eosTokenIds, extra);
        }
    }
}
