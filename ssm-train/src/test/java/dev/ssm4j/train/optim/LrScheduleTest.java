package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void constant() {
        LrSchedule s = LrSchedule.constant(3e-4);
        assertEquals(3e-4, s.lr(0));
        assertEquals(3e-4, s.lr(1_000_000));
    }

    @Test
    void warmupCosineBoundaries() {
        LrSchedule s = LrSchedule.warmupCosine(1e-3, 10, 110, 1e-4);
        assertEquals(1e-4, s.lr(0), 1e-18);          // (0 + 1) / 10 of peak
        assertEquals(5e-4, s.lr(4), 1e-18);
        assertEquals(1e-3, s.lr(9), 1e-18);          // end of warm-up reaches peak
        assertEquals(1e-3, s.lr(10), 1e-18);         // decay starts at peak
        assertEquals(5.5e-4, s.lr(60), 1e-15);       // half way: (peak + min) / 2
        assertEquals(1e-4, s.lr(110), 1e-18);        // total: min
        assertEquals(1e-4, s.lr(10_000), 1e-18);     // and after
        for (long t = 10; t < 110; t++) assertTrue(s.lr(t + 1) <= s.lr(t), "monotone at " + t);
        assertTrue(s.lr(109) > 1e-4);
    }

    @Test
    void warmupLinearBoundaries() {
        LrSchedule s = LrSchedule.warmupLinear(2.0, 4, 14, 0.0);
        assertEquals(0.5, s.lr(0));
        assertEquals(2.0, s.lr(3));
        assertEquals(2.0, s.lr(4));
        assertEquals(1.0, s.lr(9), 1e-15);
        assertEquals(0.2, s.lr(13), 1e-15);
        assertEquals(0.0, s.lr(14));
        assertEquals(0.0, s.lr(100));
    }

    @Test
    void noWarmupAndNoDecay() {
        assertEquals(1.0, LrSchedule.warmupCosine(1.0, 0, 10, 0).lr(0));
        LrSchedule onlyWarmup = LrSchedule.warmupLinear(1.0, 5, 5, 0.5);
        assertEquals(1.0, onlyWarmup.lr(4));
        assertEquals(0.5, onlyWarmup.lr(5)); // total reached: min
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1, 10, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1, 1, 5, 2));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(1).lr(-1));
    }
}
