package dev.ssm4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    @TempDir Path dir;

    @Test
    void parsesAllValueTypes() {
        Object v = Json.parse("{\"a\": 1, \"b\": -2.5e3, \"c\": \"x\\ny\\u00e9\\ud83d\\ude00\", \"d\": [true, false, null],"
                + " \"e\": {}, \"f\": [], \"g\": 12345678901234567890, \"h\": 0, \"i\": -0.0, \"j\": 1E2}");
        Map<?, ?> m = assertInstanceOf(Map.class, v);
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), new ArrayList<>(m.keySet()), "document order kept");
        assertEquals(1L, m.get("a"));
        assertEquals(-2500.0, m.get("b"));
        assertEquals("x\nyé😀", m.get("c"));
        List<Object> d = new ArrayList<>();
        d.add(true);
        d.add(false);
        d.add(null);
        assertEquals(d, m.get("d"));
        assertEquals(Map.of(), m.get("e"));
        assertEquals(List.of(), m.get("f"));
        assertEquals(1.2345678901234567e19, m.get("g"), "integer beyond long range becomes a Double");
        assertEquals(0L, m.get("h"));
        assertEquals(-0.0, m.get("i"));
        assertEquals(100.0, m.get("j"));
        assertEquals(Long.MAX_VALUE, Json.parse(" 9223372036854775807 "));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertNull(Json.parse("null"));
    }

    @Test
    void acceptsPythonNonFiniteLiterals() {
        assertEquals(List.of(0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY),
                Json.parse("[0.0, Infinity, -Infinity]"));
        assertTrue(Double.isNaN((Double) Json.parse("NaN")));
        assertEquals("[0.0,Infinity,-Infinity,NaN]", Json.write(List.of(0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN)));
    }

    @Test
    void errorsCarryLineAndColumn() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2\n}", "cfg.json"));
        assertEquals(3, e.line());
        assertEquals(7, e.column());
        assertTrue(e.getMessage().startsWith("cfg.json:3:7: expected ':'"), e.getMessage());

        assertError("[1, 2,]", "1:7", "expected a JSON value");
        assertError("{\"a\":1,}", "1:8", "expected a string key");
        assertError("{\"a\":1 \"b\":2}", "1:8", "expected ',' or '}'");
        assertError("[1 2]", "1:4", "expected ',' or ']'");
        assertError("", "1:1", "found end of input");
        assertError("   ", "1:4", "found end of input");
        assertError("[1, 2", "1:6", "found end of input");
        assertError("{\"a\": 1} x", "1:10", "expected end of input");
        assertError("01", "1:2", "leading zeros");
        assertError("-", "1:2", "expected a digit");
        assertError("1.", "1:3", "expected a digit after '.'");
        assertError("1e+", "1:4", "exponent");
        assertError("\"abc", "1:1", "unterminated string");
        assertError("\"a\tb\"", "1:3", "raw control character U+0009");
        assertError("\"a\\qb\"", "1:3", "invalid escape \\q");
        assertError("\"\\u12G4\"", "1:6", "4 hex digits");
        assertError("\"\\u00\uFF21\uFF21\"", "1:6", "4 hex digits"); // fullwidth 'A' is not a hex digit
        assertError("{\"k\": 1, \"k\": 2}", "1:10", "duplicate key \"k\"");
        assertError("// c\n1", "1:1", "a comment");
        assertError("tru", "1:1", "expected a JSON value");
        assertError("'a'", "1:1", "found '''");
        assertError("[1,\r\n 2,\r\n x]", "3:2", "found 'x'");
        assertError("{\"a\": [1, {\"b\": 2]}", "1:18", "object opened at 1:11");
    }

    private static void assertError(String text, String lineCol, String fragment) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text, "t.json"), text);
        assertTrue(e.getMessage().startsWith("t.json:" + lineCol + ": "), "for " + text + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "for " + text + ": " + e.getMessage());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting deeper than " + Json.MAX_DEPTH), e.getMessage());
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertInstanceOf(List.class, Json.parse(ok));
    }

    @Test
    void writeThenParseRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("z", "quote\" back\\slash / tab\t nl\n ctl\u0001 é 中 😀");
        m.put("a", List.of(1, 2L, 3.5, -0.0, 1e-5, 1.0e300));
        m.put("f", 0.1f);
        m.put("arr", new int[] {1, 2, 3});
        m.put("nested", Map.of("y", true, "x", List.of()));
        m.put("nil", null);
        for (String text : List.of(Json.write(m), Json.writePretty(m))) {
            Map<?, ?> back = (Map<?, ?>) Json.parse(text);
            assertEquals(List.of("z", "a", "f", "arr", "nested", "nil"), new ArrayList<>(back.keySet()));
            assertEquals(m.get("z"), back.get("z"));
            assertEquals(List.of(1L, 2L, 3.5, -0.0, 1e-5, 1.0e300), back.get("a"));
            assertEquals(0.1, back.get("f"), "Float written as its shortest repr");
            assertEquals(List.of(1L, 2L, 3L), back.get("arr"));
            assertEquals(Map.of("x", List.of(), "y", true), back.get("nested"));
            assertTrue(back.containsKey("nil"));
        }
    }

    @Test
    void unorderedMapsAreWrittenSortedSoOutputIsStable() {
        Map<String, Object> h = new HashMap<>();
        for (int i = 0; i < 50; i++) h.put("k" + (char) ('a' + (i * 7) % 26) + i, i);
        String once = Json.write(h);
        assertEquals(once, Json.write(new HashMap<>(h)));
        Map<String, ?> back = cast(Json.parse(once));
        List<String> keys = new ArrayList<>(back.keySet());
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(null);
        assertEquals(sorted, keys);
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }

    @Test
    void prettyLayout() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("shape", List.of(2, 3));
        m.put("o", Map.of("k", 1));
        assertEquals("{\n  \"shape\": [2, 3],\n  \"o\": {\n    \"k\": 1\n  }\n}\n", Json.writePretty(m));
        assertEquals("{\"shape\":[2,3],\"o\":{\"k\":1}}", Json.write(m));
    }

    @Test
    void writerRejectsWhatJsonCannotHold() {
        Map<Object, Object> bad = new LinkedHashMap<>();
        bad.put(1, 2);
        assertThrows(IllegalArgumentException.class, () -> Json.write(bad));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void filesAreStrictUtf8AndWrittenAtomically() throws IOException {
        Path f = dir.resolve("x.json");
        Json.write(f, Map.of("é", List.of(1, 2)));
        assertEquals(Map.of("é", List.of(1L, 2L)), Json.parse(f));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file left behind");
        }
        byte[] bom = "\uFEFF{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        Files.write(f, bom);
        assertEquals(Map.of("a", 1L), Json.parse(f));
        Files.write(f, new byte[] {'"', (byte) 0xC3, '"'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
        Files.writeString(f, "{\"a\":\n[1,,2]}");
        JsonException je = assertThrows(JsonException.class, () -> Json.parse(f));
        assertTrue(je.getMessage().startsWith(f + ":2:4:"), je.getMessage());
    }

    @Test
    void parsesATokenizerSizedDocument() {
        // The shape of a GPT-NeoX tokenizer.json: ~50k vocab entries and ~50k merges (≈2 MB).
        StringBuilder sb = new StringBuilder("{\"model\":{\"type\":\"BPE\",\"vocab\":{");
        for (int i = 0; i < 50_000; i++) sb.append(i == 0 ? "" : ",").append("\"tok\\u0120").append(i).append("\":").append(i);
        sb.append("},\"merges\":[");
        for (int i = 0; i < 50_000; i++) sb.append(i == 0 ? "" : ",").append("\"a").append(i).append(" b").append(i).append('"');
        sb.append("]}}");
        assertTrue(sb.length() > 1_500_000);
        Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) Json.parse(sb.toString())).get("model");
        assertEquals(50_000, ((Map<?, ?>) model.get("vocab")).size());
        assertEquals(49_999L, ((Map<?, ?>) model.get("vocab")).get("tok\u012049999"));
        assertEquals("a7 b7", ((List<?>) model.get("merges")).get(7));
    }
}
