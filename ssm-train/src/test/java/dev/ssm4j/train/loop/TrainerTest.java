package dev.ssm4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.data.TokenFile;
import dev.ssm4j.train.log.MetricsWriter;
import dev.ssm4j.train.testing.Goldens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop: resume equals the uninterrupted run, non-finite steps stop or are skipped, data files, fine-tuning. */
class TrainerTest {
    @TempDir
    Path tmp;

    private static ModelSpec tiny(int vocab) {
        return ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(vocab).hidden(16).layers(2).dInner(32).dState(4)
                .dtRank(2).build();
    }

    private TrainConfig inductionRun(Path out, long steps) {
        return new TrainConfig().task("induction_heads").taskParam("vocab", 6).spec(tiny(7)).steps(steps).batch(4)
                .seq(24).lr(3e-3).threads(2).seed(11).out(out).progress(false).plot(false).evalEvery(3);
    }

    private static double[] losses(Path log) throws Exception {
        return MetricsWriter.read(log).stream().mapToDouble(m -> ((Number) m.get("loss")).doubleValue()).toArray();
    }

    @Test
    void resumeContinuesExactlyAsTheUninterruptedRun() throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        Trainer ta = new Trainer(inductionRun(a, 6));
        ta.run();
        float[] finalA = ta.model().params().clone();

        new Trainer(inductionRun(b, 2).saveEvery(2)).run();
        // A crash after step 3 was logged but before its checkpoint: that line must be replaced.
        Files.writeString(b.resolve("metrics.jsonl"), "{\"step\":3,\"loss\":99.0,\"lr\":0.0,\"tokens_per_second\":1.0}\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Trainer tb = new Trainer(inductionRun(b, 6).resume(true));
        tb.run();

        double[] la = losses(a.resolve("metrics.jsonl")), lb = losses(b.resolve("metrics.jsonl"));
        assertEquals(6, la.length);
        if (KernelConfig.FORCE_SCALAR) {
            assertArrayEquals(la, lb, "loss curve of the resumed run (bitwise, same threads)");
            assertArrayEquals(finalA, tb.model().params(), "final parameters");
        } else {
            // The SIMD kernels' lane reductions (FloatVector.reduceLanes) add in a different order
            // before and after C2 compiles them, so two runs in different JIT states differ in the
            // last bits (docs/training.md, "Reproducibility"); the scalar kernels are bitwise equal.
            for (int i = 0; i < la.length; i++) assertEquals(la[i], lb[i], 1e-5 * Math.abs(la[i]), "loss of step " + (i + 1));
            for (int k = 0; k < finalA.length; k++) {
                assertEquals(finalA[k], tb.model().params()[k], 1e-4 * Math.max(1e-2, Math.abs(finalA[k])), "param " + k);
            }
        }
        List<Map<String, Object>> rows = MetricsWriter.read(b.resolve("metrics.jsonl"));
        for (int i = 0; i < rows.size(); i++) assertEquals((long) i + 1, ((Number) rows.get(i).get("step")).longValue());
        assertTrue(rows.get(2).containsKey("eval_accuracy") && rows.get(2).containsKey("accuracy"));
        try (MambaLM saved = MambaLM.load(b.resolve("model"))) {
            for (ParameterLayout.Entry e : saved.layout().entries()) {
                assertArrayEquals(tb.model().store().copyData(e.name()), saved.parameter(e.name()), e.name());
            }
        }
    }

    @Test
    void nonFiniteLossStopsNamingTheStepOrIsSkipped() {
        TrainConfig c = inductionRun(tmp.resolve("nan"), 8).lr(1e30).clip(0).threads(1);
        c.evalEvery = 0;
        Trainer.NonFiniteException e = assertThrows(Trainer.NonFiniteException.class, () -> new Trainer(c).run());
        assertTrue(e.getMessage().startsWith("step " + e.step + ":"), e.getMessage());
        assertTrue(e.step >= 2 && e.step <= 8, "step " + e.step);
        TrainConfig skip = inductionRun(tmp.resolve("skip"), 8).lr(1e30).clip(0).threads(1).skipNonfinite(true);
        skip.evalEvery = 0;
        Trainer.Summary s = assertDoesNotThrowSummary(skip);
        assertTrue(s.skipped() >= 1, "skipped " + s.skipped());
    }

    private static Trainer.Summary assertDoesNotThrowSummary(TrainConfig c) {
        try {
            return new Trainer(c).run();
        } catch (Exception ex) {
            throw new AssertionError("run failed: " + ex, ex);
        }
    }

    @Test
    void dataFileWithSequentialSamplerAndHoldOut() throws Exception {
        int[] toks = new int[2000];
        for (int i = 0; i < toks.length; i++) toks[i] = (i * 7 + i / 13) % 11;
        Path npy = tmp.resolve("tokens.npy");
        TokenFile.writeNpy(npy, toks);
        TrainConfig c = new TrainConfig().data(npy).spec(tiny(11)).steps(4).batch(2).seq(32).sampler("sequential")
                .out(tmp.resolve("lm")).progress(false).evalEvery(2).plot(true);
        c.evalFraction = 0.1;
        Trainer.Summary s = new Trainer(c).run();
        assertTrue(Double.isFinite(s.lastLoss()) && Double.isFinite(s.evalLoss()));
        assertTrue(Files.size(tmp.resolve("lm/plot.png")) > 1000);
        TrainConfig small = new TrainConfig().data(npy).spec(tiny(5)).steps(1).out(tmp.resolve("x")).progress(false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(small).run());
        assertTrue(e.getMessage().contains("vocabulary is 5"), e.getMessage());
    }

    @Test
    void fineTunesAHuggingFaceCheckpointAndSavesItBack() throws Exception {
        Path init = Goldens.modelDir("mamba1_tied");
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "0123 ".repeat(100), StandardCharsets.UTF_8);   // byte ids < 64 = the vocab
        TrainConfig c = new TrainConfig().data(text).init(init).steps(2).batch(2).seq(16).out(tmp.resolve("ft"))
                .progress(false).plot(false);
        Trainer t = new Trainer(c);
        t.run();
        try (MambaLM saved = MambaLM.load(tmp.resolve("ft/model")); MambaLM orig = MambaLM.load(init)) {
            assertEquals(orig.spec(), saved.spec());
            float[] before = orig.parameter(ParameterLayout.EMBEDDINGS), after = saved.parameter(ParameterLayout.EMBEDDINGS);
            assertArrayEquals(t.model().store().copyData(ParameterLayout.EMBEDDINGS), after);
            boolean moved = false;
            for (int k = 0; k < before.length; k++) moved |= before[k] != after[k];
            assertTrue(moved, "two steps of training changed the embeddings");
        }
    }
}
