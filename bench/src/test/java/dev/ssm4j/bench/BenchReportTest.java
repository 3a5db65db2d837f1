package dev.ssm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchReportTest {
    @Test
    void jsonKeepsNumbersAsNumbersAndEscapesStrings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kernel", "scan \"s6\"");
        m.put("b", 1);
        m.put("seconds", 0.25);
        m.put("ok", true);
        assertEquals("{\"kernel\": \"scan \\\"s6\\\"\", \"b\": 1, \"seconds\": 0.250000, \"ok\": true}",
                BenchReport.toJson(m));
    }

    @Test
    void aMissingValueIsNullInJsonAndADashInTheTable() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kernel", "silu");
        m.put("tuned_c_ms", null);
        assertEquals("{\"kernel\": \"silu\", \"tuned_c_ms\": null}", BenchReport.toJson(m));
        assertEquals("-", BenchReport.format(null));
        assertEquals("0.2500", BenchReport.format(0.25));
    }
}
