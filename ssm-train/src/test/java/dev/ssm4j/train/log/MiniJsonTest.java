package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {
    @Test
    void writesAndReadsBack() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a \"q\" \\ \n\t é → \u0001");
        m.put("i", 42);
        m.put("l", 1L << 60);
        m.put("f", 0.1f);
        m.put("d", 1e-300);
        m.put("nan", Double.NaN);
        m.put("b", true);
        m.put("n", null);
        m.put("arr", new float[] {1.5f, -2f});
        m.put("ints", new int[] {1, 2});
        m.put("list", List.of(Map.of("x", 1), List.of()));
        String text = MiniJson.write(m);
        Map<String, Object> back = MiniJson.object(MiniJson.parse(text), "back");
        assertEquals(m.get("s"), back.get("s"));
        assertEquals(42L, back.get("i"));
        assertEquals(1L << 60, back.get("l"));
        assertEquals(0.1f, (float) MiniJson.number(back.get("f"), "f")); // shortest float text reads back exactly
        assertEquals(1e-300, back.get("d"));
        assertEquals(null, back.get("nan"));
        assertTrue(back.containsKey("n"));
        assertEquals(true, back.get("b"));
        assertTrue(Arrays.equals(new float[] {1.5f, -2f}, MiniJson.floats(back.get("arr"), "arr")));
        assertTrue(Arrays.equals(new int[] {1, 2}, MiniJson.ints(back.get("ints"), "ints")));
        assertEquals(List.of(Map.of("x", 1L), List.of()), back.get("list"));
        assertEquals(back, MiniJson.parse(MiniJson.writePretty(m, 2)));
        assertTrue(!text.contains("\n"), "compact output is one line");
    }

    @Test
    void parsesStandardJsonAndRejectsBadText() {
        Object v = MiniJson.parse(" {\"a\": [1, 2.5e3, -0.5, \"\\u00e9\\/\"], \"b\": {}} ");
        assertEquals(Map.of("a", List.of(1L, 2500.0, -0.5, "é/"), "b", Map.of()), v);
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"abc", "{\"a\":01x}"}) {
            assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(bad), bad);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> MiniJson.integer(1.5, "x"));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
    }
}
