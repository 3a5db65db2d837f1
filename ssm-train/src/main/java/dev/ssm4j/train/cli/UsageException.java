package dev.ssm4j.train.cli;

/** Bad command-line input; printed as one line followed by a pointer to --help. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
