package dev.ssm4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model directory as Hugging Face lays it out: {@code config.json} plus either
 * {@code model.safetensors} or {@code model.safetensors.index.json} with its shards (the single
 * file wins if both exist, as in transformers).
 *
 * <p>Model code fetches weights with {@link #require}, which checks the shape and remembers the
 * name; after loading, {@link #unused()} / {@link #requireAllUsed()} find tensors the model never
 * asked for (a misspelt name, a wrong architecture, a layer count that does not match).
 *
 * <pre>
 *   try (Checkpoint ck = Checkpoint.open(dir)) {
 *       float[] emb = ck.require("backbone.embeddings.weight", vocab, d).toFloatArray();
 *       ...
 *       ck.requireAllUsed();
 *   }
 * </pre>
 * The config is exposed as parsed JSON; {@code dev.ssm4j.core.config.ModelConfig.of(checkpoint)}
 * turns it into a typed, validated config.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path directory;
    private final Map<String, Object> config;
    private final TensorSource tensors;
    private final Set<String> used = ConcurrentHashMap.newKeySet();

    private Checkpoint(Path directory, Map<String, Object> config, TensorSource tensors) {
        this.directory = directory;
        this.config = config;
        this.tensors = tensors;
    }

    /** Opens {@code dir}: reads config.json and maps the weights. */
    public static Checkpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": not a directory (expected a model directory with config.json and model.safetensors)");
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) throw new IllegalArgumentException(dir + ": no " + CONFIG + " in the model directory");
        Object cfg = Json.parse(configFile);
        if (!(cfg instanceof Map<?, ?>)) throw new IllegalArgumentException(configFile + ": expected a JSON object, found " + Json.write(cfg));
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) cfg;
        return new Checkpoint(dir, config, openWeights(dir));
    }

    /** Wraps an already opened tensor source (and its parsed config, may be empty); for tests and tools. */
    public static Checkpoint of(Path directory, Map<String, Object> config, TensorSource tensors) {
        return new Checkpoint(directory, config, tensors);
    }

    private static TensorSource openWeights(Path dir) throws IOException {
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(single)) return SafetensorsFile.open(single);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) return ShardedSafetensors.open(index);
        String hint = "";
        if (Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))) {
            hint = " (found PyTorch pickle weights, which ssm4j does not read: convert them to safetensors)";
        }
        throw new IllegalArgumentException(dir + ": no " + SINGLE + " or " + INDEX + " in the model directory" + hint);
    }

    public Path directory() {
        return directory;
    }

    /** The config.json file of this checkpoint. */
    public Path configFile() {
        return directory.resolve(CONFIG);
    }

    /** config.json as parsed JSON (read-only use, please). */
    public Map<String, Object> config() {
        return config;
    }

    public TensorSource tensors() {
        return tensors;
    }

    public List<String> names() {
        return tensors.names();
    }

    public boolean has(String name) {
        return tensors.contains(name);
    }

    /**
     * The tensor {@code name}, which must have exactly {@code expectedShape} (no dims = a scalar);
     * marks it used. IllegalArgumentException naming file, tensor, expected and actual shape
     * otherwise.
     */
    public SafeTensor require(String name, int... expectedShape) {
        if (!tensors.contains(name)) {
            throw new IllegalArgumentException(TensorSource.missingMessage(tensors.description(), name, tensors.names())
                    + "; expected shape " + Arrays.toString(expectedShape));
        }
        SafeTensor t = tensors.tensor(name);
        checkShape(t, expectedShape);
        used.add(name);
        return t;
    }

    /** Like {@link #require} but an absent tensor gives empty (e.g. an optional bias). */
    public Optional<SafeTensor> optional(String name, int... expectedShape) {
        return tensors.contains(name) ? Optional.of(require(name, expectedShape)) : Optional.empty();
    }

    /** {@link #require} then {@link SafeTensor#toFloatArray()}. */
    public float[] requireFloats(String name, int... expectedShape) {
        return require(name, expectedShape).toFloatArray();
    }

    /** The tensor {@code name} without a shape check; marks it used. */
    public SafeTensor tensor(String name) {
        SafeTensor t = tensors.tensor(name);
        used.add(name);
        return t;
    }

    /** Marks {@code name} as deliberately ignored (e.g. a tied lm_head copy). */
    public void ignore(String name) {
        if (tensors.contains(name)) used.add(name);
    }

    private static void checkShape(SafeTensor t, int[] expected) {
        long[] actual = t.shape();
        boolean same = actual.length == expected.length;
        for (int i = 0; same && i < expected.length; i++) same = actual[i] == expected[i];
        if (!same) {
            throw new IllegalArgumentException(t.file() + ": tensor '" + t.name() + "' has shape " + Arrays.toString(actual)
                    + " (" + t.dtype() + "), expected " + Arrays.toString(expected));
        }
    }

    /** Names never fetched by require/optional/tensor/ignore, in file order. */
    public List<String> unused() {
        List<String> out = new ArrayList<>();
        for (String n : tensors.names()) if (!used.contains(n)) out.add(n);
        return out;
    }

    /** IllegalStateException listing the unused tensors, if there are any. */
    public void requireAllUsed() {
        List<String> u = unused();
        if (u.isEmpty()) return;
        List<String> shown = u.subList(0, Math.min(20, u.size()));
        throw new IllegalStateException(tensors.description() + ": " + u.size() + " of " + tensors.names().size()
                + " tensors were not used by the model: " + String.join(", ", shown) + (u.size() > shown.size() ? ", ..." : ""));
    }

    @Override
    public void close() {
        tensors.close();
    }
}
