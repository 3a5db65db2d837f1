package dev.ssm4j.core.model;

import java.util.List;
import java.util.Map;

/**
 * config.json (as parsed JSON) → {@link ModelSpec}. TEMPORARY adapter until the coreio branch's
 * typed configs are merged.
 */
final class HfConfig {
    private HfConfig() {}

    static ModelSpec toSpec(Map<String, Object> cfg, String source) {
        String type = str(cfg, "model_type", null, source);
        ModelSpec.Kind kind;
        if ("mamba".equals(type)) kind = ModelSpec.Kind.MAMBA1;
        else if ("mamba2".equals(type)) kind = ModelSpec.Kind.MAMBA2;
        else throw new IllegalArgumentException(source + ": model_type '" + type
                + "' is not supported (ssm4j runs 'mamba' and 'mamba2')");
        String act = str(cfg, "hidden_act", "silu", source);
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new IllegalArgumentException(source + ": hidden_act '" + act + "' is not supported (only silu)");
        }
        int hidden = num(cfg, "hidden_size", source);
        int expand = cfg.containsKey("expand") ? num(cfg, "expand", source) : 2;
        ModelSpec.Builder b = ModelSpec.builder(kind).vocab(num(cfg, "vocab_size", source)).hidden(hidden)
                .layers(num(cfg, "num_hidden_layers", source)).dState(num(cfg, "state_size", source))
                .convWidth(cfg.containsKey("conv_kernel") ? num(cfg, "conv_kernel", source) : 4)
                .useBias(bool(cfg, "use_bias", false)).useConvBias(bool(cfg, "use_conv_bias", true))
                .eps((float) dbl(cfg, "layer_norm_epsilon", 1e-5))
                .tieEmbeddings(bool(cfg, "tie_word_embeddings", kind == ModelSpec.Kind.MAMBA1))
                .padTokenId(cfg.get("pad_token_id") instanceof Number n ? n.intValue() : -1);
        if (kind == ModelSpec.Kind.MAMBA1) {
            int inter = cfg.containsKey("intermediate_size") ? num(cfg, "intermediate_size", source) : expand * hidden;
            Object r = cfg.get("time_step_rank");
            int rank = r == null || "auto".equals(r) ? (hidden + 15) / 16 : num(cfg, "time_step_rank", source);
            b.dInner(inter).dtRank(rank);
        } else {
            b.dInner(expand * hidden).heads(num(cfg, "num_heads", source)).headDim(num(cfg, "head_dim", source))
                    .groups(num(cfg, "n_groups", source))
                    .chunkSize(cfg.containsKey("chunk_size") ? num(cfg, "chunk_size", source) : 256);
            Object lim = cfg.get("time_step_limit");
            if (lim instanceof List<?> l && l.size() == 2) {
                b.dtLimit((float) asDouble(l.get(0), source), (float) asDouble(l.get(1), source));
            }
        }
        return b.build();
    }

    /** A JSON number, or transformers 5's {"__float__": "Infinity"} encoding of a non-finite float. */
    static double asDouble(Object v, String source) {
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Map<?, ?> m && m.get("__float__") instanceof String s) {
            return switch (s) {
                case "Infinity", "inf" -> Double.POSITIVE_INFINITY;
                case "-Infinity", "-inf" -> Double.NEGATIVE_INFINITY;
                case "NaN", "nan" -> Double.NaN;
                default -> Double.parseDouble(s);
            };
        }
        throw new IllegalArgumentException(source + ": expected a number, got " + v);
    }

    private static int num(Map<String, Object> cfg, String key, String source) {
        Object v = cfg.get(key);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        throw new IllegalArgumentException(source + ": config field '" + key + "' must be a whole number, got " + v);
    }

    private static double dbl(Map<String, Object> cfg, String key, double dflt) {
        Object v = cfg.get(key);
        return v instanceof Number n ? n.doubleValue() : dflt;
    }

    private static boolean bool(Map<String, Object> cfg, String key, boolean dflt) {
        Object v = cfg.get(key);
        return v instanceof Boolean x ? x : dflt;
    }

    private static String str(Map<String, Object> cfg, String key, String dflt, String source) {
        Object v = cfg.get(key);
        if (v == null) {
            if (dflt != null) return dflt;
            throw new IllegalArgumentException(source + ": config field '" + key + "' is missing");
        }
        return v.toString();
    }
}
