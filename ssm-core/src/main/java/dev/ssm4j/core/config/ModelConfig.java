package dev.ssm4j.core.config;

import dev.ssm4j.core.io.Checkpoint;
import dev.ssm4j.core.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code config.json} of a model ssm4j can run: {@link MambaConfig}
 * ({@code "model_type": "mamba"}) or {@link Mamba2Config} ({@code "mamba2"}). Both are immutable,
 * use transformers' field names and defaults, are validated on construction, and keep fields they
 * do not know in {@link #extra()} so that writing a config that was read loses nothing.
 */
public sealed interface ModelConfig permits MambaConfig, Mamba2Config {
    /** {@code "mamba"} or {@code "mamba2"}. */
    String modelType();

    int vocabSize();

    /** d_model: width of the residual stream. */
    int hiddenSize();

    int numHiddenLayers();

    /** N: SSM state size per channel (Mamba) or per head (Mamba-2). */
    int stateSize();

    /** d_inner = expand × hidden_size. */
    int intermediateSize();

    int convKernel();

    double layerNormEpsilon();

    boolean tieWordEmbeddings();

    boolean residualInFp32();

    /** Fields this class does not interpret, in file order (read-only). */
    Map<String, Object> extra();

    /** The config as JSON (sorted keys, like transformers' save_pretrained), extras included. */
    Map<String, Object> toJson();

    /** Writes {@link #toJson()} to {@code file} atomically. */
    default void write(Path file) throws IOException {
        Json.write(file, toJson());
    }

    /**
     * Reads a config.json. Every problem — bad JSON, a field of the wrong type, a combination the
     * model cannot honour, an unknown model_type — is an IllegalArgumentException whose message
     * starts with the file name and names the field.
     */
    static ModelConfig read(Path configJson) throws IOException {
        Object parsed = Json.parse(configJson);
        if (!(parsed instanceof Map<?, ?> map)) throw new IllegalArgumentException(configJson + ": expected a JSON object, found " + Json.write(parsed));
        @SuppressWarnings("unchecked")
        Map<String, ?> m = (Map<String, ?>) map;
        return fromJson(m, configJson.toString());
    }

    /** The typed config of an opened checkpoint (its config.json, already parsed). */
    static ModelConfig of(Checkpoint checkpoint) {
        return fromJson(checkpoint.config(), checkpoint.configFile().toString());
    }

    /** Builds the config described by {@code json}; {@code source} (a file name) starts every error message. */
    static ModelConfig fromJson(Map<String, ?> json, String source) {
        Object type = json.get("model_type");
        if ("mamba".equals(type)) return MambaConfig.fromJson(json, source);
        if ("mamba2".equals(type)) return Mamba2Config.fromJson(json, source);
        throw new IllegalArgumentException(source + ": field 'model_type': expected \"mamba\" or \"mamba2\", found "
                + (json.containsKey("model_type") ? Json.write(type) : "no model_type"));
    }
}
