package dev.ssm4j.train.testing;

import dev.ssm4j.core.io.SafetensorsFile;
import dev.ssm4j.core.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The transformers fixtures of tools/golden/make_model_goldens.py: the model checkpoints in
 * ssm-core/src/test/resources/golden/NAME/ and the training goldens (grads.safetensors, adamw.json)
 * in ssm-train/src/test/resources/golden/NAME/.
 */
public final class Goldens {
    private Goldens() {}

    public static final List<String> ALL = List.of("mamba1", "mamba1_tied", "mamba2", "mamba2_tied");

    /** The checkpoint directory (config.json + model.safetensors) of a golden model. */
    public static Path modelDir(String name) {
        URL u = Goldens.class.getResource("/golden/" + name + "/config.json");
        if (u != null && u.getProtocol().equals("file")) {
            try {
                return Path.of(u.toURI()).getParent();
            } catch (java.net.URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        // Fallback: the source tree, relative to the module directory surefire runs in.
        for (Path base = Path.of("").toAbsolutePath(); base != null; base = base.getParent()) {
            Path p = base.resolve("ssm-core/src/test/resources/golden/" + name);
            if (Files.isRegularFile(p.resolve("config.json"))) return p;
        }
        throw new IllegalStateException("golden model " + name + " not found");
    }

    /** The training golden directory of a model (grads.safetensors, adamw.json). */
    public static Path trainDir(String name) {
        URL u = Goldens.class.getResource("/golden/" + name + "/adamw.json");
        if (u == null) throw new IllegalStateException("missing test resource /golden/" + name + "/adamw.json");
        try {
            return Path.of(u.toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every tensor of grads.safetensors: "loss" [1] and "grad.<HF name>". */
    public static Map<String, float[]> grads(String name) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(trainDir(name).resolve("grads.safetensors"))) {
            for (String n : f.names()) out.put(n, f.tensor(n).toFloatArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** adamw.json as a map. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> adamw(String name) {
        try {
            return (Map<String, Object>) Json.parse(trainDir(name).resolve("adamw.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** train_tokens of adamw.json as (rows, length) row-major, with the row count and length. */
    public static int[][] trainTokens(String name) {
        List<?> rows = (List<?>) adamw(name).get("train_tokens");
        int[][] out = new int[rows.size()][];
        for (int r = 0; r < out.length; r++) out[r] = ints(rows.get(r));
        return out;
    }

    /** A JSON array of numbers as int[]. */
    public static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }

    /** A JSON array of numbers as double[]. */
    public static double[] doubles(Object o) {
        List<?> l = (List<?>) o;
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).doubleValue();
        return out;
    }
}
