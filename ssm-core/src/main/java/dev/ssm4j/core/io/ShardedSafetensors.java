package dev.ssm4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * A sharded checkpoint ({@code model.safetensors.index.json} + its shard files) opened as one
 * tensor set. The index is {@code {"metadata": {...}, "weight_map": {tensor: "shard file"}}};
 * shard names are resolved against the index's directory and may not leave it.
 *
 * <p>Checked when opening: the index is a JSON object with a non-empty {@code weight_map} of
 * string values; every shard file exists (all missing ones are named in one error); every shard
 * is a valid safetensors file; every tensor of the weight map is in the shard it names, and every
 * tensor of a shard is in the weight map under that shard.
 */
public final class ShardedSafetensors implements TensorSource {
    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner; // tensor → shard, weight_map order
    private final List<String> names;
    private final Map<String, String> metadata;

    private ShardedSafetensors(Path index, List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner, Map<String, String> metadata) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.owner = owner;
        this.names = List.copyOf(owner.keySet());
        this.metadata = metadata;
    }

    /** Opens the index file {@code indexJson} and all its shards. */
    public static ShardedSafetensors open(Path indexJson) throws IOException {
        Object parsed = Json.parse(indexJson);
        if (!(parsed instanceof Map<?, ?> top)) throw bad(indexJson, "expected a JSON object, found " + Json.write(parsed));
        Object wm = top.get("weight_map");
        if (!(wm instanceof Map<?, ?> weightMap) || weightMap.isEmpty()) {
            throw bad(indexJson, "expected \"weight_map\" to be a non-empty object {tensor: shard file}, found "
                    + (top.containsKey("weight_map") ? Json.write(wm) : "no weight_map"));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Object md = top.get("metadata");
        if (md instanceof Map<?, ?> mdm) {
            for (Map.Entry<?, ?> e : mdm.entrySet()) {
                Object v = e.getValue();
                metadata.put((String) e.getKey(), v instanceof String s ? s : Json.write(v));
            }
        } else if (md != null) {
            throw bad(indexJson, "expected \"metadata\" to be an object, found " + Json.write(md));
        }

        Path dir = indexJson.toAbsolutePath().getParent();
        Map<String, Path> shardPaths = new LinkedHashMap<>(); // shard name → path, first-use order
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            if (!(e.getValue() instanceof String shard) || shard.isEmpty()) {
                throw bad(indexJson, "weight_map: tensor '" + e.getKey() + "' must map to a shard file name, found " + Json.write(e.getValue()));
            }
            if (!shardPaths.containsKey(shard)) {
                Path p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir)) throw bad(indexJson, "weight_map: shard \"" + shard + "\" lies outside the directory " + dir);
                shardPaths.put(shard, p);
            }
        }
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Path> e : shardPaths.entrySet()) if (!Files.isRegularFile(e.getValue())) missing.add(e.getKey());
        if (!missing.isEmpty()) {
            throw bad(indexJson, missing.size() + " of " + shardPaths.size() + " shard files are missing in " + dir + ": " + String.join(", ", missing));
        }

        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> e : shardPaths.entrySet()) opened.put(e.getKey(), SafetensorsFile.open(e.getValue()));
            Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : weightMap.entrySet()) {
                String name = (String) e.getKey();
                SafetensorsFile f = opened.get((String) e.getValue());
                if (!f.contains(name)) {
                    throw bad(indexJson, "weight_map puts tensor '" + name + "' in " + e.getValue() + ", but that shard has no such tensor");
                }
                owner.put(name, f);
            }
            for (Map.Entry<String, SafetensorsFile> e : opened.entrySet()) {
                for (String name : e.getValue().names()) {
                    if (owner.get(name) != e.getValue()) {
                        throw bad(indexJson, "shard " + e.getKey() + " holds tensor '" + name + "', which weight_map "
                                + (owner.containsKey(name) ? "assigns to another shard" : "does not list"));
                    }
                }
            }
            return new ShardedSafetensors(indexJson, new ArrayList<>(opened.values()), Collections.unmodifiableMap(owner),
                    Collections.unmodifiableMap(metadata));
        } catch (Throwable t) {
            for (SafetensorsFile f : opened.values()) f.close();
            throw t;
        }
    }

    private static IllegalArgumentException bad(Path index, String what) {
        return new IllegalArgumentException(index + ": " + what);
    }

    /** The index file. */
    public Path path() {
        return index;
    }

    /** The opened shards, in order of first use in the weight map. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return owner.containsKey(name);
    }

    @Override
    public SafeTensor tensor(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) throw new IllegalArgumentException(TensorSource.missingMessage(index.toString(), name, names));
        return f.tensor(name);
    }

    /** The index's "metadata" object, non-string values as their JSON text (e.g. total_size). */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public String description() {
        return index.toString();
    }

    @Override
    public void close() {
        for (SafetensorsFile f : new LinkedHashSet<>(shards)) f.close();
    }
}
