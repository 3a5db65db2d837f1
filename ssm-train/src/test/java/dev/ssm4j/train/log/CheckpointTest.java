package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.data.BatchSource;
import dev.ssm4j.train.data.Rng;
import dev.ssm4j.train.data.SequentialSampler;
import dev.ssm4j.train.optim.AdamW;
import dev.ssm4j.train.optim.Ema;
import dev.ssm4j.train.optim.LrSchedule;
import dev.ssm4j.train.optim.ParamGroup;
import dev.ssm4j.train.optim.ParameterStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void atomicDirectoryReplacesAndKeepsOldOnFailure() throws IOException {
        Path ck = tmp.resolve("ckpt");
        AtomicDirectory.write(ck, d -> Files.writeString(d.resolve("a.txt"), "one"));
        assertEquals("one", Files.readString(ck.resolve("a.txt")));
        AtomicDirectory.write(ck, d -> Files.writeString(d.resolve("b.txt"), "two"));
        assertFalse(Files.exists(ck.resolve("a.txt")), "the old content is replaced, not merged");
        assertEquals("two", Files.readString(ck.resolve("b.txt")));
        // a failing writer leaves the previous checkpoint intact and no temporary folder
        assertThrows(IOException.class, () -> AtomicDirectory.write(ck, d -> {
            Files.writeString(d.resolve("c.txt"), "half");
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("two", Files.readString(ck.resolve("b.txt")));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void recoverAfterACrashBetweenTheRenames() throws IOException {
        Path ck = tmp.resolve("ckpt");
        AtomicDirectory.write(ck, d -> Files.writeString(d.resolve("x"), "old"));
        // simulate: old renamed away, new temp complete but not yet renamed, plus a stale temp
        Files.move(ck, tmp.resolve("ckpt.old-123"));
        Files.createDirectories(tmp.resolve("ckpt.tmp-456"));
        Files.writeString(tmp.resolve("ckpt.tmp-456/x"), "new");
        AtomicDirectory.recover(ck);
        assertEquals("old", Files.readString(ck.resolve("x")));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count(), "temp and old folders cleaned up");
        }
        AtomicDirectory.recover(tmp.resolve("nothing-here")); // no-op
    }

    @Test
    void trainerStateRoundTrip() throws IOException {
        TrainerState st = new TrainerState(1200, 1200, 0x9E3779B97F4A7C15L, -1L, Map.of("best_eval_loss", 1.25,
                "task", "mqar"));
        TrainerState back = TrainerState.fromJson(st.toJson());
        assertEquals(st, back);
        assertTrue(st.toJson().contains("\"rng_state\": \"9e3779b97f4a7c15\""), st.toJson());
        st.save(tmp);
        assertEquals(st, TrainerState.load(tmp));
        assertThrows(IllegalArgumentException.class, () -> TrainerState.fromJson("{\"format\":\"other\"}"));
    }

    @Test
    void floatNpyRoundTrip() throws IOException {
        float[] a = {1.5f, -0f, Float.MIN_VALUE, 3.4e38f, Float.NaN};
        Path f = tmp.resolve("a.npy");
        OptimizerCheckpoint.writeFloats(f, a);
        assertArrayEquals(a, OptimizerCheckpoint.readFloats(f));
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 70));
        assertThrows(IOException.class, () -> OptimizerCheckpoint.readFloats(f));
    }

    // ---------------------------------------------------------------- end-to-end resume

    /** A toy "model": p ← AdamW on g = p − (mean input of row j mod n) / 10, with EMA. */
    private static final class Run {
        final ParameterStore store = ParameterStore.builder().add("w", 5).add("layer.bias", 3).build();
        final AdamW opt = new AdamW(store, ParamGroup.decayRule(0.1));
        final Ema ema;
        final BatchSource data;
        final Rng rng = new Rng(99); // e.g. dropout / eval sampling
        final LrSchedule lr = LrSchedule.warmupCosine(0.05, 3, 20, 0.005);
        long step;

        Run(int[] tokens) {
            for (int i = 0; i < store.size(); i++) store.data()[i] = i * 0.1f;
            ema = new Ema(store, 0.9);
            data = new SequentialSampler(tokens, SequentialSampler.End.WRAP);
        }

        void train(long until) {
            while (step < until) {
                Batch b = data.next(2, 4);
                float noise = (float) rng.nextDouble();
                store.zeroGrad();
                for (int i = 0; i < store.size(); i++) {
                    store.grad()[i] = store.data()[i] - (b.inputs()[i % b.inputs().length] + noise) / 10f;
                }
                opt.step(lr.lr(step));
                ema.update();
                step++;
            }
        }

        void save(Path dir) throws IOException {
            AtomicDirectory.write(dir, d -> {
                OptimizerCheckpoint.writeFloats(d.resolve("params.npy"), store.data());
                OptimizerCheckpoint.writeFloats(d.resolve("ema.npy"), ema.shadow());
                OptimizerCheckpoint.save(d, opt);
                new TrainerState(step, opt.stepCount(), rng.state(), data.state(), Map.of()).save(d);
            });
        }

        void load(Path dir) throws IOException {
            AtomicDirectory.recover(dir);
            TrainerState st = TrainerState.load(dir);
            System.arraycopy(OptimizerCheckpoint.readFloats(dir.resolve("params.npy")), 0, store.data(), 0, store.size());
            ema.load(OptimizerCheckpoint.readFloats(dir.resolve("ema.npy")));
            OptimizerCheckpoint.load(dir, opt, st.optimizerStep());
            rng.restore(st.rngState());
            data.restore(st.samplerState());
            step = st.step();
        }
    }

    @Test
    void resumeContinuesBitForBit() throws IOException {
        int[] tokens = new int[97];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 31) % 17;
        Run straight = new Run(tokens);
        straight.train(20);

        Run first = new Run(tokens);
        first.train(7);
        first.save(tmp.resolve("ck"));
        first.train(9);
        first.save(tmp.resolve("ck")); // overwrite: the checkpoint at step 9 wins
        Run resumed = new Run(tokens);
        resumed.load(tmp.resolve("ck"));
        assertEquals(9, resumed.step);
        resumed.train(20);
        assertArrayEquals(straight.store.data(), resumed.store.data());
        assertArrayEquals(straight.ema.shadow(), resumed.ema.shadow());
        assertArrayEquals(straight.opt.state().get("exp_avg_sq"), resumed.opt.state().get("exp_avg_sq"));
        assertEquals(straight.data.state(), resumed.data.state());
    }
}
