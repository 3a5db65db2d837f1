package dev.ssm4j.core.config;

import dev.ssm4j.core.io.Json;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed, strict access to the fields of a parsed config.json. Each getter records the key as
 * known; what is left over is returned by {@link #extras()} so writing keeps it. Type errors are
 * thrown as {@code "field 'x': expected ..., found ..."}; the caller adds the file name.
 */
final class Fields {
    private final Map<String, ?> json;
    private final Set<String> known = new HashSet<>();

    Fields(Map<String, ?> json) {
        this.json = json;
        known.add("model_type");
    }

    boolean has(String key) {
        known.add(key);
        return json.containsKey(key);
    }

    int integer(String key, int def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        Integer i = asInt(v);
        if (i == null) throw type(key, "an integer", v);
        return i;
    }

    /** An integral number (Long from the parser; Integer/Short/Byte from Java callers) within int range, or null. */
    static Integer asInt(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (l == (int) l) return (int) l;
        }
        return null;
    }

    double number(String key, double def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        Double d = asNumber(v);
        if (d == null) throw type(key, "a number", v);
        return d;
    }

    /**
     * A JSON number as double, or null. Besides numbers (and the Infinity/NaN literals Python
     * writes) this accepts transformers 5's tagged form {@code {"__float__": "Infinity"}}
     * ("-Infinity", "NaN") and the strings "inf"/"Infinity".
     */
    static Double asNumber(Object v) {
        if (v instanceof Number n && !(v instanceof java.math.BigDecimal) && !(v instanceof java.math.BigInteger)) return n.doubleValue();
        if (v instanceof Map<?, ?> m && m.size() == 1 && m.get("__float__") instanceof String tag) v = tag;
        if (v instanceof String s) {
            return switch (s) {
                case "Infinity", "inf" -> Double.POSITIVE_INFINITY;
                case "-Infinity", "-inf" -> Double.NEGATIVE_INFINITY;
                case "NaN", "nan" -> Double.NaN;
                default -> null;
            };
        }
        return null;
    }

    boolean bool(String key, boolean def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        if (v instanceof Boolean b) return b;
        throw type(key, "true or false", v);
    }

    String string(String key, String def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        if (v instanceof String s) return s;
        throw type(key, "a string", v);
    }

    /** An int or null (null stays null); absent gives {@code def}. */
    Integer nullableInt(String key, Integer def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        if (v == null) return null;
        Integer i = asInt(v);
        if (i == null) throw type(key, "an integer or null", v);
        return i;
    }

    /** An int, a list of ints, or null (→ empty list); absent gives {@code def}. */
    List<Integer> intOrList(String key, List<Integer> def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        if (v == null) return List.of();
        if (asInt(v) != null) return List.of(asInt(v));
        if (v instanceof List<?> list) {
            List<Integer> out = new ArrayList<>();
            for (Object o : list) {
                Integer i = asInt(o);
                if (i == null) throw type(key, "an integer or a list of integers", v);
                out.add(i);
            }
            return List.copyOf(out);
        }
        throw type(key, "an integer, a list of integers or null", v);
    }

    /** {@code "auto"} or absent gives null; otherwise an integer (validated later). */
    Integer intOrAuto(String key) {
        if (!has(key)) return null;
        Object v = json.get(key);
        if ("auto".equals(v)) return null;
        Integer i = asInt(v);
        if (i == null) throw type(key, "an integer or \"auto\"", v);
        return i;
    }

    /** A pair of numbers [lo, hi] (each as {@link #asNumber}); null gives the default. */
    double[] pair(String key, double[] def) {
        if (!has(key)) return def;
        Object v = json.get(key);
        if (v == null) return def;
        if (v instanceof List<?> list && list.size() == 2) {
            double[] out = new double[2];
            for (int i = 0; i < 2; i++) {
                Double d = asNumber(list.get(i));
                if (d == null) throw type(key, "a pair of numbers [min, max]", v);
                out[i] = d;
            }
            return out;
        }
        throw type(key, "a pair of numbers [min, max]", v);
    }

    /** Fields never asked for, in document order (model_type excluded). */
    Map<String, Object> extras() {
        LinkedHashMap<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : json.entrySet()) if (!known.contains(e.getKey())) out.put(e.getKey(), e.getValue());
        return Collections.unmodifiableSequencedMap(out);
    }

    /**
     * Read-only deep copy of {@code extra} in canonical JSON form (what reading the written file
     * gives: Long for integers, Double for other numbers, List for arrays), so configs compare
     * equal across a write/read round trip. It may not contain a field the record interprets.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> extraCopy(Map<String, Object> extra, Set<String> known) {
        for (String k : extra.keySet()) {
            if (known.contains(k)) throw invalid(k, "is a typed field of the config and cannot also be an extra field");
        }
        LinkedHashMap<String, Object> ordered = new LinkedHashMap<>(extra);
        return Collections.unmodifiableSequencedMap((LinkedHashMap<String, Object>) Json.parse(Json.write(ordered)));
    }

    static IllegalArgumentException type(String key, String expected, Object found) {
        return new IllegalArgumentException("field '" + key + "': expected " + expected + ", found " + Json.write(found));
    }

    static IllegalArgumentException invalid(String key, String what) {
        return new IllegalArgumentException("field '" + key + "': " + what);
    }

    static void positive(String key, long v) {
        if (v <= 0) throw invalid(key, "expected a positive integer, found " + v);
    }

    static void positiveFinite(String key, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw invalid(key, "expected a positive finite number, found " + v);
    }

    static void convKernel(int k) {
        if (k < 2 || k > 8) throw invalid("conv_kernel", "expected a causal convolution width in 2..8, found " + k);
    }

    static void silu(String act) {
        if (!act.equals("silu")) throw invalid("hidden_act", "only \"silu\" is implemented, found \"" + act + "\"");
    }

    static void timeStepInit(double min, double max, double floor) {
        positiveFinite("time_step_min", min);
        positiveFinite("time_step_max", max);
        if (max < min) throw invalid("time_step_max", "expected >= time_step_min = " + min + ", found " + max);
        if (!(floor >= 0) || Double.isInfinite(floor)) throw invalid("time_step_floor", "expected a finite number >= 0, found " + floor);
    }

    static void tokenId(String key, Integer id, int vocab) {
        if (id != null && (id < 0 || id >= vocab)) throw invalid(key, "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
    }

    static void tokenIds(String key, List<Integer> ids, int vocab) {
        for (Integer id : ids) {
            if (id == null) throw invalid(key, "null in the list of token ids");
            tokenId(key, id, vocab);
        }
    }

    static int product(String key, String what, int a, int b) {
        long p = (long) a * b;
        if (p > Integer.MAX_VALUE) throw invalid(key, what + " = " + a + " x " + b + " is larger than " + Integer.MAX_VALUE);
        return (int) p;
    }

    /** Writes a token id list back the way HF does: one id as a number, several as a list, none as null. */
    static Object eosJson(List<Integer> ids) {
        return ids.isEmpty() ? null : ids.size() == 1 ? (Object) ids.get(0) : ids;
    }
}
