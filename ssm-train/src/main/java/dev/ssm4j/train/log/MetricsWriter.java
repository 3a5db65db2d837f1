package dev.ssm4j.train.log;

import dev.ssm4j.core.io.Json;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training metrics as JSON lines: one JSON object per line, one line per logged step, flushed as
 * soon as it is written (so {@code tail -f} and a crash both see every finished step).
 *
 * <pre>
 *   {"step":100,"loss":2.3456,"lr":0.0003,"tokens_per_second":12345.6,"accuracy":0.41}
 * </pre>
 * The first four fields are always present, in this order; extra fields follow in the order given.
 * Non-finite numbers are written as {@code null}, so every line is strict JSON (core's
 * {@link Json} would write Python's {@code NaN}).
 */
public final class MetricsWriter implements Closeable {
    private final Writer out;

    /** Writes to {@code file}; {@code append} keeps existing lines (for a resumed run). */
    public MetricsWriter(Path file, boolean append) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Writes to an open writer; {@link #close()} closes it. */
    public MetricsWriter(Writer out) {
        this.out = out instanceof BufferedWriter ? out : new BufferedWriter(out);
    }

    /** One line: step, loss, lr, tokens_per_second, then {@code extra} (may be empty). */
    public void write(long step, double loss, double lr, double tokensPerSecond, Map<String, ?> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("loss", loss);
        m.put("lr", lr);
        m.put("tokens_per_second", tokensPerSecond);
        for (var e : extra.entrySet()) {
            if (m.containsKey(e.getKey())) {
                throw new IllegalArgumentException("extra metric '" + e.getKey() + "' clashes with a standard field");
            }
            m.put(e.getKey(), e.getValue());
        }
        write(m);
    }

    /** One line with exactly these fields. */
    public void write(Map<String, ?> fields) {
        try {
            Map<String, Object> strict = new LinkedHashMap<>();
            for (var e : fields.entrySet()) strict.put(e.getKey(), finiteOrNull(e.getValue()));
            out.write(Json.write(strict));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics line", e);
        }
    }

    private static Object finiteOrNull(Object v) {
        return (v instanceof Double d && !Double.isFinite(d)) || (v instanceof Float f && !Float.isFinite(f)) ? null : v;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Reads a metrics file back: one map per non-empty line (e.g. to re-plot after a resume). */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) continue;
            try {
                rows.add(JsonFields.object(Json.parse(line), file + " line " + n));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + " line " + n + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }
}
