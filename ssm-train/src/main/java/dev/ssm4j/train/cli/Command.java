package dev.ssm4j.train.cli;

/**
 * One {@code ./ssm} command. Implementations need a public no-argument constructor: {@link Main}
 * finds them by class name, so commands may live in modules to the right of ssm-train (bench).
 */
public interface Command {
    /** One line for {@code ./ssm --help}. */
    String summary();

    /** Full usage text for {@code ./ssm <command> --help}: synopsis and every option. */
    String usage();

    /**
     * Runs the command; returns the process exit code. Bad user input is reported by throwing
     * {@link UsageException} (or IllegalArgumentException with a message that names the problem);
     * {@link Main} prints it as one line, without a stack trace.
     */
    int run(Args args) throws Exception;
}
