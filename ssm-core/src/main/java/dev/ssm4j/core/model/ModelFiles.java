package dev.ssm4j.core.model;

import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writing a model directory: config.json + model.safetensors, HF names, tied lm_head omitted. */
final class ModelFiles {
    private ModelFiles() {}

    static void save(MambaLM lm, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (ParameterLayout.Entry e : lm.layout().entries()) {
            w.add(e.name(), dev.ssm4j.core.io.DType.F32, lm.parameter(e.name()), 0, e.shape());
        }
        w.write(dir.resolve("model.safetensors"));
        Json.write(dir.resolve("config.json"), config(lm.spec()));
    }

    /** The HF config.json of a spec (fields transformers reads for these models). */
    static Map<String, Object> config(ModelSpec s) {
        Map<String, Object> c = new LinkedHashMap<>();
        boolean m1 = s.kind == ModelSpec.Kind.MAMBA1;
        c.put("architectures", List.of(m1 ? "MambaForCausalLM" : "Mamba2ForCausalLM"));
        c.put("model_type", m1 ? "mamba" : "mamba2");
        c.put("vocab_size", s.vocab);
        c.put("hidden_size", s.hidden);
        c.put("num_hidden_layers", s.layers);
        c.put("state_size", s.dState);
        c.put("expand", s.dInner % s.hidden == 0 ? (Object) (s.dInner / s.hidden) : (Object) ((double) s.dInner / s.hidden));
        c.put("conv_kernel", s.convWidth);
        c.put("use_bias", s.useBias);
        c.put("use_conv_bias", s.useConvBias);
        c.put("layer_norm_epsilon", (double) s.eps);
        c.put("tie_word_embeddings", s.tieEmbeddings);
        c.put("hidden_act", "silu");
        c.put("residual_in_fp32", true);
        if (s.padTokenId >= 0) c.put("pad_token_id", s.padTokenId);
        if (m1) {
            c.put("intermediate_size", s.dInner);
            c.put("time_step_rank", s.dtRank);
        } else {
            c.put("num_heads", s.heads);
            c.put("head_dim", s.headDim);
            c.put("n_groups", s.groups);
            c.put("chunk_size", s.chunkSize);
            Object max = Float.isInfinite(s.dtMax) ? Map.of("__float__", "Infinity") : (Object) (double) s.dtMax;
            c.put("time_step_limit", List.of((double) s.dtMin, max));
        }
        return c;
    }
}
