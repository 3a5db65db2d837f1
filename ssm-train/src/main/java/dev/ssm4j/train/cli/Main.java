package dev.ssm4j.train.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Entry point of {@code ./ssm}. Commands are looked up by class name so that modules to the
 * right of ssm-train (bench) can provide some; a command whose class is not on the class path is
 * simply not listed.
 */
public final class Main {
    private Main() {}

    /** Command name → implementing class. Order is the order of {@code ./ssm --help}. */
    static final Map<String, String> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("demo", "dev.ssm4j.train.cli.DemoCommand");
        COMMANDS.put("train", "dev.ssm4j.train.cli.TrainCommand");
        COMMANDS.put("eval", "dev.ssm4j.train.cli.EvalCommand");
        COMMANDS.put("generate", "dev.ssm4j.train.cli.GenerateCommand");
        COMMANDS.put("info", "dev.ssm4j.train.cli.InfoCommand");
        COMMANDS.put("forward", "dev.ssm4j.train.cli.ForwardCommand");
        COMMANDS.put("bench", "dev.ssm4j.bench.BenchCommand");
        COMMANDS.put("jmh", "dev.ssm4j.bench.JmhCommand");
    }

    /** Flags (options without a value) understood by any command. */
    public static final Set<String> FLAGS = Set.of("help", "json", "quiet", "resume", "skip-nonfinite", "no-plot",
            "scalar", "bf16", "stream", "greedy", "quick", "parts", "peer");

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs one command line and returns the exit code (used by tests too). */
    public static int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            System.out.println(overview(COMMANDS, "ssm"));
            return argv.length == 0 ? 2 : 0;
        }
        return dispatch(COMMANDS, "", argv);
    }

    /**
     * Looks up {@code argv[0]} in {@code table} and runs it with the rest; shared with command
     * groups such as {@code ssm bench}.
     */
    public static int dispatch(Map<String, String> table, String prefix, String[] argv) {
        String name = argv[0];
        String full = (prefix.isEmpty() ? "" : prefix + " ") + name;
        Command cmd = load(table.get(name));
        if (cmd == null) {
            System.err.println("ssm: unknown command '" + full + "'. Commands: "
                    + String.join(", ", available(table).keySet()) + ". See ./ssm " + (prefix + " --help").trim());
            return 2;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        if (cmd instanceof CommandGroup group && rest.length > 0 && !rest[0].startsWith("-")) {
            return dispatch(group.table(), full, rest);
        }
        try {
            if (cmd instanceof RawCommand raw && !(rest.length == 1 && rest[0].equals("--help"))) {
                return raw.runRaw(rest);
            }
            Args args = new Args(full, rest, FLAGS);
            if (args.help()) {
                System.out.println(cmd.usage());
                return 0;
            }
            return cmd.run(args);
        } catch (UsageException e) {
            System.err.println("ssm " + full + ": " + e.getMessage() + " (see ./ssm " + full + " --help)");
            return 2;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException | IOException e) {
            // Bad input (a file, a shape, an option): one line that names it, no stack trace.
            System.err.println("ssm " + full + ": error: " + e.getMessage());
            if (System.getenv("SSM_DEBUG") != null) e.printStackTrace();
            return 1;
        } catch (Exception e) {
            System.err.println("ssm " + full + ": internal error (a bug; please report it with this trace):");
            e.printStackTrace();
            return 3;
        }
    }

    /** The commands of {@code table} whose classes are present. */
    public static Map<String, Command> available(Map<String, String> table) {
        Map<String, Command> out = new LinkedHashMap<>();
        for (var e : table.entrySet()) {
            Command c = load(e.getValue());
            if (c != null) out.put(e.getKey(), c);
        }
        return out;
    }

    /** Help text listing the available commands of a table. */
    public static String overview(Map<String, String> table, String prefix) {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: ./").append(prefix).append(" <command> [options]   (./").append(prefix)
                .append(" <command> --help for its options)\n\ncommands:\n");
        for (var e : available(table).entrySet()) {
            sb.append(String.format("  %-10s %s%n", e.getKey(), e.getValue().summary()));
        }
        if (prefix.equals("ssm")) {
            sb.append(String.format("  %-10s %s%n", "test", "run every test (mvn test; handled by the ./ssm launcher)"));
        }
        return sb.toString().stripTrailing();
    }

    private static Command load(String className) {
        if (className == null) return null;
        try {
            return (Command) Class.forName(className).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create command " + className, e);
        }
    }
}
