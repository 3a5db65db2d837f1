package dev.ssm4j.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RngTest {
    @Test
    void sameStreamAsSplittableRandom() {
        // java.util.SplittableRandom(seed) is SplitMix64 with the golden gamma: the same 64-bit stream.
        for (long seed : new long[] {0, 1, 42, -7}) {
            Rng r = new Rng(seed);
            SplittableRandom s = new SplittableRandom(seed);
            for (int i = 0; i < 100; i++) assertEquals(s.nextLong(), r.nextLong(), "seed " + seed + " draw " + i);
        }
        assertEquals(0xE220A8397B1DCDAFL, new Rng(0).nextLong()); // SplitMix64 reference value for seed 0
    }

    @Test
    void stateSaveRestoreContinuesIdentically() {
        Rng a = new Rng(123);
        for (int i = 0; i < 17; i++) a.nextInt(10);
        long saved = a.state();
        long[] next = new long[20];
        for (int i = 0; i < 20; i++) next[i] = a.nextLong();
        Rng b = new Rng(999).restore(saved);
        for (int i = 0; i < 20; i++) assertEquals(next[i], b.nextLong());
        Rng c = new Rng(5);
        Rng d = c.copy();
        assertEquals(c.nextDouble(), d.nextDouble());
    }

    @Test
    void boundedDrawsAreInRangeAndRoughlyUniform() {
        Rng r = new Rng(7);
        int[] counts = new int[6];
        for (int i = 0; i < 60_000; i++) counts[r.nextInt(6)]++;
        for (int c : counts) assertTrue(Math.abs(c - 10_000) < 500, "count " + c);
        for (int i = 0; i < 1000; i++) {
            int x = r.nextInt(-3, 4);
            assertTrue(x >= -3 && x < 4);
            double u = r.nextDouble();
            assertTrue(u >= 0 && u < 1);
        }
        assertEquals(0, r.nextInt(1));
        int big = r.nextInt(Integer.MAX_VALUE);
        assertTrue(big >= 0);
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
    }

    @Test
    void chooseAndShuffle() {
        Rng r = new Rng(9);
        int[] hits = new int[10];
        for (int rep = 0; rep < 5000; rep++) {
            boolean[] c = r.choose(10, 3);
            int n = 0;
            for (int i = 0; i < 10; i++) {
                if (c[i]) {
                    n++;
                    hits[i]++;
                }
            }
            assertEquals(3, n);
        }
        for (int h : hits) assertTrue(Math.abs(h - 1500) < 150, "position chosen " + h + " times of 5000, expected ~1500");
        boolean[] all = r.choose(4, 4);
        for (boolean b : all) assertTrue(b);
        int[] a = {0, 1, 2, 3, 4, 5, 6};
        r.shuffle(a);
        int[] sorted = a.clone();
        java.util.Arrays.sort(sorted);
        assertEquals(java.util.Arrays.toString(new int[] {0, 1, 2, 3, 4, 5, 6}), java.util.Arrays.toString(sorted));
        assertThrows(IllegalArgumentException.class, () -> r.choose(3, 4));
    }
}
