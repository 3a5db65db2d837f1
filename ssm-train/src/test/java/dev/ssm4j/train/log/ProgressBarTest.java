package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    /** A fake clock: one second per update. */
    private static final class Clock {
        long nanos;
    }

    @Test
    void plainModePrintsEveryNStepsWithEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Clock c = new Clock();
        ProgressBar bar = new ProgressBar(10, new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 4,
                () -> c.nanos);
        for (int s = 1; s <= 10; s++) {
            bar.update(s, 3.0 / s, 2500, "acc 0.50");
            c.nanos += 1_000_000_000L;
        }
        bar.finish();
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, String.join("|", lines)); // steps 4, 8, 10
        assertTrue(lines[0].startsWith("step  4/10 ["), lines[0]);
        assertTrue(lines[0].contains(" 40.0% | loss 0.7500 | 2.5k tok/s | ETA 6s | acc 0.50"), lines[0]);
        assertTrue(lines[2].contains("100.0%") && lines[2].contains("ETA 0s"), lines[2]);
        assertTrue(!bytes.toString(StandardCharsets.UTF_8).contains("\r"));
    }

    @Test
    void terminalModeRedrawsOneLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(3, new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 100, () -> 0L);
        bar.update(1, 10.0, 1e6);
        bar.update(2, 1.0, 1e6);
        bar.update(3, 1.0, 1e6);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, out.chars().filter(ch -> ch == '\r').count());
        assertTrue(out.endsWith("\n"));
        assertEquals(1, out.chars().filter(ch -> ch == '\n').count());
        assertTrue(out.contains("1.00M tok/s"));
    }

    @Test
    void formatting() {
        assertEquals("?", ProgressBar.duration(Double.NaN));
        assertEquals("59s", ProgressBar.duration(59.4));
        assertEquals("3m12s", ProgressBar.duration(192));
        assertEquals("2h05m", ProgressBar.duration(7500));
        assertEquals("950", ProgressBar.si(950));
        assertEquals("1.5k", ProgressBar.si(1500));
        String line = ProgressBar.line(500, 1000, 1.23456, 42, 30, "");
        assertTrue(line.startsWith("step  500/1000 [##############..............]  50.0% | loss 1.2346"), line);
    }
}
