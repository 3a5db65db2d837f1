package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.tokenizer.BpeTokenizer;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.data.BatchSource;
import dev.ssm4j.train.data.RandomSampler;
import dev.ssm4j.train.data.SequentialSampler;
import dev.ssm4j.train.data.Task;
import dev.ssm4j.train.data.TaskSampler;
import dev.ssm4j.train.data.Tasks;
import dev.ssm4j.train.data.TokenFile;
import dev.ssm4j.train.data.TokenSplit;
import dev.ssm4j.train.log.AtomicDirectory;
import dev.ssm4j.train.log.MetricsWriter;
import dev.ssm4j.train.log.OptimizerCheckpoint;
import dev.ssm4j.train.log.ProgressBar;
import dev.ssm4j.train.log.TrainerState;
import dev.ssm4j.train.log.TrainingPlot;
import dev.ssm4j.train.optim.AdamW;
import dev.ssm4j.train.optim.GradClip;
import dev.ssm4j.train.optim.LrSchedule;
import dev.ssm4j.train.optim.Optimizer;
import dev.ssm4j.train.optim.ParamGroup;
import dev.ssm4j.train.optim.Sgd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop. Per step i (0-based; logged as step i + 1):
 * <ol>
 *   <li>draw batch i from the data source (seeded; its position is part of every checkpoint);</li>
 *   <li>loss and gradients ({@link Backprop}: data-parallel threads, micro-batches, BPTT chunks);</li>
 *   <li>stop on a non-finite loss or gradient naming the step — or skip the update with
 *       {@code skipNonfinite};</li>
 *   <li>clip the global gradient norm, take the optimizer step at lr = schedule(i);</li>
 *   <li>one JSON line: step, loss (of this batch, BEFORE the update), lr, tokens_per_second,
 *       accuracy (tasks), grad_norm, and eval_loss / eval_accuracy on evaluation steps;</li>
 *   <li>every {@code saveEvery} steps and at the end, an atomic checkpoint
 *       ({@code out/checkpoint}: model.safetensors + config.json with HF names, optimizer state,
 *       trainer_state.json with the step and the data position).</li>
 * </ol>
 * {@code resume} restores the checkpoint and continues: the parameters, optimizer moments and step
 * count and the data position are restored exactly, so the remaining losses equal those of the
 * uninterrupted run (bitwise for the same thread count and JIT state, see docs/training.md); metric lines after the checkpoint are
 * dropped before appending. At the end the model is also written to {@code out/model} (a Hugging
 * Face directory) and the curves to {@code out/plot.png}.
 */
public final class Trainer {
    /** What a run produced. */
    public record Summary(long steps, double lastLoss, double lastAccuracy, double evalLoss, double evalAccuracy,
                          double seconds, double tokensPerSecond, long skipped) {}

    /** Thrown when a loss or gradient is NaN/Inf and skipping was not asked for. */
    public static final class NonFiniteException extends IllegalStateException {
        public final long step;

        NonFiniteException(long step, String message) {
            super(message);
            this.step = step;
        }
    }

    private final TrainConfig cfg;
    private TrainModel model;
    private Task task;
    private BatchSource source;
    private int[] evalTokens;
    private int seq;
    private Optimizer opt;
    private LrSchedule schedule;

    public Trainer(TrainConfig cfg) {
        this.cfg = cfg;
    }

    /** The model being trained (after {@link #run()} started). */
    public TrainModel model() {
        return model;
    }

    public Task task() {
        return task;
    }

    /** The checkpoint folder of a run. */
    public static Path checkpointDir(Path out) {
        return out.resolve("checkpoint");
    }

    public Summary run() throws IOException {
        setUp();
        Path ckpt = checkpointDir(cfg.out);
        long start = 0;
        if (cfg.resume) start = restore(ckpt);
        if (start > cfg.steps) {
            throw new IllegalArgumentException("the checkpoint is at step " + start + ", beyond --steps " + cfg.steps);
        }
        Files.createDirectories(cfg.out);
        Path logFile = cfg.logFile();
        if (cfg.resume) keepLinesUpTo(logFile, start);
        Backprop bp = new Backprop(model, cfg.batch, seq,
                new Backprop.Options(cfg.threads, cfg.parallelism, cfg.microBatch, cfg.chunk, cfg.bpttChunks))
                .dtPenalty(cfg.dtPenalty, cfg.dtPenaltyFloor);
        ProgressBar bar = cfg.progress ? ProgressBar.forStdout(cfg.steps, Math.max(1, (int) (cfg.steps / 20))) : null;
        if (cfg.progress && start > 0) System.out.println("resuming at step " + start + " from " + ckpt);
        double lastLoss = Double.NaN, lastAcc = Double.NaN, evalLoss = Double.NaN, evalAcc = Double.NaN;
        long skipped = 0, tokens = 0, stepsDone = start;
        long t0 = System.nanoTime();
        try (MetricsWriter metrics = new MetricsWriter(logFile, cfg.resume)) {
            for (long i = start; i < cfg.steps; i++) {
                long s0 = System.nanoTime();
                Batch batch = source.next(cfg.batch, seq);
                Backprop.Result r = bp.lossAndGrad(batch);
                double norm = GradClip.globalNorm(model.store());
                double lr = schedule.lr(i);
                Map<String, Object> extra = new LinkedHashMap<>();
                if (task != null) extra.put("accuracy", r.accuracy());
                extra.put("grad_norm", norm);
                if (cfg.dtPenalty > 0) extra.put("dt_penalty", bp.lastDtPenalty());
                boolean finite = Double.isFinite(r.loss()) && Double.isFinite(norm);
                if (!finite) {
                    if (!cfg.skipNonfinite) {
                        throw new NonFiniteException(i + 1, "step " + (i + 1) + ": the loss is " + r.loss()
                                + " and the gradient norm " + norm + " (not finite); lower --lr, set --clip, or pass"
                                + " --skip-nonfinite to skip such steps");
                    }
                    skipped++;
                    extra.put("skipped", true);
                } else {
                    if (cfg.clip > 0) GradClip.clipGlobalNorm(model.store(), cfg.clip);
                    opt.step(lr);
                }
                long done = i + 1;
                if (cfg.evalEvery > 0 && (done % cfg.evalEvery == 0 || done == cfg.steps)) {
                    Backprop.Result e = evaluate(bp);
                    evalLoss = e.loss();
                    evalAcc = e.accuracy();
                    extra.put("eval_loss", evalLoss);
                    if (task != null) extra.put("eval_accuracy", evalAcc);
                }
                double secs = (System.nanoTime() - s0) / 1e9;
                double tps = (double) batch.b() * batch.s() / secs;
                tokens += (long) batch.b() * batch.s();
                metrics.write(done, r.loss(), lr, tps, extra);
                lastLoss = r.loss();
                lastAcc = r.accuracy();
                if (bar != null) {
                    bar.update(done, r.loss(), tps, task != null ? String.format("acc %.3f", r.accuracy()) : "");
                }
                boolean stop = task != null && extra.containsKey("eval_accuracy") && evalAcc >= cfg.stopAtAccuracy;
                if (cfg.afterEval != null && extra.containsKey("eval_loss") && cfg.afterEval.test(done)) stop = true;
                if ((cfg.saveEvery > 0 && done % cfg.saveEvery == 0) || done == cfg.steps || stop) {
                    save(ckpt, done);
                    if (cfg.plot) plot(logFile);
                }
                stepsDone = done;
                if (stop) break;
            }
            if (bar != null) bar.finish();
        } finally {
            bp.close();
        }
        if (start < cfg.steps || !Files.exists(cfg.out.resolve("model"))) {
            model.save(cfg.out.resolve("model"));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Summary(stepsDone, lastLoss, lastAcc, evalLoss, evalAcc, secs, tokens / Math.max(secs, 1e-9),
                skipped);
    }

    // ---- set-up ----------------------------------------------------------------------------------

    private void setUp() throws IOException {
        if ((cfg.task == null) == (cfg.data == null)) {
            throw new IllegalArgumentException("give exactly one of a task (--task) and a data file (--data)");
        }
        if (cfg.steps < 1 || cfg.batch < 1) {
            throw new IllegalArgumentException("--steps and --batch must be >= 1, got " + cfg.steps + ", " + cfg.batch);
        }
        if (cfg.init != null) {
            model = TrainModel.load(cfg.init);
        } else if (cfg.resume && Files.isRegularFile(checkpointDir(cfg.out).resolve("config.json"))) {
            model = TrainModel.load(checkpointDir(cfg.out));
        } else {
            if (cfg.spec == null) throw new IllegalArgumentException("no model: give model options or --init DIR");
            model = TrainModel.initialised(cfg.spec, cfg.initScheme, cfg.seed);
        }
        ModelSpec spec = model.spec();
        if (cfg.spec != null && cfg.init == null && !cfg.spec.equals(spec)) {
            throw new IllegalArgumentException("the checkpoint's model " + spec + " differs from the options' "
                    + cfg.spec);
        }
        if (cfg.task != null) {
            Map<String, Integer> p = new LinkedHashMap<>(cfg.taskParams);
            if (cfg.seq > 0 && !p.containsKey("length")) p.put("length", cfg.seq);
            task = Tasks.create(cfg.task, p);
            seq = cfg.seq > 0 ? cfg.seq : task.length();
            if (task.vocabSize() > spec.vocab) {
                throw new IllegalArgumentException("task " + task.name() + " " + task.params() + " uses " + task.vocabSize()
                        + " token ids but the model's vocabulary is " + spec.vocab + " (set --vocab)");
            }
            source = new TaskSampler(task, cfg.seed);
        } else {
            int[] tokens = readTokens(cfg.data, cfg.init);
            int need = TokenFile.vocabNeeded(tokens);
            if (need > spec.vocab) {
                throw new IllegalArgumentException(cfg.data + " has token ids up to " + (need - 1)
                        + " but the model's vocabulary is " + spec.vocab + " (set --vocab " + need + " or more)");
            }
            TokenSplit split = TokenSplit.of(tokens, cfg.evalFraction);
            evalTokens = split.eval();
            seq = cfg.seq > 0 ? cfg.seq : 256;
            if (split.train().length < seq + 1) {
                throw new IllegalArgumentException(cfg.data + ": " + split.train().length
                        + " training tokens cannot fill one row of --seq " + seq + " + 1 tokens");
            }
            source = switch (cfg.sampler) {
                case "random" -> new RandomSampler(split.train(), cfg.seed);
                case "sequential" -> new SequentialSampler(split.train(), SequentialSampler.End.WRAP);
                default -> throw new IllegalArgumentException("--sampler must be random or sequential, got " + cfg.sampler);
            };
            if (cfg.evalEvery > 0 && evalTokens.length < seq + 1) {
                throw new IllegalArgumentException("--eval-every on a data file needs a held-out part of at least --seq + 1"
                        + " tokens: set --eval-fraction (now " + cfg.evalFraction + ")");
            }
        }
        opt = switch (cfg.optimizer) {
            case "adamw" -> new AdamW(model.store(), cfg.beta1, cfg.beta2, cfg.eps, ParamGroup.decayRule(cfg.weightDecay));
            case "sgd" -> new Sgd(model.store(), cfg.momentum, 0, false, ParamGroup.decayRule(cfg.weightDecay));
            default -> throw new IllegalArgumentException("--optimizer must be adamw or sgd, got " + cfg.optimizer);
        };
        schedule = switch (cfg.schedule) {
            case "constant" -> cfg.warmup > 0 ? LrSchedule.warmupLinear(cfg.lr, cfg.warmup, Long.MAX_VALUE / 2, cfg.lr)
                    : LrSchedule.constant(cfg.lr);
            case "cosine" -> LrSchedule.warmupCosine(cfg.lr, Math.min(cfg.warmup, cfg.steps), cfg.steps, cfg.minLr);
            case "linear" -> LrSchedule.warmupLinear(cfg.lr, Math.min(cfg.warmup, cfg.steps), cfg.steps, cfg.minLr);
            default -> throw new IllegalArgumentException("--schedule must be constant, cosine or linear, got "
                    + cfg.schedule);
        };
    }

    /**
     * Token ids of a data file: .npy integers, or UTF-8 text tokenized by the init checkpoint's
     * tokenizer.json when there is one, else by bytes (ids 0..255).
     */
    public static int[] readTokens(Path data, Path init) throws IOException {
        if (data.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npy")) {
            return TokenFile.readNpy(data);
        }
        if (init != null && Files.isRegularFile(init.resolve("tokenizer.json"))) {
            return BpeTokenizer.load(init.resolve("tokenizer.json")).encode(Files.readString(data, StandardCharsets.UTF_8));
        }
        return TokenFile.readBytes(data);
    }

    // ---- evaluation ------------------------------------------------------------------------------

    /** Loss/accuracy on the fixed evaluation set (same batches at every evaluation). */
    private Backprop.Result evaluate(Backprop bp) {
        BatchSource es = task != null ? new TaskSampler(task, cfg.seed ^ 0x5EED_E7A1L)
                : new SequentialSampler(evalTokens, SequentialSampler.End.WRAP);
        double loss = 0;
        long n = 0, hit = 0;
        for (int k = 0; k < cfg.evalBatches; k++) {
            Backprop.Result r = bp.loss(es.next(cfg.batch, seq));
            loss += r.loss() * r.targets();
            n += r.targets();
            hit += r.correct();
        }
        return new Backprop.Result(n == 0 ? Double.NaN : loss / n, n, hit);
    }

    // ---- checkpoints -----------------------------------------------------------------------------

    private void save(Path ckpt, long step) throws IOException {
        TrainerState st = new TrainerState(step, opt.stepCount(), 0L, source.state(),
                Map.of("model", model.spec().toString(), "data", cfg.task != null ? cfg.task : cfg.data.toString()));
        AtomicDirectory.write(ckpt, dir -> {
            model.save(dir);
            OptimizerCheckpoint.save(dir, opt);
            st.save(dir);
        });
    }

    /** Restores parameters, optimizer and data position; returns the step to continue from. */
    private long restore(Path ckpt) throws IOException {
        AtomicDirectory.recover(ckpt);
        if (!Files.isRegularFile(ckpt.resolve(TrainerState.FILE_NAME))) {
            throw new IllegalArgumentException("--resume: no checkpoint in " + ckpt);
        }
        TrainerState st = TrainerState.load(ckpt);
        TrainModel saved = TrainModel.load(ckpt);
        if (!saved.spec().equals(model.spec())) {
            throw new IllegalArgumentException("--resume: the checkpoint holds " + saved.spec() + ", this run trains "
                    + model.spec());
        }
        System.arraycopy(saved.params(), 0, model.params(), 0, model.params().length);
        OptimizerCheckpoint.load(ckpt, opt, st.optimizerStep());
        source.restore(st.samplerState());
        return st.step();
    }

    /** Keeps the metric lines of steps 1 … {@code step} (a resumed run re-logs the later ones). */
    private static void keepLinesUpTo(Path log, long step) throws IOException {
        if (!Files.isRegularFile(log)) return;
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            Object s = dev.ssm4j.core.io.Json.parse(line) instanceof Map<?, ?> m ? m.get("step") : null;
            if (s instanceof Number num && num.longValue() <= step) keep.add(line);
        }
        Path tmp = log.resolveSibling(log.getFileName() + ".tmp");
        Files.write(tmp, keep, StandardCharsets.UTF_8);
        Files.move(tmp, log, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void plot(Path logFile) {
        try {
            List<Map<String, Object>> rows = MetricsWriter.read(logFile);
            List<TrainingPlot.Series> loss = new ArrayList<>(List.of(TrainingPlot.Series.fromMetrics("train loss", rows,
                    "loss")));
            List<TrainingPlot.Series> acc = new ArrayList<>();
            if (cfg.evalEvery > 0) loss.add(TrainingPlot.Series.fromMetrics("eval loss", rows, "eval_loss"));
            if (task != null) {
                acc.add(TrainingPlot.Series.fromMetrics("train accuracy", rows, "accuracy"));
                if (cfg.evalEvery > 0) acc.add(TrainingPlot.Series.fromMetrics("eval accuracy", rows, "eval_accuracy"));
            }
            loss.removeIf(s -> s.steps().length == 0);
            acc.removeIf(s -> s.steps().length == 0);
            String title = model.spec().kind == ModelSpec.Kind.MAMBA1 ? "Mamba" : "Mamba-2";
            TrainingPlot.write(cfg.out.resolve("plot.png"), title + " · " + (task != null ? task.name() : cfg.data),
                    loss, acc, 900, 600);
        } catch (IOException | RuntimeException e) {
            System.err.println("warning: could not write the plot: " + e.getMessage());
        }
    }
}
