package dev.ssm4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {
    @Test
    void parsesValuesFlagsAndLists() {
        Args a = new Args("x", new String[] {"--steps", "10", "--lr=3e-4", "--json", "--lengths", "64,1_024"},
                Set.of("json"));
        assertEquals(10, a.integer("steps", 0));
        assertEquals(3e-4, a.number("lr", 0), 0);
        assertTrue(a.flag("json"));
        assertArrayEquals(new int[] {64, 1024}, a.intList("lengths", null));
        a.finish();
    }

    @Test
    void rejectsUnknownOptionsByName() {
        Args a = new Args("bench scan", new String[] {"--jsn", "1"}, Set.of("json"));
        a.flag("json");
        UsageException e = assertThrows(UsageException.class, a::finish);
        assertTrue(e.getMessage().contains("--jsn"), e.getMessage());
    }

    @Test
    void rejectsBadNumbersAndMissingValues() {
        assertThrows(UsageException.class, () -> new Args("x", new String[] {"--steps"}, Set.of()));
        Args a = new Args("x", new String[] {"--steps", "ten"}, Set.of());
        UsageException e = assertThrows(UsageException.class, () -> a.integer("steps", 1));
        assertTrue(e.getMessage().contains("--steps") && e.getMessage().contains("ten"));
    }

    @Test
    void unknownCommandExitsWithUsageCode() {
        assertEquals(2, Main.run(new String[] {"no-such-command"}));
    }
}
