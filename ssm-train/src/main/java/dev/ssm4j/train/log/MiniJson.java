package dev.ssm4j.train.log;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON writer and reader for the trainer's own small files (metrics lines, trainer state,
 * test fixtures).
 *
 * <p><b>Stand-in:</b> {@code dev.ssm4j.core.io.Json} is being written on another branch; once it is
 * merged, callers of this class should move to it and this class can go. It is deliberately small.
 *
 * <p>Values map to Java as follows. Writing: {@link Map} (keys turned into strings, insertion
 * order kept), {@link Iterable}, {@code int[] long[] float[] double[]}, {@code Object[]},
 * {@link Number}, {@link String}, {@link Boolean}, {@code null}. A {@link Float} is written with
 * {@link Float#toString} (the shortest decimal that reads back as the same float), a {@link Double}
 * with {@link Double#toString}. Non-finite numbers (NaN, ±∞) are not valid JSON and are written as
 * {@code null}. Reading gives {@link LinkedHashMap}, {@link ArrayList}, {@link Long} (numbers without
 * a fraction or exponent that fit in a long), {@link Double} (all other numbers), {@link String},
 * {@link Boolean} and {@code null}.
 */
public final class MiniJson {
    private MiniJson() {}

    // ---------------------------------------------------------------- writing

    /** The compact one-line JSON text of {@code value}. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1, 0);
        return sb.toString();
    }

    /** JSON text of {@code value} with objects and arrays indented by {@code indent} spaces per level. */
    public static String writePretty(Object value, int indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int level) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Boolean b -> sb.append(b);
            case Float f -> number(sb, f.isNaN() || f.isInfinite() ? null : Float.toString(f));
            case Double d -> number(sb, d.isNaN() || d.isInfinite() ? null : Double.toString(d));
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                sb.append('{');
                int i = 0;
                for (var e : m.entrySet()) {
                    if (i++ > 0) sb.append(',');
                    newline(sb, indent, level + 1);
                    quote(sb, String.valueOf(e.getKey()));
                    sb.append(indent >= 0 ? ": " : ":");
                    write(sb, e.getValue(), indent, level + 1);
                }
                if (i > 0) newline(sb, indent, level);
                sb.append('}');
            }
            case Iterable<?> it -> {
                List<Object> list = new ArrayList<>();
                it.forEach(list::add);
                array(sb, list, indent, level);
            }
            case int[] a -> array(sb, boxed(a.length, i -> a[i]), indent, level);
            case long[] a -> array(sb, boxed(a.length, i -> a[i]), indent, level);
            case float[] a -> array(sb, boxed(a.length, i -> a[i]), indent, level);
            case double[] a -> array(sb, boxed(a.length, i -> a[i]), indent, level);
            case Object[] a -> array(sb, List.of(a), indent, level);
            default -> throw new IllegalArgumentException(
                    "MiniJson.write: cannot write a value of type " + v.getClass().getName());
        }
    }

    private static List<Object> boxed(int n, java.util.function.IntFunction<Object> get) {
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(get.apply(i));
        return out;
    }

    private static void array(StringBuilder sb, List<?> list, int indent, int level) {
        sb.append('[');
        // Arrays of numbers stay on one line even when pretty-printing: they are the bulky part.
        boolean flat = list.stream().allMatch(x -> x == null || x instanceof Number);
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) sb.append(flat && indent >= 0 ? ", " : ",");
            if (!flat) newline(sb, indent, level + 1);
            write(sb, list.get(i), indent, level + 1);
        }
        if (!flat && !list.isEmpty()) newline(sb, indent, level);
        sb.append(']');
    }

    private static void number(StringBuilder sb, String text) {
        sb.append(text == null ? "null" : text);
    }

    private static void newline(StringBuilder sb, int indent, int level) {
        if (indent < 0) return;
        sb.append('\n');
        sb.append(" ".repeat(indent * level));
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    // ---------------------------------------------------------------- reading

    /** Parses one JSON value (the whole text must be that value, plus white space). */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value();
        p.skipSpace();
        if (p.pos != text.length()) throw p.error("unexpected text after the value");
        return v;
    }

    /** {@code value} as a JSON object, or an IllegalArgumentException naming {@code what}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object value, String what) {
        if (value instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new IllegalArgumentException(what + ": expected a JSON object, got " + describe(value));
    }

    /** {@code value} as a JSON array, or an IllegalArgumentException naming {@code what}. */
    @SuppressWarnings("unchecked")
    public static List<Object> array(Object value, String what) {
        if (value instanceof List<?> l) return (List<Object>) l;
        throw new IllegalArgumentException(what + ": expected a JSON array, got " + describe(value));
    }

    /** {@code value} as a number, or an IllegalArgumentException naming {@code what}. */
    public static double number(Object value, String what) {
        if (value instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException(what + ": expected a number, got " + describe(value));
    }

    /** {@code value} as an integer (a JSON number without fraction), or an IllegalArgumentException. */
    public static long integer(Object value, String what) {
        if (value instanceof Long l) return l;
        if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) return d.longValue();
        throw new IllegalArgumentException(what + ": expected an integer, got " + describe(value));
    }

    /** {@code value} as a string, or an IllegalArgumentException naming {@code what}. */
    public static String string(Object value, String what) {
        if (value instanceof String s) return s;
        throw new IllegalArgumentException(what + ": expected a string, got " + describe(value));
    }

    /** A JSON array of numbers as a float[] (each number rounded to float). */
    public static float[] floats(Object value, String what) {
        List<Object> l = array(value, what);
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) number(l.get(i), what + "[" + i + "]");
        return out;
    }

    /** A JSON array of integers as an int[]. */
    public static int[] ints(Object value, String what) {
        List<Object> l = array(value, what);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = Math.toIntExact(integer(l.get(i), what + "[" + i + "]"));
        return out;
    }

    private static String describe(Object v) {
        if (v == null) return "null";
        String s = String.valueOf(v);
        return v.getClass().getSimpleName() + " " + (s.length() > 40 ? s.substring(0, 40) + "..." : s);
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String msg) {
            int line = 1;
            for (int i = 0; i < Math.min(pos, s.length()); i++) if (s.charAt(i) == '\n') line++;
            return new IllegalArgumentException("JSON: " + msg + " at character " + pos + " (line " + line + ")");
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        char peek() {
            if (pos >= s.length()) throw error("unexpected end of text");
            return s.charAt(pos);
        }

        void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "' but found '" + peek() + "'");
            pos++;
        }

        Object value() {
            char c = peek();
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected character '" + c + "'");
                }
            };
        }

        Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) throw error("expected " + word);
            pos += word.length();
            return v;
        }

        Map<String, Object> object() {
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            skipSpace();
            if (peek() == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                m.put(key, value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        List<Object> array() {
            expect('[');
            List<Object> l = new ArrayList<>();
            skipSpace();
            if (peek() == ']') {
                pos++;
                return l;
            }
            while (true) {
                skipSpace();
                l.add(value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = peek();
                pos++;
                if (c == '"') return sb.toString();
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = peek();
                pos++;
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (pos + 4 > s.length()) throw error("short \\u escape");
                        sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        Object number() {
            int start = pos;
            if (peek() == '-') pos++;
            boolean integral = true;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c >= '0' && c <= '9') {
                    pos++;
                } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    integral = false;
                    pos++;
                } else {
                    break;
                }
            }
            String t = s.substring(start, pos);
            try {
                if (integral) {
                    try {
                        return Long.parseLong(t);
                    } catch (NumberFormatException tooBig) {
                        return Double.parseDouble(t);
                    }
                }
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw error("bad number '" + t + "'");
            }
        }
    }
}
