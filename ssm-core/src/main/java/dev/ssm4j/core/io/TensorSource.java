package dev.ssm4j.core.io;

import java.util.List;
import java.util.Map;

/**
 * A set of named tensors: one safetensors file ({@link SafetensorsFile}) or a sharded checkpoint
 * seen as one ({@link ShardedSafetensors}). Closing it unmaps the files; tensors obtained from
 * it must not be used afterwards.
 */
public interface TensorSource extends AutoCloseable {
    /** Tensor names in file order (for shards: index order). */
    List<String> names();

    boolean contains(String name);

    /** The tensor called {@code name}; IllegalArgumentException naming the file(s) if absent. */
    SafeTensor tensor(String name);

    /** Free-form string metadata (safetensors {@code __metadata__}, or an index's "metadata"). */
    Map<String, String> metadata();

    /** What to call this source in messages: a file path. */
    String description();

    @Override
    void close();

    /** Message for a missing tensor, with a few similarly named tensors as hints. */
    static String missingMessage(String where, String name, List<String> names) {
        StringBuilder sb = new StringBuilder(where).append(": no tensor '").append(name).append("' among its ")
                .append(names.size()).append(" tensors");
        String tail = name.substring(name.lastIndexOf('.') + 1);
        List<String> similar = names.stream().filter(n -> n.endsWith("." + tail) || n.equals(tail)).limit(5).toList();
        if (similar.isEmpty()) similar = names.stream().limit(5).toList();
        if (!similar.isEmpty()) sb.append(" (e.g. ").append(String.join(", ", similar)).append(similar.size() < names.size() ? ", ..." : "").append(')');
        return sb.toString();
    }
}
