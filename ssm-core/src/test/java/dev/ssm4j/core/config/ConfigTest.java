package dev.ssm4j.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @TempDir Path dir;

    // json.dumps(MambaConfig().to_dict(), sort_keys=True) and the same for Mamba2Config(), from
    // transformers 5.17 (transformers_version dropped).
    static final String HF_MAMBA_DEFAULTS = "{\"_name_or_path\": \"\", \"architectures\": null, \"bos_token_id\": 0, \"chunk_size_feed_forward\": 0, \"conv_kernel\": 4, \"dtype\": null, \"eos_token_id\": 0, \"expand\": 2, \"hidden_act\": \"silu\", \"hidden_size\": 768, \"id2label\": {\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"}, \"initializer_range\": 0.1, \"intermediate_size\": 1536, \"is_encoder_decoder\": false, \"label2id\": {\"LABEL_0\": 0, \"LABEL_1\": 1}, \"layer_norm_epsilon\": 1e-05, \"model_type\": \"mamba\", \"num_hidden_layers\": 32, \"output_attentions\": false, \"output_hidden_states\": false, \"pad_token_id\": 0, \"problem_type\": null, \"rescale_prenorm_residual\": false, \"residual_in_fp32\": true, \"return_dict\": true, \"state_size\": 16, \"tie_word_embeddings\": true, \"time_step_floor\": 0.0001, \"time_step_init_scheme\": \"random\", \"time_step_max\": 0.1, \"time_step_min\": 0.001, \"time_step_rank\": 48, \"time_step_scale\": 1.0, \"use_associative_scan\": true, \"use_bias\": false, \"use_cache\": true, \"use_conv_bias\": true, \"use_mambapy\": false, \"vocab_size\": 50280}";
    static final String HF_MAMBA2_DEFAULTS = "{\"_name_or_path\": \"\", \"architectures\": null, \"bos_token_id\": 0, \"chunk_size\": 256, \"chunk_size_feed_forward\": 0, \"conv_kernel\": 4, \"dtype\": null, \"eos_token_id\": 2, \"expand\": 2, \"head_dim\": 64, \"hidden_act\": \"silu\", \"hidden_size\": 4096, \"id2label\": {\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"}, \"initializer_range\": 0.1, \"is_encoder_decoder\": false, \"label2id\": {\"LABEL_0\": 0, \"LABEL_1\": 1}, \"layer_norm_epsilon\": 1e-05, \"model_type\": \"mamba2\", \"n_groups\": 8, \"num_heads\": 128, \"num_hidden_layers\": 64, \"output_attentions\": false, \"output_hidden_states\": false, \"pad_token_id\": 1, \"problem_type\": null, \"rescale_prenorm_residual\": false, \"residual_in_fp32\": true, \"return_dict\": true, \"state_size\": 128, \"tie_word_embeddings\": false, \"time_step_floor\": 0.0001, \"time_step_limit\": [0.0, Infinity], \"time_step_max\": 0.1, \"time_step_min\": 0.001, \"time_step_rank\": 256, \"use_bias\": false, \"use_cache\": true, \"use_conv_bias\": true, \"vocab_size\": 32768}";

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        return (Map<String, Object>) Json.parse(json);
    }

    @Test
    void defaultsAreTransformersDefaults() {
        MambaConfig hf = MambaConfig.fromJson(parse(HF_MAMBA_DEFAULTS), "hf");
        assertEquals(MambaConfig.builder().build(), hf.toBuilder().extra(Map.of()).build());
        assertEquals(1536, hf.intermediateSize());
        assertEquals(48, hf.timeStepRank());
        assertEquals(List.of(0), hf.eosTokenIds());
        assertTrue(hf.extra().containsKey("use_mambapy") && hf.extra().containsKey("id2label"));

        Mamba2Config hf2 = Mamba2Config.fromJson(parse(HF_MAMBA2_DEFAULTS), "hf");
        assertEquals(Mamba2Config.builder().build(), hf2.toBuilder().extra(Map.of()).build());
        assertEquals(Double.POSITIVE_INFINITY, hf2.timeStepLimitMax());
        assertFalse(hf2.hasTimeStepLimit());
        assertEquals(8192, hf2.intermediateSize());
        assertEquals(8192, hf2.normGroupSize(), "default: transformers' whole-width gated norm");
        assertEquals(1, hf2.normGroups());
        assertEquals(8192 + 2 * 8 * 128, hf2.convDim());
        assertEquals(2 * 8192 + 2 * 8 * 128 + 128, hf2.inProjSize());
        assertEquals(256, hf2.timeStepRank());
    }

    @Test
    void readsAMamba130mStyleConfigAndRoundTripsEveryField() throws IOException {
        // The fields state-spaces/mamba-130m-hf's config.json carries, including ones we do not interpret.
        String text = "{\"architectures\": [\"MambaForCausalLM\"], \"bos_token_id\": 0, \"conv_kernel\": 4, \"d_inner\": 1536,"
                + " \"d_model\": 768, \"eos_token_id\": 0, \"expand\": 2, \"fused_add_norm\": true, \"hidden_act\": \"silu\","
                + " \"hidden_size\": 768, \"initializer_range\": 0.1, \"intermediate_size\": 1536, \"layer_norm_epsilon\": 1e-05,"
                + " \"model_type\": \"mamba\", \"n_layer\": 24, \"num_hidden_layers\": 24, \"pad_token_id\": 0,"
                + " \"pad_vocab_size_multiple\": 8, \"rescale_prenorm_residual\": false, \"residual_in_fp32\": true,"
                + " \"rms_norm\": true, \"state_size\": 16, \"time_step_floor\": 0.0001, \"time_step_init_scheme\": \"random\","
                + " \"time_step_max\": 0.1, \"time_step_min\": 0.001, \"time_step_rank\": 48, \"time_step_scale\": 1.0,"
                + " \"torch_dtype\": \"float32\", \"transformers_version\": \"4.39.0.dev0\", \"use_bias\": false,"
                + " \"use_cache\": true, \"use_conv_bias\": true, \"vocab_size\": 50280}";
        Path file = dir.resolve("config.json");
        Files.writeString(file, text);
        MambaConfig c = assertInstanceOf(MambaConfig.class, ModelConfig.read(file));
        assertEquals(24, c.numHiddenLayers());
        assertEquals(768, c.hiddenSize());
        assertEquals(50280, c.vocabSize());
        assertEquals(1e-5, c.layerNormEpsilon());
        assertTrue(c.tieWordEmbeddings(), "absent → transformers default true");
        assertEquals(List.of("architectures", "d_inner", "d_model", "fused_add_norm", "n_layer", "pad_vocab_size_multiple",
                "rms_norm", "torch_dtype", "transformers_version", "use_cache"), List.copyOf(c.extra().keySet()));

        Path out = dir.resolve("out/config.json");
        c.write(out);
        Map<String, Object> written = new LinkedHashMap<>(parse(Files.readString(out)));
        assertEquals(true, written.remove("tie_word_embeddings"), "the one field added: the default made explicit");
        assertEquals(parse(text), written, "every field, known or not, written back with the same value");
        assertEquals(c, ModelConfig.read(out));
    }

    @Test
    void mamba2InfinityFormsAndOurNormField() throws IOException {
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("model_type", "mamba2");
        base.put("hidden_size", 64);
        base.put("num_heads", 8);
        base.put("head_dim", 16);
        base.put("n_groups", 2);
        base.put("state_size", 16);
        base.put("vocab_size", 256);
        base.put("num_hidden_layers", 2);
        for (String limit : List.of("[0.0, Infinity]", "[0.0, {\"__float__\": \"Infinity\"}]", "[0, 1e308]", "[0.0, \"inf\"]", "null")) {
            Map<String, Object> m = new LinkedHashMap<>(base);
            m.put("time_step_limit", Json.parse(limit));
            Mamba2Config c = Mamba2Config.fromJson(m, "x");
            assertEquals(0.0, c.timeStepLimitMin(), limit);
            assertTrue(c.timeStepLimitMax() >= 1e308, limit);
            assertFalse(c.hasTimeStepLimit(), limit);
        }
        Map<String, Object> m = new LinkedHashMap<>(base);
        m.put("time_step_limit", List.of(0.001, 0.2));
        m.put("norm_group_size", 32);
        m.put("norm_before_gate", false);
        m.put("rms_norm", true);
        m.put("custom_thing", Map.of("a", List.of(1, 2)));
        Mamba2Config c = Mamba2Config.fromJson(m, "x");
        assertTrue(c.hasTimeStepLimit());
        assertEquals(32, c.normGroupSize());
        assertEquals(4, c.normGroups());
        assertEquals(4, c.headsPerGroup());
        Path f = dir.resolve("m2.json");
        c.write(f);
        Mamba2Config back = assertInstanceOf(Mamba2Config.class, ModelConfig.read(f));
        assertEquals(c, back);
        Map<?, ?> written = (Map<?, ?>) Json.parse(f);
        assertEquals(32L, written.get("norm_group_size"));
        assertEquals(false, written.get("norm_before_gate"));
        assertEquals(Map.of("a", List.of(1L, 2L)), written.get("custom_thing"));

        // Default (whole width) is not written, so transformers' files stay as they were; infinity as Infinity.
        Mamba2Config d = Mamba2Config.fromJson(base, "x");
        d.write(f);
        assertFalse(((Map<?, ?>) Json.parse(f)).containsKey("norm_group_size"));
        assertTrue(Files.readString(f).contains("\"time_step_limit\": [0.0, Infinity]"), Files.readString(f));
        assertEquals(d, ModelConfig.read(f));

        Mamba2Config grouped = Mamba2Config.builder().hiddenSize(64).numHeads(8).headDim(16).nGroups(2).mambaSsmGroupedNorm().build();
        assertEquals(64, grouped.normGroupSize(), "intermediate 128 / n_groups 2");
        assertEquals(grouped, grouped.toBuilder().build());
    }

    @Test
    void builderRoundTrips() throws IOException {
        MambaConfig small = MambaConfig.builder().vocabSize(256).hiddenSize(64).numHiddenLayers(2).stateSize(8)
                .convKernel(3).useBias(true).timeStepRank(7).tieWordEmbeddings(false).padTokenId(null).eosTokenIds(List.of(1, 2))
                .extra(Map.of("architectures", List.of("MambaForCausalLM"))).build();
        Path f = dir.resolve("small.json");
        small.write(f);
        assertEquals(small, ModelConfig.read(f));
        Map<?, ?> j = (Map<?, ?>) Json.parse(f);
        assertTrue(j.containsKey("pad_token_id") && j.get("pad_token_id") == null);
        assertEquals(List.of(1L, 2L), j.get("eos_token_id"));
        assertEquals(128L, j.get("intermediate_size"));
        assertEquals(4, MambaConfig.builder().hiddenSize(64).build().timeStepRank(), "auto = ceil(64/16)");
        assertEquals(5, MambaConfig.builder().hiddenSize(65).build().timeStepRank(), "auto = ceil(65/16)");
        Map<String, Object> auto = parse("{\"model_type\": \"mamba\", \"hidden_size\": 100, \"time_step_rank\": \"auto\"}");
        assertEquals(7, MambaConfig.fromJson(auto, "x").timeStepRank());
    }

    @Test
    void typedConfigOfACheckpoint() throws IOException {
        // Names and shapes as transformers' Mamba2ForCausalLM saves them (checked once against save_pretrained).
        Mamba2Config c = Mamba2Config.builder().vocabSize(64).hiddenSize(32).numHeads(8).headDim(8).nGroups(2).stateSize(8)
                .numHiddenLayers(1).chunkSize(8).build();
        Path d = Files.createDirectories(dir.resolve("ck"));
        c.write(d.resolve("config.json"));
        int dd = c.hiddenSize(), e = c.intermediateSize(), h = c.numHeads();
        new dev.ssm4j.core.io.SafetensorsWriter()
                .addF32("backbone.embeddings.weight", new float[64 * dd], 64, dd)
                .addF32("backbone.layers.0.norm.weight", new float[dd], dd)
                .addF32("backbone.layers.0.mixer.dt_bias", new float[h], h)
                .addF32("backbone.layers.0.mixer.A_log", new float[h], h)
                .addF32("backbone.layers.0.mixer.D", new float[h], h)
                .addF32("backbone.layers.0.mixer.conv1d.weight", new float[c.convDim() * 4], c.convDim(), 1, 4)
                .addF32("backbone.layers.0.mixer.conv1d.bias", new float[c.convDim()], c.convDim())
                .addF32("backbone.layers.0.mixer.in_proj.weight", new float[c.inProjSize() * dd], c.inProjSize(), dd)
                .addBF16("backbone.layers.0.mixer.norm.weight", new float[e], e)
                .addF32("backbone.layers.0.mixer.out_proj.weight", new float[dd * e], dd, e)
                .addF32("backbone.norm_f.weight", new float[dd], dd)
                .addF32("lm_head.weight", new float[64 * dd], 64, dd)
                .write(d.resolve("model.safetensors"));
        assertEquals(96, c.convDim());
        assertEquals(168, c.inProjSize());
        try (dev.ssm4j.core.io.Checkpoint ck = dev.ssm4j.core.io.Checkpoint.open(d)) {
            assertEquals(c, ModelConfig.of(ck));
            for (String name : ck.names()) ck.tensor(name);
            ck.requireAllUsed();
        }
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"mamba2\", \"n_groups\": 3}");
        try (dev.ssm4j.core.io.Checkpoint ck = dev.ssm4j.core.io.Checkpoint.open(d)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelConfig.of(ck));
            assertTrue(ex.getMessage().startsWith(d.resolve("config.json").toString()) && ex.getMessage().contains("field 'n_groups'"), ex.getMessage());
        }
    }

    @Test
    void invalidConfigsNameTheFileAndTheField() throws IOException {
        String m2 = "\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8, \"head_dim\": 16, \"n_groups\": 2, \"vocab_size\": 256";
        String m1 = "\"model_type\": \"mamba\", \"hidden_size\": 64, \"vocab_size\": 256";
        expect("{" + m2 + ", \"head_dim\": 12}", "duplicate key \"head_dim\"");
        expect("{\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8, \"head_dim\": 12, \"n_groups\": 2}",
                "field 'head_dim'", "num_heads x head_dim = 8 x 12 = 96 must equal intermediate_size = expand x hidden_size = 2 x 64 = 128");
        expect("{\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8, \"head_dim\": 16, \"n_groups\": 3}",
                "field 'n_groups'", "must divide num_heads = 8");
        expect("{" + m2 + ", \"conv_kernel\": 9}", "field 'conv_kernel'", "2..8, found 9");
        expect("{" + m1 + ", \"conv_kernel\": 1}", "field 'conv_kernel'", "found 1");
        expect("{" + m1 + ", \"state_size\": 0}", "field 'state_size'", "positive integer, found 0");
        expect("{" + m1 + ", \"num_hidden_layers\": -2}", "field 'num_hidden_layers'", "found -2");
        expect("{\"model_type\": \"mamba\", \"hidden_size\": \"64\"}", "field 'hidden_size'", "expected an integer, found \"64\"");
        expect("{\"model_type\": \"mamba\", \"hidden_size\": 64.5}", "field 'hidden_size'", "expected an integer, found 64.5");
        expect("{" + m1 + ", \"use_bias\": 1}", "field 'use_bias'", "expected true or false");
        expect("{" + m1 + ", \"intermediate_size\": 100}", "field 'intermediate_size'", "2 x 64 = 128, found 100");
        expect("{" + m1 + ", \"hidden_act\": \"gelu\"}", "field 'hidden_act'", "only \"silu\"");
        expect("{" + m1 + ", \"layer_norm_epsilon\": 0}", "field 'layer_norm_epsilon'");
        expect("{" + m1 + ", \"time_step_min\": 0.5}", "field 'time_step_max'", ">= time_step_min");
        expect("{" + m1 + ", \"time_step_init_scheme\": \"xavier\"}", "field 'time_step_init_scheme'");
        expect("{" + m1 + ", \"eos_token_id\": 256}", "field 'eos_token_id'", "outside the vocabulary [0, 256)");
        expect("{" + m1 + ", \"eos_token_id\": [1, \"x\"]}", "field 'eos_token_id'");
        expect("{" + m1 + ", \"time_step_rank\": \"full\"}", "field 'time_step_rank'", "\"auto\"");
        expect("{" + m1 + ", \"expand\": 2147483647}", "field 'expand'", "larger than");
        expect("{" + m2 + ", \"norm_group_size\": 48}", "field 'norm_group_size'", "divisor of intermediate_size = 128", "64 for mamba_ssm");
        expect("{" + m2 + ", \"norm_before_gate\": true}", "field 'norm_before_gate'", "not supported");
        expect("{" + m2 + ", \"time_step_limit\": [0.1, 0.01]}", "field 'time_step_limit'", "0 <= min < max");
        expect("{" + m2 + ", \"time_step_limit\": [0.1]}", "field 'time_step_limit'", "pair of numbers");
        expect("{" + m2 + ", \"chunk_size\": 0}", "field 'chunk_size'");
        expect("{\"model_type\": \"llama\"}", "field 'model_type'", "expected \"mamba\" or \"mamba2\", found \"llama\"");
        expect("{\"hidden_size\": 4}", "field 'model_type'", "found no model_type");
        expect("[1]", "expected a JSON object");
        expect("{\"model_type\": \"mamba\",}", "config.json:1:24:");

        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> MambaConfig.builder().extra(Map.of("hidden_size", 3)).build());
        assertTrue(b.getMessage().contains("invalid mamba config: field 'hidden_size'"), b.getMessage());
    }

    private void expect(String json, String... fragments) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.read(f), json);
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "lacks \"" + s + "\": " + e.getMessage());
    }
}
