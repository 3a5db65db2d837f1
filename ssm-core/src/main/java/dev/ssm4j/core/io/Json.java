package dev.ssm4j.core.io;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A small, strict JSON reader and writer (RFC 8259) with no dependencies.
 *
 * <h2>Reading</h2>
 * Values map to plain Java objects:
 * <pre>
 *   object  → LinkedHashMap&lt;String, Object&gt;  (document order kept; duplicate keys are an error)
 *   array   → ArrayList&lt;Object&gt;
 *   string  → String
 *   number  → Long    when written without fraction or exponent and within long range,
 *             Double  otherwise (correctly rounded by Double.parseDouble)
 *   true/false → Boolean,  null → null
 * </pre>
 * Strict means: no comments, no trailing commas, no single quotes, no leading zeros, no raw control
 * characters inside strings, nothing after the top-level value but whitespace. The one extension:
 * the literals {@code NaN}, {@code Infinity} and {@code -Infinity} are accepted (as Double),
 * because Python's {@code json} module writes them — a Mamba-2 {@code config.json} holds
 * {@code "time_step_limit": [0.0, Infinity]}. Every error is a {@link JsonException} whose message
 * starts with {@code source:line:column}. Nesting deeper than {@value #MAX_DEPTH} is an error
 * (instead of a StackOverflowError).
 *
 * <h2>Writing</h2>
 * {@link #write} (compact) and {@link #writePretty} (two-space indent) accept Map (String keys),
 * List/Collection, Object[] and primitive arrays, String, Number, Boolean and null. Key order is
 * stable: ordered maps (LinkedHashMap, TreeMap — any {@link SequencedMap} or {@link SortedMap})
 * are written in their order, other maps (HashMap, Map.of) sorted by key, so the same data always
 * gives the same bytes. Non-finite doubles are written as {@code NaN}/{@code Infinity}, like
 * Python; floats are written with {@link Float#toString} (shortest repr that round-trips to the
 * same float), doubles with {@link Double#toString}. Non-ASCII text is written as is (UTF-8 when
 * saved with {@link #write(Path, Object)}).
 */
public final class Json {
    /** Deepest nesting of arrays/objects the reader accepts. */
    public static final int MAX_DEPTH = 512;

    private Json() {}

    /** Parses {@code text}; errors name the source {@code "<json>"}. */
    public static Object parse(String text) {
        return parse(text, "<json>");
    }

    /** Parses {@code text}; errors start with {@code source:line:column}. */
    public static Object parse(String text, String source) {
        return new Reader(text, source).document();
    }

    /**
     * Reads and parses a UTF-8 file (a leading byte-order mark is skipped). Invalid UTF-8 is an
     * error naming the file and the byte offset.
     */
    public static Object parse(Path file) throws IOException {
        return parse(decodeUtf8(Files.readAllBytes(file), file.toString()), file.toString());
    }

    /** Strict UTF-8 decoding; a leading BOM is dropped. Errors name {@code source}. */
    static String decodeUtf8(byte[] bytes, String source) {
        int start = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB
                && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(source + ": not valid UTF-8 near byte offset "
                    + in.position() + " (" + e.getMessage() + ")", e);
        }
    }

    /** Compact JSON text of {@code value}. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb, null).value(value, 0);
        return sb.toString();
    }

    /** JSON text of {@code value} indented by two spaces per level, with a trailing newline. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb, "  ").value(value, 0);
        return sb.append('\n').toString();
    }

    /** Writes {@link #writePretty}{@code (value)} to {@code file} as UTF-8, atomically. */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.write(file, writePretty(value).getBytes(StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------------------------------
    // Reader: recursive descent over a char[] (cheaper per character than String.charAt, which
    // re-checks the string's coder and bounds). One object per value, no token list.

    private static final class Reader {
        private final char[] s;
        private final String source;
        private final int n;
        private int pos;
        private int depth;

        Reader(String text, String source) {
            this.s = text.toCharArray();
            this.source = source;
            this.n = s.length;
        }

        Object document() {
            skipWs();
            if (pos >= n) throw error(pos, "expected a JSON value, found end of input");
            Object v = value();
            skipWs();
            if (pos < n) throw error(pos, "expected end of input after the top-level value, found " + found(pos));
            return v;
        }

        private Object value() {
            char c = s[pos];
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': literal("true"); return Boolean.TRUE;
                case 'f': literal("false"); return Boolean.FALSE;
                case 'n': literal("null"); return null;
                case 'N': literal("NaN"); return Double.NaN;
                case 'I': literal("Infinity"); return Double.POSITIVE_INFINITY;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error(pos, "expected a JSON value, found " + found(pos));
            }
        }

        private Map<String, Object> object() {
            int open = pos;
            enter(open);
            pos++; // '{'
            LinkedHashMap<String, Object> map = new LinkedHashMap<>();
            skipWs();
            if (pos < n && s[pos] == '}') {
                pos++;
                depth--;
                return map;
            }
            while (true) {
                skipWs();
                if (pos >= n || s[pos] != '"') {
                    throw error(pos, "expected a string key in the object opened at " + where(open) + ", found " + found(pos));
                }
                int keyPos = pos;
                String key = string();
                skipWs();
                expect(':', "after object key \"" + abbreviate(key) + "\"");
                skipWs();
                if (pos >= n) throw error(pos, "expected a value for key \"" + abbreviate(key) + "\", found end of input");
                Object v = value();
                if (map.containsKey(key)) {
                    throw error(keyPos, "duplicate key \"" + abbreviate(key) + "\" in the object opened at " + where(open));
                }
                map.put(key, v);
                skipWs();
                if (pos >= n) throw error(pos, "expected ',' or '}' to continue the object opened at " + where(open) + ", found end of input");
                char c = s[pos++];
                if (c == '}') break;
                if (c != ',') throw error(pos - 1, "expected ',' or '}' in the object opened at " + where(open) + ", found " + found(pos - 1));
            }
            depth--;
            return map;
        }

        private List<Object> array() {
            int open = pos;
            enter(open);
            pos++; // '['
            ArrayList<Object> list = new ArrayList<>();
            skipWs();
            if (pos < n && s[pos] == ']') {
                pos++;
                depth--;
                return list;
            }
            while (true) {
                skipWs();
                if (pos >= n) throw error(pos, "expected a value in the array opened at " + where(open) + ", found end of input");
                list.add(value());
                skipWs();
                if (pos >= n) throw error(pos, "expected ',' or ']' to continue the array opened at " + where(open) + ", found end of input");
                char c = s[pos++];
                if (c == ']') break;
                if (c != ',') throw error(pos - 1, "expected ',' or ']' in the array opened at " + where(open) + ", found " + found(pos - 1));
            }
            depth--;
            return list;
        }

        private void enter(int at) {
            if (++depth > MAX_DEPTH) throw error(at, "nesting deeper than " + MAX_DEPTH + " levels");
        }

        private String string() {
            int open = pos;
            pos++; // opening quote
            // Fast path: no escapes → one substring.
            int i = pos;
            while (i < n) {
                char c = s[i];
                if (c == '"') {
                    String out = new String(s, pos, i - pos);
                    pos = i + 1;
                    return out;
                }
                if (c == '\\' || c < 0x20) break;
                i++;
            }
            StringBuilder sb = new StringBuilder(Math.max(16, i - pos + 16));
            sb.append(s, pos, i - pos);
            pos = i;
            while (true) {
                if (pos >= n) throw error(open, "unterminated string (no closing '\"' before end of input)");
                char c = s[pos];
                if (c == '"') {
                    pos++;
                    return sb.toString();
                }
                if (c < 0x20) {
                    throw error(pos, "raw control character U+" + hex4(c) + " inside a string (must be escaped)");
                }
                if (c != '\\') {
                    sb.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 >= n) throw error(open, "unterminated string (no closing '\"' before end of input)");
                char e = s[pos + 1];
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        int v = 0;
                        for (int k = 0; k < 4; k++) {
                            int p = pos + 2 + k;
                            int d = p < n ? hexDigit(s[p]) : -1;
                            if (d < 0) throw error(Math.min(p, n), "expected 4 hex digits after \\u, found " + found(p));
                            v = v * 16 + d;
                        }
                        sb.append((char) v);
                        pos += 4;
                        break;
                    }
                    default:
                        throw error(pos, "invalid escape \\" + printable(e) + " (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
                }
                pos += 2;
            }
        }

        private Object number() {
            int start = pos;
            boolean integral = true;
            if (s[pos] == '-') {
                pos++;
                if (pos < n && s[pos] == 'I') {
                    literal("Infinity");
                    return Double.NEGATIVE_INFINITY;
                }
            }
            if (pos >= n || !isDigit(s[pos])) throw error(pos, "expected a digit, found " + found(pos));
            if (s[pos] == '0') {
                pos++;
                if (pos < n && isDigit(s[pos])) throw error(pos, "leading zeros are not allowed in numbers");
            } else {
                while (pos < n && isDigit(s[pos])) pos++;
            }
            if (pos < n && s[pos] == '.') {
                integral = false;
                pos++;
                if (pos >= n || !isDigit(s[pos])) throw error(pos, "expected a digit after '.', found " + found(pos));
                while (pos < n && isDigit(s[pos])) pos++;
            }
            if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
                integral = false;
                pos++;
                if (pos < n && (s[pos] == '+' || s[pos] == '-')) pos++;
                if (pos >= n || !isDigit(s[pos])) throw error(pos, "expected a digit in the exponent, found " + found(pos));
                while (pos < n && isDigit(s[pos])) pos++;
            }
            if (integral) {
                int p = start;
                boolean negative = s[p] == '-';
                if (negative) p++;
                if (pos - p <= 18) { // cannot overflow: accumulate directly
                    long v = 0;
                    for (; p < pos; p++) v = v * 10 + (s[p] - '0');
                    return negative ? -v : v;
                }
            }
            String text = new String(s, start, pos - start);
            if (integral) {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException tooBig) {
                    return new BigInteger(text).doubleValue();
                }
            }
            return Double.parseDouble(text);
        }

        /** ASCII hex digit value, or -1 (Character.digit would also accept e.g. fullwidth digits). */
        private static int hexDigit(char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private void literal(String word) {
            if (pos + word.length() > n) throw error(pos, "expected a JSON value, found " + found(pos));
            for (int k = 0; k < word.length(); k++) {
                if (s[pos + k] != word.charAt(k)) throw error(pos, "expected a JSON value, found " + found(pos));
            }
            pos += word.length();
        }

        private void expect(char c, String context) {
            if (pos >= n) throw error(pos, "expected '" + c + "' " + context + ", found end of input");
            if (s[pos] != c) throw error(pos, "expected '" + c + "' " + context + ", found " + found(pos));
            pos++;
        }

        private void skipWs() {
            while (pos < n) {
                char c = s[pos];
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t') pos++;
                else return;
            }
        }

        /** Describes what is at {@code p}: the character (quoted) or "end of input". */
        private String found(int p) {
            if (p >= n) return "end of input";
            char c = s[p];
            if (c == '/' && p + 1 < n && (s[p + 1] == '/' || s[p + 1] == '*')) return "a comment (not allowed in JSON)";
            return "'" + printable(c) + "'";
        }

        private String where(int p) {
            int[] lc = lineColumn(p);
            return lc[0] + ":" + lc[1];
        }

        private int[] lineColumn(int p) {
            int line = 1, col = 1;
            int end = Math.min(p, n);
            for (int i = 0; i < end; i++) {
                char c = s[i];
                if (c == '\n') {
                    line++;
                    col = 1;
                } else if (c == '\r') {
                    if (i + 1 < end && s[i + 1] == '\n') continue; // CRLF counts once
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return new int[] {line, col};
        }

        private JsonException error(int p, String detail) {
            int[] lc = lineColumn(p);
            return new JsonException(source, lc[0], lc[1], detail);
        }
    }

    private static String printable(char c) {
        if (c >= 0x20 && c < 0x7f) return String.valueOf(c);
        return "U+" + hex4(c);
    }

    private static String hex4(int c) {
        String h = Integer.toHexString(c).toUpperCase();
        return "0000".substring(Math.min(4, h.length())) + h;
    }

    private static String abbreviate(String key) {
        return key.length() <= 60 ? key : key.substring(0, 57) + "...";
    }

    // ------------------------------------------------------------------------------------------
    // Writer

    private static final class Writer {
        private final StringBuilder sb;
        private final String indent; // null = compact

        Writer(StringBuilder sb, String indent) {
            this.sb = sb;
            this.indent = indent;
        }

        void value(Object v, int level) {
            if (level > MAX_DEPTH) throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
            switch (v) {
                case null -> sb.append("null");
                case String str -> string(str);
                case Boolean b -> sb.append(b.booleanValue());
                case Double d -> dbl(d);
                case Float f -> flt(f);
                case Long l -> sb.append(l.longValue());
                case Integer i -> sb.append(i.intValue());
                case Short sh -> sb.append(sh.shortValue());
                case Byte by -> sb.append(by.byteValue());
                case BigInteger bi -> sb.append(bi);
                case BigDecimal bd -> sb.append(bd.toString());
                case Character ch -> string(String.valueOf(ch));
                case Map<?, ?> m -> map(m, level);
                case Collection<?> c -> array(c, level);
                case Object[] a -> array(java.util.Arrays.asList(a), level);
                case int[] a -> { List<Object> l = new ArrayList<>(a.length); for (int x : a) l.add(x); array(l, level); }
                case long[] a -> { List<Object> l = new ArrayList<>(a.length); for (long x : a) l.add(x); array(l, level); }
                case float[] a -> { List<Object> l = new ArrayList<>(a.length); for (float x : a) l.add(x); array(l, level); }
                case double[] a -> { List<Object> l = new ArrayList<>(a.length); for (double x : a) l.add(x); array(l, level); }
                case boolean[] a -> { List<Object> l = new ArrayList<>(a.length); for (boolean x : a) l.add(x); array(l, level); }
                case Number other -> throw new IllegalArgumentException("cannot write number of type " + other.getClass().getName() + " as JSON");
                default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
            }
        }

        private void dbl(double d) {
            if (Double.isNaN(d)) sb.append("NaN");
            else if (Double.isInfinite(d)) sb.append(d > 0 ? "Infinity" : "-Infinity");
            else sb.append(d);
        }

        private void flt(float f) {
            if (Float.isNaN(f)) sb.append("NaN");
            else if (Float.isInfinite(f)) sb.append(f > 0 ? "Infinity" : "-Infinity");
            else sb.append(f);
        }

        private void map(Map<?, ?> m, int level) {
            Map<?, ?> ordered = m;
            if (!(m instanceof SequencedMap<?, ?>) && !(m instanceof SortedMap<?, ?>)) {
                TreeMap<String, Object> sorted = new TreeMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) sorted.put(key(e.getKey()), e.getValue());
                ordered = sorted;
            }
            if (ordered.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ordered.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                newline(level + 1);
                string(key(e.getKey()));
                sb.append(indent == null ? ":" : ": ");
                value(e.getValue(), level + 1);
            }
            newline(level);
            sb.append('}');
        }

        private static String key(Object k) {
            if (k instanceof String s) return s;
            throw new IllegalArgumentException("JSON object keys must be Strings, got "
                    + (k == null ? "null" : k.getClass().getName()));
        }

        private void array(Collection<?> c, int level) {
            if (c.isEmpty()) {
                sb.append("[]");
                return;
            }
            // Arrays of scalars stay on one line even when pretty-printing (shapes, offsets).
            boolean scalars = true;
            for (Object o : c) {
                if (o instanceof Map<?, ?> || o instanceof Collection<?> || o instanceof Object[]) {
                    scalars = false;
                    break;
                }
            }
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) sb.append(indent != null && scalars ? ", " : ",");
                first = false;
                if (!scalars) newline(level + 1);
                value(o, level + 1);
            }
            if (!scalars) newline(level);
            sb.append(']');
        }

        private void newline(int level) {
            if (indent == null) return;
            sb.append('\n');
            for (int i = 0; i < level; i++) sb.append(indent);
        }

        private void string(String str) {
            sb.append('"');
            int runStart = 0;
            int len = str.length();
            for (int i = 0; i < len; i++) {
                char c = str.charAt(i);
                if (c >= 0x20 && c != '"' && c != '\\') continue;
                sb.append(str, runStart, i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> sb.append("\\u").append(hex4(c));
                }
                runStart = i + 1;
            }
            sb.append(str, runStart, len).append('"');
        }
    }
}
