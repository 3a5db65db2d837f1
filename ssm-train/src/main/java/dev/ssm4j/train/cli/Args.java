package dev.ssm4j.train.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options: {@code --name value}, {@code --name=value}, bare flags ({@code --json}),
 * and positional words. A command reads what it knows and then calls {@link #finish()}, which
 * rejects any option it did not read, naming it.
 */
public final class Args {
    private final String command;
    private final Map<String, String> options = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private final Set<String> read = new java.util.HashSet<>();

    /** Parses {@code argv}; {@code flags} are the option names that take no value. */
    public Args(String command, String[] argv, Set<String> flags) {
        this.command = command;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--") && a.length() > 2) {
                String name = a.substring(2);
                String value;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                } else if (flags.contains(name) || name.equals("help")) {
                    value = "true";
                } else if (i + 1 < argv.length) {
                    value = argv[++i];
                } else {
                    throw new UsageException("option --" + name + " of '" + command + "' needs a value");
                }
                if (options.put(name, value) != null) {
                    throw new UsageException("option --" + name + " given twice");
                }
            } else {
                positional.add(a);
            }
        }
    }

    public String command() {
        return command;
    }

    public boolean help() {
        read.add("help");
        return options.containsKey("help");
    }

    public List<String> positional() {
        return positional;
    }

    public boolean has(String name) {
        read.add(name);
        return options.containsKey(name);
    }

    public boolean flag(String name) {
        read.add(name);
        String v = options.get(name);
        if (v == null) return false;
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw new UsageException("--" + name + " is a flag; got value '" + v + "'");
    }

    public String string(String name, String dflt) {
        read.add(name);
        return options.getOrDefault(name, dflt);
    }

    public String require(String name) {
        read.add(name);
        String v = options.get(name);
        if (v == null) throw new UsageException("'" + command + "' needs --" + name);
        return v;
    }

    public int integer(String name, int dflt) {
        String v = string(name, null);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v.trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number, got '" + v + "'");
        }
    }

    public long longValue(String name, long dflt) {
        String v = string(name, null);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v.trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number, got '" + v + "'");
        }
    }

    public double number(String name, double dflt) {
        String v = string(name, null);
        if (v == null) return dflt;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    /** Comma-separated whole numbers, e.g. {@code --lengths 256,4096}. */
    public int[] intList(String name, int[] dflt) {
        String v = string(name, null);
        if (v == null) return dflt;
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " must be comma-separated whole numbers, got '" + v + "'");
            }
        }
        return out;
    }

    /** Rejects options the command never asked about, and stray positional words. */
    public void finish() {
        for (String name : options.keySet()) {
            if (!read.contains(name)) {
                throw new UsageException("unknown option --" + name + " for '" + command + "'");
            }
        }
        if (!positional.isEmpty()) {
            throw new UsageException("unexpected argument '" + positional.get(0) + "' for '" + command + "'");
        }
    }
}
