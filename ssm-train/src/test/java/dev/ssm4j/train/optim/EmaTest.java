package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EmaTest {
    @Test
    void averagesAndSwaps() {
        ParameterStore s = ParameterStore.builder().add("w", 3).build();
        s.setData("w", new float[] {1, 2, 3});
        Ema ema = new Ema(s, 0.5);
        s.setData("w", new float[] {3, 4, 5});
        ema.update(); // 0.5·old + 0.5·new
        assertArrayEquals(new float[] {2, 3, 4}, ema.shadow());
        ema.swap();
        assertTrue(ema.swappedIn());
        assertArrayEquals(new float[] {2, 3, 4}, s.data());
        assertThrows(IllegalStateException.class, ema::update);
        ema.swap();
        assertFalse(ema.swappedIn());
        assertArrayEquals(new float[] {3, 4, 5}, s.data());
        // a constant parameter is a fixed point
        for (int i = 0; i < 200; i++) ema.update();
        assertEquals(5f, ema.shadow()[2], 1e-5);
        Ema other = new Ema(s, 0.5);
        other.load(ema.shadow().clone());
        assertArrayEquals(ema.shadow(), other.shadow());
        assertThrows(IllegalArgumentException.class, () -> other.load(new float[2]));
    }
}
