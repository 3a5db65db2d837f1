package dev.ssm4j.train.cli;

import java.util.Map;

/** A command made of sub-commands ({@code ./ssm bench scan}); {@link Main} dispatches into it. */
public interface CommandGroup extends Command {
    /** Sub-command name → implementing class name. */
    Map<String, String> table();

    @Override
    default String usage() {
        return Main.overview(table(), "ssm " + name());
    }

    /** The group's own name, as typed after {@code ./ssm}. */
    String name();

    @Override
    default int run(Args args) {
        System.out.println(usage());
        return 2;
    }
}
