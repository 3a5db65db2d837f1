package dev.ssm4j.train.data;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The synthetic tasks by name. Parameters are integers given by name; missing ones take the
 * defaults below, unknown ones are an error.
 *
 * <table>
 *   <caption>tasks and parameters (defaults)</caption>
 *   <tr><th>name</th><th>parameters</th></tr>
 *   <tr><td>{@code selective_copying}</td><td>{@code tokens=16} data tokens to copy, {@code vocab=16}
 *       data-token vocabulary, {@code length=256}</td></tr>
 *   <tr><td>{@code induction_heads}</td><td>{@code vocab=16} ordinary tokens, {@code length=256}</td></tr>
 *   <tr><td>{@code mqar}</td><td>{@code pairs=8} key-value pairs, {@code key_vocab=32},
 *       {@code value_vocab=32}, {@code length=64}</td></tr>
 * </table>
 * Formats: {@link SelectiveCopying}, {@link InductionHeads}, {@link Mqar}.
 */
public final class Tasks {
    private Tasks() {}

    private record Entry(Map<String, Integer> defaults, String help, Function<Map<String, Integer>, Task> make) {}

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put(SelectiveCopying.NAME, new Entry(ordered("tokens", 16, "vocab", 16, "length", 256),
                "copy the data tokens scattered among noise, in order, after the markers (Mamba §4.1.1)",
                p -> new SelectiveCopying(p.get("tokens"), p.get("vocab"), p.get("length"))));
        REGISTRY.put(InductionHeads.NAME, new Entry(ordered("vocab", 16, "length", 256),
                "at the final trigger, output the token that followed the trigger earlier (Mamba §4.1.2)",
                p -> new InductionHeads(p.get("vocab"), p.get("length"))));
        REGISTRY.put(Mqar.NAME, new Entry(ordered("pairs", 8, "key_vocab", 32, "value_vocab", 32, "length", 64),
                "multi-query associative recall: output each queried key's value (Zoology; Mamba-2 §9.1)",
                p -> new Mqar(p.get("pairs"), p.get("key_vocab"), p.get("value_vocab"), p.get("length"))));
    }

    private static Map<String, Integer> ordered(Object... kv) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Integer) kv[i + 1]);
        return m;
    }

    /** The task names, in registry order. */
    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    /** The default parameters of a task. */
    public static Map<String, Integer> defaults(String name) {
        return new LinkedHashMap<>(entry(name).defaults());
    }

    /** One line per task: name, parameters with defaults, what it asks. */
    public static String help() {
        StringBuilder sb = new StringBuilder();
        for (var e : REGISTRY.entrySet()) {
            sb.append(String.format("  %-18s %s%n  %-18s params: %s%n", e.getKey(), e.getValue().help(), "",
                    e.getValue().defaults()));
        }
        return sb.toString().stripTrailing();
    }

    /** A task with its default parameters. */
    public static Task create(String name) {
        return create(name, Map.of());
    }

    /** A task with {@code params} overriding its defaults; unknown names are rejected. */
    public static Task create(String name, Map<String, Integer> params) {
        Entry e = entry(name);
        Map<String, Integer> p = new HashMap<>(e.defaults());
        for (var kv : params.entrySet()) {
            if (!e.defaults().containsKey(kv.getKey())) {
                throw new IllegalArgumentException("task " + name + " has no parameter '" + kv.getKey()
                        + "'; its parameters are " + e.defaults().keySet());
            }
            p.put(kv.getKey(), kv.getValue());
        }
        return e.make().apply(p);
    }

    private static Entry entry(String name) {
        Entry e = REGISTRY.get(name);
        if (e == null) throw new IllegalArgumentException("unknown task '" + name + "'; tasks are " + names());
        return e;
    }
}
