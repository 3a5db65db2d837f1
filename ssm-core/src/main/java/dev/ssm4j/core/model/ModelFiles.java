package dev.ssm4j.core.model;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writing a model directory: config.json + model.safetensors, HF names, tied lm_head omitted. */
final class ModelFiles {
    private ModelFiles() {}

    /**
     * Every tensor stored as {@code dtype} (F32, BF16 or F16 — as transformers' save_pretrained
     * after {@code model.to(dtype)}), {@code torch_dtype} set to match. The weights go first and
     * the config last, each file atomically: a directory whose config is present has its weights.
     */
    static void save(MambaLM lm, Path dir, DType dtype) throws IOException {
        if (dtype == null || !dtype.isFloat()) {
            throw new IllegalArgumentException("save: dtype must be F32, BF16 or F16, got " + dtype);
        }
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (ParameterLayout.Entry e : lm.layout().entries()) {
            w.add(e.name(), dtype, lm.parameter(e.name()), 0, e.shape());
        }
        w.write(dir.resolve("model.safetensors"));
        Map<String, Object> config = lm.config().toJson();
        config.put("torch_dtype", switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        });
        Json.write(dir.resolve("config.json"), config);
    }
}
