package dev.ssm4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class SamplerTest {
    /** tokens[i] = i, so a token's value is its position. */
    static int[] iota(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i;
        return t;
    }

    @Test
    void sequentialReadsTheDocumentedWindows() {
        int n = 103, b = 3, s = 5;
        SequentialSampler sp = new SequentialSampler(iota(n), SequentialSampler.End.STOP);
        assertEquals(20, sp.windows(s)); // floor(102 / 5)
        for (int i = 0; i < 6; i++) {
            Batch bt = sp.next(b, s);
            for (int j = 0; j < b; j++) {
                int start = (i * b + j) * s;
                for (int t = 0; t < s; t++) {
                    assertEquals(start + t, bt.inputs()[j * s + t], "step " + i + " row " + j + " input " + t);
                    assertEquals(start + t + 1, bt.targets()[j * s + t], "step " + i + " row " + j + " target " + t);
                }
            }
        }
        assertEquals(18, sp.state());
        assertFalse(sp.hasNext(b, s)); // windows 18, 19, 20: 20 does not exist
        assertTrue(sp.hasNext(2, s));
        assertThrows(NoSuchElementException.class, () -> sp.next(b, s));
        Batch last = sp.next(2, s); // windows 18 and 19: the last target is token 100 (tokens 101, 102 unused)
        assertEquals(100, last.targets()[2 * s - 1]);
    }

    @Test
    void sequentialWrapsAround() {
        int n = 23, s = 4; // windows: floor(22 / 4) = 5
        SequentialSampler sp = new SequentialSampler(iota(n), SequentialSampler.End.WRAP);
        Batch bt = sp.next(7, s); // windows 0..6 → 0, 1, 2, 3, 4, 0, 1
        int[] expectStart = {0, 4, 8, 12, 16, 0, 4};
        for (int j = 0; j < 7; j++) {
            assertEquals(expectStart[j], bt.inputs()[j * s]);
            assertEquals(expectStart[j] + s, bt.targets()[j * s + s - 1]);
        }
        assertTrue(sp.hasNext(100, s));
        assertThrows(IllegalArgumentException.class, () -> new SequentialSampler(iota(4), SequentialSampler.End.WRAP).next(1, 4));
    }

    @Test
    void sequentialSaveRestoreContinuesExactly() {
        int[] tok = iota(1000);
        SequentialSampler a = new SequentialSampler(tok, SequentialSampler.End.WRAP);
        a.next(4, 16);
        a.next(4, 16);
        long saved = a.state();
        Batch expected = a.next(4, 16);
        SequentialSampler b = new SequentialSampler(tok, SequentialSampler.End.WRAP);
        b.restore(saved);
        Batch got = b.next(4, 16);
        assertArrayEquals(expected.inputs(), got.inputs());
        assertArrayEquals(expected.targets(), got.targets());
    }

    @Test
    void randomSamplerWindowsAndRestore() {
        int n = 50, s = 7;
        RandomSampler a = new RandomSampler(iota(n), 77);
        boolean sawFirst = false, sawLast = false;
        for (int step = 0; step < 300; step++) {
            Batch bt = a.next(4, s);
            for (int j = 0; j < 4; j++) {
                int start = bt.inputs()[j * s];
                assertTrue(start >= 0 && start <= n - s - 1, "start " + start);
                for (int t = 0; t < s; t++) {
                    assertEquals(start + t, bt.inputs()[j * s + t]);
                    assertEquals(start + t + 1, bt.targets()[j * s + t]);
                }
                sawFirst |= start == 0;
                sawLast |= start == n - s - 1;
            }
        }
        assertTrue(sawFirst && sawLast, "both extreme windows are drawn");
        long saved = a.state();
        Batch expected = a.next(3, s);
        RandomSampler b = new RandomSampler(iota(n), 1);
        b.restore(saved);
        assertArrayEquals(expected.inputs(), b.next(3, s).inputs());
        assertThrows(IllegalArgumentException.class, () -> new RandomSampler(iota(7), 1).next(1, 7));
    }

    @Test
    void taskSamplerSaveRestore() {
        TaskSampler a = new TaskSampler(Tasks.create("induction_heads"), 5);
        a.next(2, 32);
        long saved = a.state();
        Batch expected = a.next(2, 32);
        TaskSampler b = new TaskSampler(Tasks.create("induction_heads"), 6);
        b.restore(saved);
        Batch got = b.next(2, 32);
        assertArrayEquals(expected.inputs(), got.inputs());
        assertArrayEquals(expected.targets(), got.targets());
    }

    @Test
    void trainEvalSplit() {
        TokenSplit sp = TokenSplit.of(iota(1000), 0.1);
        assertEquals(900, sp.train().length);
        assertEquals(100, sp.eval().length);
        assertEquals(899, sp.train()[899]);
        assertEquals(900, sp.eval()[0]);
        assertEquals(0, TokenSplit.of(iota(10), 0).eval().length);
        assertEquals(3, TokenSplit.of(iota(10), 0.25).eval().length); // round(2.5) = 3
        assertThrows(IllegalArgumentException.class, () -> TokenSplit.of(iota(10), 1.0));
    }
}
