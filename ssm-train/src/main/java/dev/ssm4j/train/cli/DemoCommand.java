package dev.ssm4j.train.cli;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.train.data.Task;
import dev.ssm4j.train.data.Tasks;
import dev.ssm4j.train.loop.Evaluator;
import dev.ssm4j.train.loop.Init;
import dev.ssm4j.train.loop.ModelOptions;
import dev.ssm4j.train.loop.TrainConfig;
import dev.ssm4j.train.loop.TrainModel;
import dev.ssm4j.train.loop.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./ssm demo}: the Mamba paper's induction-heads extrapolation experiment on a laptop. Trains
 * a 2-layer Mamba (d_model 64) on induction heads at length 256, then tests it at 2^6 … 2^20 tokens
 * with the recurrent (chunked, O(1)-state) no-grad path and prints our row under the paper's
 * Table 11.
 */
public final class DemoCommand implements Command {
    /**
     * Table 11 of Gu &amp; Dao, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces"
     * (arXiv:2312.00752, Appendix E.1): induction heads test accuracy (%) at 2^6 … 2^20, models
     * trained at 2^8. "ok" = perfect generalisation accuracy (the paper's check mark), "oom" = out
     * of memory (the paper's cross). Transcribed from the paper; not measured here.
     */
    static final String[][] TABLE_11 = {
        {"MHA-Abs", "137K", "ok", "99.6", "100.0", "58.6", "26.6", "18.8", "9.8", "10.9", "7.8", "oom", "oom", "oom", "oom", "oom", "oom"},
        {"MHA-RoPE", "137K", "ok", "ok", "100.0", "83.6", "31.3", "18.4", "8.6", "9.0", "5.5", "oom", "oom", "oom", "oom", "oom", "oom"},
        {"MHA-xPos", "137K", "ok", "ok", "100.0", "99.6", "67.6", "25.4", "7.0", "9.0", "7.8", "oom", "oom", "oom", "oom", "oom", "oom"},
        {"H3", "153K", "ok", "ok", "100.0", "80.9", "39.5", "23.8", "14.8", "8.2", "5.9", "6.6", "8.2", "4.7", "8.2", "6.3", "7.4"},
        {"Hyena", "69M*", "97.7", "ok", "100.0", "ok", "44.1", "12.5", "6.6", "5.1", "7.0", "5.9", "6.6", "6.6", "5.9", "6.3", "9.8"},
        {"Mamba (paper)", "74K", "ok", "ok", "100.0", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    };

    @Override
    public String summary() {
        return "train a 2-layer Mamba on induction heads at length 256, test it up to 2^20 tokens (paper Table 11)";
    }

    @Override
    public String usage() {
        return """
            usage: ./ssm demo [--steps N] [--final-steps N] [--final-batch B] [--final-lr X] [--threads T]
                              [--seed S] [--out DIR] [--max-length L] [--sequences N] [--json]
                              [--dt-penalty X] [--dt-penalty-floor X] [--dt-min X] [--dt-max X] [--a-scale X]
                              [--val-length L] [--val-sequences N] [--from DIR]

            The induction-heads extrapolation experiment of Gu & Dao 2023 (§4.1.2, Table 11): a 2-layer
            Mamba (d_model 64, d_state 16, expand 2; vocabulary 16 + trigger) learns to recall the token
            that followed the trigger, then is tested far beyond its training length.

            Training (with a progress bar) is a length curriculum, because the task gives one target per
            sequence and the direct route at length 256 sits on the chance plateau for thousands of steps
            on a CPU (docs/results.md): stage 1 at length 64 (batch 32, lr 3e-3) until the held-out
            accuracy is 100%%, stage 2 at length 256 (batch 16, lr 1e-3) until 100%% on 128 held-out
            sequences of length 256 (Adam without weight decay, as the paper), then stage 3 at length 256
            (batch 32, lr 1e-3 with cosine decay to 0) for --final-steps steps with a Δ regulariser:
            --dt-penalty λ adds λ · mean over tokens and channels (per layer) of max(0, ln Δ − ln floor)
            to the loss, a steady push of every step size Δ towards small values in log space that the
            task loss resists only where it needs a large Δ (the answer token). The answer is kept over
            T later tokens with retention exp(A·ΣΔ), so testing at 2^20 tokens needs Δ on the distractors
            far below what 256-token training asks for; without the penalty (--dt-penalty 0, or
            --final-steps 0 for the two-stage demo of before) the model falls to 0–60%% beyond 2^14.
            The penalty is a general training option (./ssm train --dt-penalty), not a property of this
            task; nothing is trained beyond length 256. Δ starts log-uniform in [--dt-min, --dt-max],
            Mamba's [1e-3, 0.1] by default.
            With a stage 3, every 50 of its steps (and before it) the model is checked on 128 sequences of length 256
            and a few of --val-length tokens (own seeds, not the test's); the best of these checkpoints
            (at 256 first, then at --val-length; the latest on a tie) is the final model. Training is
            single-threaded (--threads does not change it); testing uses --threads: lengths 2^6 … 2^20
            with the recurrent no-grad path (chunks of 4096 tokens carrying the O(1) state), and the paper's
            Table 11 is printed with this run's row.

              --steps N          at most N steps in stages 1 and 2 each (default 1500)
              --final-steps N    stage 3 steps (default 600; 0 = no stage 3, the demo before the penalty)
              --final-batch B    stage 3 batch (default 32)       --final-lr X  stage 3 peak lr (default 1e-3)
              --dt-penalty X     stage 3 Δ penalty weight λ (default 0.01; 0 = off)
              --dt-penalty-floor X  no push below Δ = X (default 1e-9)
              --dt-min X         smallest initial Δ (default 1e-3)    --dt-max X  largest (default 0.1)
              --a-scale X        initial A = −X·(1 … 16) (default 1, Mamba's S4D-real)
              --val-length L     checkpoint-selection length (default 16384; 0 = keep the last model)
              --val-sequences N  sequences per check (default 8)
              --from DIR         skip stages 1-2: run stage 3 from this saved model (e.g. an earlier
                                 run's stage2/model), to compare stage-3 settings
              --threads T        test threads (default 2)         --seed S  seed (default 0)
              --out DIR          run folder (default runs/demo): stage1/, stage2/ (each with its own
                                 metrics.jsonl, plot.png, model/), stage 3's metrics.jsonl and
                                 plot.png, model/ (the selected model)
              --max-length L     longest test length (default 1048576 = 2^20)
              --sequences N      sequences per test length (default: 256 up to 2^12 tokens, then
                                 2^20 / length, at least 2 — i.e. 2 sequences at 2^19 and at 2^20)
              --json             print one JSON object per test length: length, sequences, accuracy
            """;
    }

    @Override
    public int run(Args a) throws Exception {
        long steps = a.longValue("steps", 1500);
        long finalSteps = a.longValue("final-steps", 600);
        int finalBatch = a.integer("final-batch", 32);
        int threads = a.integer("threads", 2);
        long seed = a.longValue("seed", 0);
        Path out = Path.of(a.string("out", "runs/demo"));
        int maxLen = a.integer("max-length", 1 << 20);
        int sequences = a.integer("sequences", 0);
        double dtMin = a.number("dt-min", 1e-3), dtMax = a.number("dt-max", 0.1), aScale = a.number("a-scale", 1);
        int valLen = a.integer("val-length", 1 << 14), valSeqs = a.integer("val-sequences", 8);
        double dtPenalty = a.number("dt-penalty", 0.01), dtFloor = a.number("dt-penalty-floor", 1e-9);
        double finalLr = a.number("final-lr", 1e-3);
        String from = a.string("from", null);
        boolean json = a.flag("json");
        a.finish();
        if (steps < 1 || finalSteps < 0 || finalBatch < 1 || threads < 1 || maxLen < 64 || sequences < 0 || valLen < 0
                || valSeqs < 1) {
            throw new UsageException("need --steps >= 1, --final-steps >= 0, --final-batch >= 1, --threads >= 1, "
                    + "--max-length >= 64, --sequences >= 0, --val-length >= 0 and --val-sequences >= 1");
        }
        if (!(dtPenalty >= 0) || !Double.isFinite(dtPenalty) || !(dtFloor > 0) || !Double.isFinite(dtFloor)
                || !(finalLr > 0) || !Double.isFinite(finalLr)) {
            throw new UsageException("need --dt-penalty >= 0, --dt-penalty-floor > 0 and --final-lr > 0 (finite), got "
                    + dtPenalty + ", " + dtFloor + ", " + finalLr);
        }
        if (from != null && finalSteps == 0) throw new UsageException("--from needs a stage 3 (--final-steps N)");
        if (valLen > 0 && valLen < 3) throw new UsageException("--val-length must be 0 or >= 3, got " + valLen);
        Init init = Init.defaults().withDt(dtMin, dtMax).withAScale(aScale);   // checks the numbers itself

        Task task = Tasks.create("induction_heads", Map.of("vocab", 16, "length", 256));
        ModelSpec spec = new ModelOptions("mamba", task.vocabSize(), 64, 2, 16, 2, 4, 0, 32, 1, 64, true, false)
                .toSpec();
        long params = new dev.ssm4j.core.model.ParameterLayout(spec).parameterCount();
        boolean say = !json;
        int stages = finalSteps > 0 ? 3 : 2;
        if (say) {
            System.out.printf(Locale.ROOT, "Induction heads (Gu & Dao 2023, §4.1.2): a 2-layer Mamba, d_model 64, %,d"
                    + " parameters; Δ initialised in [%.0e, %.0e], A scale %s; trained on 1 thread, tested on %d.%n",
                    params, dtMin, dtMax, aScale, threads);
            System.out.println("Stage 1/" + stages + ": length 64, batch 32, lr 3e-3, until 100% held-out accuracy (at most " + steps
                    + " steps)");
        }
        // Training runs on one thread: data-parallel gradients are summed per thread, so the run would
        // otherwise depend on --threads. (It is still not bitwise repeatable: the Vector API's lane
        // reductions may sum in another order once the JIT compiles them.)
        TrainConfig c1 = new TrainConfig().task("induction_heads").taskParam("vocab", 16).spec(spec).initScheme(init)
                .steps(steps).batch(32).seq(64).lr(3e-3).warmup(100).threads(1).seed(seed).out(out.resolve("stage1"))
                .evalEvery(50).stopAtAccuracy(1.0).progress(say);
        c1.weightDecay = 0;      // the paper: Adam, no weight decay
        c1.evalBatches = 4;
        Path stage2Model = from != null ? Path.of(from) : out.resolve("stage2/model");
        TrainModel model;
        if (from == null) {
            Trainer.Summary s1 = new Trainer(c1).run();
            if (say) {
                System.out.printf(Locale.ROOT, "  stage 1: %d steps, %.0f s, held-out accuracy at 64: %.1f%%%n", s1.steps(),
                        s1.seconds(), 100 * s1.evalAccuracy());
                System.out.println("Stage 2/" + stages + ": length 256, batch 16, lr 1e-3, until 100% on 128 held-out sequences (at most "
                        + steps + " steps)");
            }
            TrainConfig c2 = new TrainConfig().task("induction_heads").taskParam("vocab", 16).init(out.resolve("stage1/model"))
                    .steps(steps).batch(16).seq(256).lr(1e-3).warmup(20).threads(1).seed(seed + 1).out(out.resolve("stage2"))
                    .evalEvery(25).stopAtAccuracy(1.0).progress(say);
            c2.weightDecay = 0;
            c2.evalBatches = 8;
            Trainer t2 = new Trainer(c2);
            Trainer.Summary s2 = t2.run();
            if (say) {
                System.out.printf(Locale.ROOT, "  stage 2: %d steps, %.0f s (%.0f tokens/s), held-out accuracy at 256: %.1f%%%n",
                        s2.steps(), s2.seconds(), s2.tokensPerSecond(), 100 * s2.evalAccuracy());
            }
            model = t2.model();
        } else {
            model = TrainModel.load(stage2Model);
            if (say) System.out.println("  stages 1-2 skipped: starting stage 3 from " + stage2Model);
        }
        if (finalSteps > 0) {
            if (say) {
                System.out.printf(Locale.ROOT, "Stage 3/3: length 256, batch %d, lr %.0e cosine to 0, %d steps%s%s%n",
                        finalBatch, finalLr, finalSteps, dtPenalty > 0 ? String.format(Locale.ROOT,
                                ", Δ penalty %.3g (floor %.0e)", dtPenalty, dtFloor) : "", valLen > 0 ? String.format(Locale.ROOT,
                                "; keeps the best model on %d sequences of length %,d", valSeqs, valLen) : "");
            }
            TrainConfig c3 = new TrainConfig().task("induction_heads").taskParam("vocab", 16)
                    .init(stage2Model).steps(finalSteps).batch(finalBatch).seq(256).lr(finalLr)
                    .schedule("cosine").warmup(20).threads(1).seed(seed + 2).out(out).evalEvery(50).progress(say)
                    .dtPenalty(dtPenalty, dtFloor);
            c3.weightDecay = 0;
            c3.evalBatches = 4;
            Trainer t3 = new Trainer(c3);
            Selection sel = valLen > 0 ? new Selection(valLen, valSeqs, seed + 3, threads) : null;
            if (sel != null) {
                sel.check(model, 0);   // the stage-2 model is a candidate too
                c3.afterEval(done -> {
                    sel.check(t3.model(), done);
                    return false;
                });
            }
            Trainer.Summary s3 = t3.run();
            model = t3.model();
            if (sel != null) {
                sel.restoreInto(model);
                model.save(out.resolve("model"));
            }
            if (say) {
                System.out.printf(Locale.ROOT, "  stage 3: %d steps, %.0f s, held-out accuracy at 256: %.1f%%%s%n",
                        s3.steps(), s3.seconds(), 100 * s3.evalAccuracy(), sel == null ? "" : String.format(Locale.ROOT,
                                "; selected step %d (%.1f%% at %,d)%n  checks (step: %% at 256 / at %,d):%s", sel.bestStep,
                                100 * sel.bestAccuracy, valLen, valLen, sel.history));
            }
        } else {
            model.save(out.resolve("model"));
        }
        if (say) {
            System.out.println("Testing at 2^6 … 2^" + (31 - Integer.numberOfLeadingZeros(maxLen))
                    + " tokens (recurrent no-grad path, chunks of 4096 tokens, O(1) state)...");
        }
        List<Evaluator.Row> rows = new ArrayList<>();
        for (int len = 64; len <= maxLen; len *= 2) {
            Task t = Tasks.create("induction_heads", Map.of("vocab", 16, "length", len));
            int n = sequences > 0 ? sequences : Evaluator.defaultSequences(len);
            Evaluator.Row r = Evaluator.evaluate(model.lm(), t, len, n, 8, 4096, seed + 2, threads);
            rows.add(r);
            if (json) {
                System.out.printf(Locale.ROOT, "{\"length\": %d, \"sequences\": %d, \"accuracy\": %.6f}%n", len, n,
                        r.accuracy());
            } else {
                System.out.printf(Locale.ROOT, "  length %,9d: %6.1f%% of %d sequences (%.1f s)%n", len, 100 * r.accuracy(),
                        n, r.seconds());
            }
        }
        if (say) {
            System.out.println();
            System.out.print(table(rows, params));
            System.out.println("model: " + out.resolve("model") + "   metrics: " + out.resolve("metrics.jsonl") + "   plot: "
                    + out.resolve("plot.png"));
        }
        return 0;
    }

    /**
     * Checkpoint selection by a cheap long-length check: accuracy on 128 fresh sequences of the
     * training length 256 first (a checkpoint must be as good there as any other), then on
     * {@code sequences} fresh sequences of {@code length} tokens (seeds of their own, not the
     * test's), keeping a copy of the best weights — the latest on a tie, since later checkpoints
     * have seen more data at a lower learning rate.
     */
    static final class Selection {
        final int length, sequences, threads;
        final long seed;
        final Task task, shortTask;
        float[] best;
        long bestStep = -1;
        double bestShort = -1, bestAccuracy = -1;
        final StringBuilder history = new StringBuilder();

        Selection(int length, int sequences, long seed, int threads) {
            this.length = length;
            this.sequences = sequences;
            this.seed = seed;
            this.threads = threads;
            this.task = Tasks.create("induction_heads", Map.of("vocab", 16, "length", length));
            this.shortTask = Tasks.create("induction_heads", Map.of("vocab", 16, "length", 256));
        }

        void check(TrainModel m, long step) {
            double shortAcc = Evaluator.evaluate(m.lm(), shortTask, 256, 128, 8, 4096, seed + 1, threads).accuracy();
            history.append(String.format(Locale.ROOT, " %d:%.1f", step, 100 * shortAcc));
            if (shortAcc < bestShort) return;
            double acc = Evaluator.evaluate(m.lm(), task, length, sequences, 8, 4096, seed, threads).accuracy();
            history.append(String.format(Locale.ROOT, "/%.1f", 100 * acc));
            if (shortAcc > bestShort || acc >= bestAccuracy) {
                bestShort = shortAcc;
                bestAccuracy = acc;
                bestStep = step;
                best = m.params().clone();
            }
        }

        void restoreInto(TrainModel m) {
            System.arraycopy(best, 0, m.params(), 0, best.length);
        }
    }

    /** The paper's Table 11 with our row appended. */
    static String table(List<Evaluator.Row> ours, long params) {
        StringBuilder sb = new StringBuilder();
        sb.append("Induction heads: test accuracy (%) by sequence length, models trained at 2^8 = 256.\n");
        sb.append("Rows 1-6: Gu & Dao 2023, \"Mamba\" (arXiv:2312.00752), Table 11 (ok = perfect, oom = out of memory).\n");
        sb.append("Last row: this run (ssm4j); '-' = length not tested.\n\n");
        sb.append(String.format(Locale.ROOT, "%-15s %6s", "model", "params"));
        for (int e = 6; e <= 20; e++) sb.append(String.format(Locale.ROOT, "%6s", "2^" + e));
        sb.append('\n');
        for (String[] r : TABLE_11) {
            sb.append(String.format(Locale.ROOT, "%-15s %6s", r[0], r[1]));
            for (int k = 2; k < r.length; k++) sb.append(String.format(Locale.ROOT, "%6s", r[k]));
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%-15s %6s", "Mamba (ssm4j)", (params + 500) / 1000 + "K"));
        for (int e = 6; e <= 20; e++) {
            Evaluator.Row hit = null;
            for (Evaluator.Row r : ours) if (r.length() == 1 << e) hit = r;
            String cell = hit == null ? "-" : hit.correct() == hit.targets() ? "ok"
                    : String.format(Locale.ROOT, "%.1f", 100 * hit.accuracy());
            sb.append(String.format(Locale.ROOT, "%6s", cell));
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%-15s %6s", "  sequences", ""));
        for (int e = 6; e <= 20; e++) {
            Evaluator.Row hit = null;
            for (Evaluator.Row r : ours) if (r.length() == 1 << e) hit = r;
            sb.append(String.format(Locale.ROOT, "%6s", hit == null ? "-" : String.valueOf(hit.sequences())));
        }
        sb.append("\n* Hyena: most parameters are in learnable positional encodings (the paper's note).\n");
        return sb.toString();
    }
}
