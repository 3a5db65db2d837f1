package dev.ssm4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rows of benchmark results printed either as an aligned table or as one JSON object per line
 * ({@code --json}). In JSON mode each row is printed as soon as it is added, so a long run
 * streams; in table mode rows are printed at {@link #finish()}.
 */
public final class BenchReport {
    private final boolean json;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    public BenchReport(boolean json) {
        this.json = json;
    }

    /** Starts a row; fill it with {@link Row#put} and end it with {@link Row#add()}. */
    public Row row() {
        return new Row();
    }

    public final class Row {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        public Row put(String key, Object value) {
            fields.put(key, value);
            return this;
        }

        public void add() {
            rows.add(fields);
            if (json) System.out.println(toJson(fields));
        }
    }

    /** Prints the table (table mode), with a header line naming the machine configuration. */
    public void finish(String title) {
        if (json || rows.isEmpty()) return;
        System.out.println(title);
        List<String> keys = new ArrayList<>(rows.get(0).keySet());
        int[] w = new int[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            w[i] = keys.get(i).length();
            for (var r : rows) w[i] = Math.max(w[i], format(r.get(keys.get(i))).length());
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) sb.append(String.format("%" + w[i] + "s  ", keys.get(i)));
        System.out.println(sb.toString().stripTrailing());
        for (var r : rows) {
            sb.setLength(0);
            for (int i = 0; i < keys.size(); i++) sb.append(String.format("%" + w[i] + "s  ", format(r.get(keys.get(i)))));
            System.out.println(sb.toString().stripTrailing());
        }
    }

    static String format(Object v) {
        if (v == null) return "-";
        if (v instanceof Double d) {
            double a = Math.abs(d);
            if (a != 0 && (a >= 1e6 || a < 1e-3)) return String.format(Locale.ROOT, "%.4g", d);
            return String.format(Locale.ROOT, "%.4f", d);
        }
        if (v instanceof Float f) return format((double) f);
        return String.valueOf(v);
    }

    /** One flat JSON object; numbers stay numbers, everything else is a quoted string. */
    public static String toJson(Map<String, Object> fields) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (var e : fields.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append('"').append(escape(e.getKey())).append("\": ");
            Object v = e.getValue();
            if (v instanceof Number n && !(v instanceof Double d && !Double.isFinite(d))) {
                sb.append(n instanceof Double || n instanceof Float ? String.format(Locale.ROOT, "%.6g", n.doubleValue()) : n.toString());
            } else if (v instanceof Boolean b) {
                sb.append(b);
            } else if (v == null) {
                sb.append("null");
            } else {
                sb.append('"').append(escape(String.valueOf(v))).append('"');
            }
        }
        return sb.append('}').toString();
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.toString();
    }
}
