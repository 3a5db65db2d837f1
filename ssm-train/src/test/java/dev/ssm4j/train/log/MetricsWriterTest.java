package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsWriterTest {
    @TempDir
    Path tmp;

    @Test
    void oneParsableLinePerStepFlushedAndAppendable() throws IOException {
        Path f = tmp.resolve("run/metrics.jsonl");
        try (MetricsWriter w = new MetricsWriter(f, false)) {
            w.write(1, 2.5, 1e-3, 12345.5, Map.of("accuracy", 0.25));
            // flushed: visible before close
            assertEquals(1, Files.readAllLines(f).size());
            w.write(2, Double.NaN, 1e-3, 100, Map.of());
        }
        try (MetricsWriter w = new MetricsWriter(f, true)) {
            w.write(3, 1.0, 5e-4, 200, Map.of("eval_loss", 1.5));
        }
        List<String> lines = Files.readAllLines(f);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("{\"step\":1,\"loss\":2.5,\"lr\":0.001,\"tokens_per_second\":12345.5"),
                lines.get(0));
        List<Map<String, Object>> rows = MetricsWriter.read(f);
        assertEquals(1L, rows.get(0).get("step"));
        assertEquals(0.25, rows.get(0).get("accuracy"));
        assertEquals(null, rows.get(1).get("loss")); // NaN → null
        assertEquals(1.5, rows.get(2).get("eval_loss"));
        try (MetricsWriter w = new MetricsWriter(f, false)) {
            assertThrows(IllegalArgumentException.class, () -> w.write(1, 1, 1, 1, Map.of("lr", 3)));
        }
        assertEquals(0, Files.readAllLines(f).size()); // not appending: truncated
    }
}
