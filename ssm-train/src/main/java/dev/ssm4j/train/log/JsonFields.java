package dev.ssm4j.train.log;

import java.util.List;
import java.util.Map;

/**
 * Typed access to values parsed by {@link dev.ssm4j.core.io.Json} (the trainer's state file,
 * metrics lines, test fixtures): each getter returns the value as the expected Java type or throws
 * an IllegalArgumentException naming the field ({@code what}) and what was found instead.
 */
public final class JsonFields {
    private JsonFields() {}

    /** {@code value} as a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object value, String what) {
        if (value instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw wrong(what, "a JSON object", value);
    }

    /** {@code value} as a JSON array. */
    @SuppressWarnings("unchecked")
    public static List<Object> array(Object value, String what) {
        if (value instanceof List<?> l) return (List<Object>) l;
        throw wrong(what, "a JSON array", value);
    }

    /** {@code value} as a number. */
    public static double number(Object value, String what) {
        if (value instanceof Number n) return n.doubleValue();
        throw wrong(what, "a number", value);
    }

    /** {@code value} as an integer (a JSON number without a fractional part). */
    public static long integer(Object value, String what) {
        if (value instanceof Long l) return l;
        if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) return d.longValue();
        throw wrong(what, "an integer", value);
    }

    /** {@code value} as a string. */
    public static String string(Object value, String what) {
        if (value instanceof String s) return s;
        throw wrong(what, "a string", value);
    }

    /** A JSON array of numbers as a float[] (each rounded to float). */
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
        for (int i = 0; i < out.length; i++) {
            long v = integer(l.get(i), what + "[" + i + "]");
            if (v != (int) v) throw wrong(what + "[" + i + "]", "an int", v);
            out[i] = (int) v;
        }
        return out;
    }

    private static IllegalArgumentException wrong(String what, String expected, Object found) {
        String s = found == null ? "null" : found.getClass().getSimpleName() + " " + found;
        if (s.length() > 60) s = s.substring(0, 60) + "...";
        return new IllegalArgumentException(what + ": expected " + expected + ", found " + s);
    }
}
