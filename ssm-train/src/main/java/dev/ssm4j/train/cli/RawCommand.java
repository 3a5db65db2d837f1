package dev.ssm4j.train.cli;

/** A command that parses its own words (it wraps another tool's command line, e.g. JMH's). */
public interface RawCommand extends Command {
    int runRaw(String[] argv) throws Exception;

    @Override
    default int run(Args args) throws Exception {
        throw new IllegalStateException("raw commands are run through runRaw");
    }
}
