package dev.ssm4j.core.model;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writing a model directory: config.json + model.safetensors, HF names, tied lm_head omitted. */
final class ModelFiles {
    private ModelFiles() {}

    static void save(MambaLM lm, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (ParameterLayout.Entry e : lm.layout().entries()) {
            w.add(e.name(), DType.F32, lm.parameter(e.name()), 0, e.shape());
        }
        w.write(dir.resolve("model.safetensors"));
        lm.config().write(dir.resolve("config.json"));
    }
}
