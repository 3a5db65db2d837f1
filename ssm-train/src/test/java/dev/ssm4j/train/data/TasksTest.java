package dev.ssm4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TasksTest {
    private static final int IGN = Batch.IGNORE;

    // ------------------------------------------------------------------ generic invariants

    @Test
    void everyTaskIsDeterministicInRangeAndScoresPerfectAndConstantPredictors() {
        for (String name : Tasks.names()) {
            Task task = Tasks.create(name);
            assertEquals(name, task.name());
            Batch a = task.batch(new Rng(1), 3);
            Batch b = task.batch(new Rng(1), 3);
            assertArrayEquals(a.inputs(), b.inputs(), name + " determinism");
            assertArrayEquals(a.targets(), b.targets(), name + " determinism");
            Batch c = task.batch(new Rng(2), 3);
            assertNotEquals(List.of(a.inputs()), List.of(c.inputs()), name + " seeds differ");
            assertEquals(3 * task.length(), a.inputs().length);
            for (int i = 0; i < a.inputs().length; i++) {
                assertTrue(a.inputs()[i] >= 0 && a.inputs()[i] < task.vocabSize(), name + " input id " + a.inputs()[i]);
                int t = a.targets()[i];
                assertTrue(t == IGN || (t >= 0 && t < task.vocabSize()), name + " target id " + t);
            }
            // perfect predictor (predictions = targets) and perfect logits
            assertEquals(1.0, task.accuracy(a, a.targets().clone()), name);
            float[] logits = new float[a.targets().length * task.vocabSize()];
            for (int i = 0; i < a.targets().length; i++) {
                if (a.targets()[i] != IGN) logits[i * task.vocabSize() + a.targets()[i]] = 5f;
            }
            assertEquals(1.0, task.accuracy(a, logits), name + " argmax of perfect logits");
            // the best constant predictor is at chance level
            Batch big = task.batch(new Rng(3), Math.max(1, 4000 / a.answerCount() * 3), 64);
            double best = 0;
            for (int v = 0; v < task.vocabSize(); v++) {
                int[] pred = new int[big.targets().length];
                java.util.Arrays.fill(pred, v);
                best = Math.max(best, task.accuracy(big, pred));
            }
            assertTrue(Math.abs(best - task.chance()) < 0.03 + 0.5 * task.chance(),
                    name + ": best constant predictor " + best + " vs chance " + task.chance());
            assertTrue(best < 3 * task.chance(), name + ": constant predictor far above chance: " + best);
        }
    }

    @Test
    void registryParametersAndErrors() {
        Task t = Tasks.create("mqar", Map.of("pairs", 4, "length", 16));
        assertEquals(Map.of("pairs", 4, "key_vocab", 32, "value_vocab", 32, "length", 16), t.params());
        assertEquals(65, t.vocabSize());
        var e = assertThrows(IllegalArgumentException.class, () -> Tasks.create("mqar", Map.of("kv", 3)));
        assertTrue(e.getMessage().contains("pairs"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> Tasks.create("copying"));
        assertTrue(e2.getMessage().contains("selective_copying"), e2.getMessage());
        assertEquals(List.of("selective_copying", "induction_heads", "mqar"), Tasks.names());
        assertTrue(Tasks.help().contains("value_vocab"));
        var e3 = assertThrows(IllegalArgumentException.class, () -> Tasks.create("mqar").batch(new Rng(0), 2, 31));
        assertTrue(e3.getMessage().contains("32"), e3.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tasks.create("selective_copying", Map.of("length", 31)));
        assertThrows(IllegalArgumentException.class, () -> Tasks.create("induction_heads").batch(new Rng(0), 0, 8));
    }

    // ------------------------------------------------------------------ selective copying

    @Test
    void selectiveCopyingFormat() {
        SelectiveCopying task = new SelectiveCopying(5, 6, 23);
        assertEquals(8, task.vocabSize());
        assertEquals(7, task.markerToken());
        for (int len : new int[] {10, 23, 40}) {
            Batch bt = task.batch(new Rng(len), 4, len);
            for (int r = 0; r < 4; r++) {
                int row = r * len;
                int[] data = new int[5];
                int k = 0;
                for (int t = 0; t < len - 5; t++) {
                    int x = bt.inputs()[row + t];
                    assertEquals(IGN, bt.targets()[row + t]);
                    if (x != 0) {
                        assertTrue(x >= 1 && x <= 6, "data token " + x);
                        data[k++] = x;
                    }
                }
                assertEquals(5, k, "exactly M data tokens in the content region");
                for (int j = 0; j < 5; j++) {
                    assertEquals(task.markerToken(), bt.inputs()[row + len - 5 + j]);
                    assertEquals(data[j], bt.targets()[row + len - 5 + j], "answer " + j + " is data token " + j);
                }
            }
            assertEquals(4 * 5, bt.answerCount());
        }
        // the minimal length packs the data tokens densely at the front
        Batch dense = task.batch(new Rng(0), 1, 10);
        for (int t = 0; t < 5; t++) assertTrue(dense.inputs()[t] != 0);
    }

    @Test
    void selectiveCopyingPositionsAreSpreadOut() {
        SelectiveCopying task = new SelectiveCopying(2, 4, 12);
        int[] hits = new int[10];
        Batch bt = task.batch(new Rng(5), 2000, 12);
        for (int r = 0; r < 2000; r++) {
            for (int t = 0; t < 10; t++) if (bt.inputs()[r * 12 + t] != 0) hits[t]++;
        }
        for (int h : hits) assertTrue(Math.abs(h - 400) < 80, "a position holds data " + h + " times of 2000, expected ~400");
    }

    // ------------------------------------------------------------------ induction heads

    @Test
    void inductionHeadsFormat() {
        InductionHeads task = new InductionHeads(6, 30);
        assertEquals(7, task.vocabSize());
        for (int len : new int[] {3, 4, 30}) {
            Batch bt = task.batch(new Rng(len), 50, len);
            for (int r = 0; r < 50; r++) {
                int row = r * len;
                int triggers = 0, first = -1;
                for (int t = 0; t < len; t++) {
                    if (bt.inputs()[row + t] == task.triggerToken()) {
                        triggers++;
                        if (first < 0) first = t;
                    }
                    if (t < len - 1) assertEquals(IGN, bt.targets()[row + t]);
                }
                assertEquals(2, triggers, "trigger appears exactly twice");
                assertEquals(task.triggerToken(), bt.inputs()[row + len - 1], "sequence ends with the trigger");
                assertTrue(first <= len - 3);
                int answer = bt.targets()[row + len - 1];
                assertEquals(bt.inputs()[row + first + 1], answer, "target = token after the first trigger");
                assertTrue(answer >= 0 && answer < 6);
            }
            assertEquals(50, bt.answerCount());
        }
    }

    // ------------------------------------------------------------------ MQAR

    @Test
    void mqarFormat() {
        Mqar task = new Mqar(5, 7, 6, 29); // keys 1..7, values 8..13
        assertEquals(14, task.vocabSize());
        for (int len : new int[] {20, 29, 64}) {
            Batch bt = task.batch(new Rng(len), 20, len);
            for (int r = 0; r < 20; r++) {
                int row = r * len;
                java.util.Map<Integer, Integer> kv = new java.util.HashMap<>();
                for (int i = 0; i < 5; i++) {
                    int k = bt.inputs()[row + 2 * i], v = bt.inputs()[row + 2 * i + 1];
                    assertTrue(k >= 1 && k <= 7, "key id " + k);
                    assertTrue(v >= 8 && v <= 13, "value id " + v);
                    assertEquals(null, kv.put(k, v), "keys are distinct");
                    assertEquals(IGN, bt.targets()[row + 2 * i]);
                    assertEquals(IGN, bt.targets()[row + 2 * i + 1]);
                }
                assertEquals(5, new HashSet<>(kv.values()).size(), "values are distinct");
                Set<Integer> queried = new HashSet<>();
                for (int t = 10; t < len; t++) {
                    int x = bt.inputs()[row + t];
                    if (x >= 1 && x <= 7) {
                        assertTrue(queried.add(x), "each key queried once");
                        assertEquals(kv.get(x), bt.targets()[row + t], "target of a query = its value");
                        assertEquals(0, bt.inputs()[row + t + 1], "a filler follows the query, not its value");
                    } else {
                        assertEquals(0, x, "only queries and fillers after the pairs");
                        assertEquals(IGN, bt.targets()[row + t]);
                    }
                }
                assertEquals(kv.keySet(), queried, "every key is queried");
            }
            assertEquals(20 * 5, bt.answerCount());
        }
        assertThrows(IllegalArgumentException.class, () -> new Mqar(5, 4, 6, 20)); // keys must be distinct
        var e = assertThrows(IllegalArgumentException.class, () -> new Mqar(5, 7, 4, 20));
        assertTrue(e.getMessage().contains("value_vocab is 4"), e.getMessage()); // values too
    }

    @Test
    void accuracyCountsOnlyAnswerPositions() {
        Batch bt = new Batch(1, 4, new int[] {1, 2, 3, 4}, new int[] {IGN, 2, IGN, 0});
        assertEquals(0.5, bt.accuracy(new int[] {9, 2, 9, 1}));
        assertEquals(2, bt.answerCount());
        assertArrayEquals(new int[] {1, 0}, Batch.argmax(new float[] {0, 3, 1, 2, 2, 0}, 3));
        assertThrows(IllegalArgumentException.class, () -> bt.accuracy(new int[3]));
        assertTrue(Double.isNaN(new Batch(1, 1, new int[1], new int[] {IGN}).accuracy(new int[1])));
    }
}
