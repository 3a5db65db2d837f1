package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonFieldsTest {
    @Test
    void typedValuesOfParsedJson() {
        Map<String, Object> m = JsonFields.object(
                Json.parse("{\"i\": 3, \"d\": 2.0, \"x\": 0.1, \"s\": \"a\", \"f\": [1.5, -2], \"n\": [1, 2e0], \"o\": {}}"), "m");
        assertEquals(3L, JsonFields.integer(m.get("i"), "i"));
        assertEquals(2L, JsonFields.integer(m.get("d"), "d")); // a whole double counts as an integer
        assertEquals(0.1, JsonFields.number(m.get("x"), "x"));
        assertEquals("a", JsonFields.string(m.get("s"), "s"));
        assertArrayEquals(new float[] {1.5f, -2f}, JsonFields.floats(m.get("f"), "f"));
        assertArrayEquals(new int[] {1, 2}, JsonFields.ints(m.get("n"), "n"));
        assertEquals(Map.of(), JsonFields.object(m.get("o"), "o"));
        assertEquals(List.of(1L, 2.0), JsonFields.array(m.get("n"), "n"));
    }

    @Test
    void wrongTypesNameTheField() {
        var e = assertThrows(IllegalArgumentException.class, () -> JsonFields.integer(1.5, "step"));
        assertTrue(e.getMessage().startsWith("step: expected an integer, found Double 1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonFields.ints(List.of(1L, 1L << 40), "shape"));
        assertTrue(e.getMessage().startsWith("shape[1]: expected an int"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonFields.floats(List.of("a"), "data"));
        assertTrue(e.getMessage().startsWith("data[0]: expected a number, found String a"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonFields.object(List.of(), "o"));
        assertThrows(IllegalArgumentException.class, () -> JsonFields.array(null, "a"));
        assertThrows(IllegalArgumentException.class, () -> JsonFields.string(1L, "s"));
    }
}
