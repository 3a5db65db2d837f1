package dev.ssm4j.train.cli;

import dev.ssm4j.train.data.Tasks;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.Init;
import dev.ssm4j.train.loop.ModelOptions;
import dev.ssm4j.train.loop.TrainConfig;
import dev.ssm4j.train.loop.Trainer;
import java.nio.file.Path;
import java.util.Locale;

/** {@code ./ssm train}: trains a Mamba / Mamba-2 on a synthetic task or a token file. */
public final class TrainCommand implements Command {
    @Override
    public String summary() {
        return "train a Mamba / Mamba-2 on a task or a data file (metrics JSONL, plot, checkpoints, --resume)";
    }

    @Override
    public String usage() {
        return """
            usage: ./ssm train (--task NAME | --data FILE) [--init DIR] [model options] [options]

            data:
              --task NAME           synthetic task: %s
              --task-params k=v,..  task parameters (e.g. vocab=16,tokens=16)
              --data FILE           .npy of 1-D token ids (int8, uint8, int16, uint16, int32, uint32
                                    or int64, little endian, ids in [0, 2^31)), or UTF-8 text
                                    (tokenized by --init's tokenizer.json if present, else bytes 0..255)
              --eval-fraction F     hold out the last F of a data file for --eval-every (default 0)
              --sampler random|sequential   data windows (default random); sequential: row j of step i
                                    reads tokens [(i·b+j)·s, (i·b+j)·s + s]
            model (ignored with --init DIR, a Hugging Face checkpoint to fine-tune):
            %s
              --init-range STD      embedding init std (default 0.02)
              --rescale-out true    out_proj init divided by √layers (default false)
            optimisation:
              --steps N             optimizer steps (default 1000)
              --batch B             rows per step (default 8)
              --seq S               tokens per row (default: the task's length, else 256)
              --lr LR               peak learning rate (default 1e-3)
              --optimizer adamw|sgd (default adamw; --beta1 --beta2 --eps --momentum)
              --weight-decay WD     decoupled decay of weights, not of A_log/D/Δ bias/norms/biases (default 0.1)
              --schedule constant|cosine|linear   (default constant) --warmup N (default 0) --min-lr (default 0)
              --clip NORM           global gradient-norm clip, 0 = off (default 1.0)
              --dt-penalty L        Mamba-1: add L · mean over tokens and channels (per layer) of
                                    max(0, ln Δ − ln F) to the loss's gradient — a push of every step
                                    size Δ towards small values in log space, for states that must keep
                                    a token over more steps than training shows (default 0 = off;
                                    the logged loss stays the cross-entropy, the penalty is dt_penalty)
              --dt-penalty-floor F  no push below Δ = F (default 1e-9)
              --seed N              init, data and evaluation seed (default 0)
              --threads T           data-parallel threads (default 1); --parallel data|kernel
              --micro-batch M       rows per forward/backward within a thread (gradient accumulation)
              --chunk C             run rows as chunks of C tokens carrying the state (BPTT over chunks)
              --bptt K              backpropagate through K chunks, detach the state beyond (0 = all)
            bookkeeping:
              --out DIR             output folder (default runs/train): checkpoint/, model/, plot.png
              --log FILE            metrics JSONL (default OUT/metrics.jsonl), one line per step
              --eval-every N        evaluate every N steps (--eval-batches, default 4)
              --stop-at-accuracy A  stop after an evaluation with accuracy >= A (tasks)
              --save-every N        checkpoint every N steps (and at the end)
              --resume              continue from OUT/checkpoint (same losses as an uninterrupted run)
              --skip-nonfinite      skip steps whose loss or gradient is NaN/Inf (default: stop)
              --quiet               no progress bar; --no-plot: no plot.png
            """.formatted(String.join(", ", Tasks.names()), ModelOptions.USAGE);
    }

    @Override
    public int run(Args a) throws Exception {
        TrainConfig c = config(a, "runs/train");
        a.finish();
        Trainer.Summary s = new Trainer(c).run();
        System.out.printf(Locale.ROOT, "trained %d steps in %.1f s (%.0f tokens/s): last loss %.4f%s%s%n", s.steps(),
                s.seconds(), s.tokensPerSecond(), s.lastLoss(),
                Double.isNaN(s.lastAccuracy()) ? "" : String.format(Locale.ROOT, ", accuracy %.3f", s.lastAccuracy()),
                Double.isNaN(s.evalLoss()) ? "" : String.format(Locale.ROOT, "; eval loss %.4f", s.evalLoss())
                        + (Double.isNaN(s.evalAccuracy()) ? "" : String.format(Locale.ROOT, ", eval accuracy %.3f",
                        s.evalAccuracy())));
        if (s.skipped() > 0) System.out.println("skipped " + s.skipped() + " non-finite steps");
        System.out.println("model: " + c.out.resolve("model") + "  metrics: " + c.logFile()
                + (c.plot ? "  plot: " + c.out.resolve("plot.png") : ""));
        return 0;
    }

    /** Reads every training option (shared with the demo). */
    static TrainConfig config(Args a, String defaultOut) {
        TrainConfig c = new TrainConfig();
        c.task = a.string("task", null);
        c.taskParams.putAll(EvalCommand.parseParams(a.string("task-params", null)));
        String data = a.string("data", null);
        c.data = data == null ? null : Path.of(data);
        c.evalFraction = a.number("eval-fraction", 0);
        String init = a.string("init", null);
        c.init = init == null ? null : Path.of(init);
        int taskVocab = c.task == null ? 256 : Tasks.create(c.task, c.taskParams).vocabSize();
        ModelOptions mo = new ModelOptions(a.string("arch", "mamba"), a.integer("vocab", taskVocab),
                a.integer("d-model", 64), a.integer("layers", 2), a.integer("d-state", 16), a.integer("expand", 2),
                a.integer("d-conv", 4), a.integer("dt-rank", 0), a.integer("headdim", 32), a.integer("ngroups", 1),
                a.integer("chunk-size", 64), bool(a, "tie", true), bool(a, "bias", false));
        if (c.init == null) c.spec = mo.toSpec();
        Init init0 = Init.defaults().withRange(a.number("init-range", 0.02));
        c.initScheme = init0.withRescale(bool(a, "rescale-out", false));
        c.steps = a.longValue("steps", 1000);
        c.batch = a.integer("batch", 8);
        c.seq = a.integer("seq", 0);
        c.lr = a.number("lr", 1e-3);
        c.optimizer = a.string("optimizer", "adamw");
        c.beta1 = a.number("beta1", 0.9);
        c.beta2 = a.number("beta2", 0.999);
        c.eps = a.number("eps", 1e-8);
        c.momentum = a.number("momentum", 0.9);
        c.weightDecay = a.number("weight-decay", 0.1);
        c.schedule = a.string("schedule", "constant");
        c.warmup = a.longValue("warmup", 0);
        c.minLr = a.number("min-lr", 0);
        c.clip = a.number("clip", 1.0);
        c.dtPenalty = a.number("dt-penalty", 0);
        c.dtPenaltyFloor = a.number("dt-penalty-floor", 1e-9);
        c.sampler = a.string("sampler", "random");
        c.seed = a.longValue("seed", 0);
        c.threads = a.integer("threads", 1);
        c.parallelism = switch (a.string("parallel", "data")) {
            case "data" -> Backprop.Parallelism.DATA;
            case "kernel" -> Backprop.Parallelism.KERNEL;
            default -> throw new UsageException("--parallel must be data or kernel");
        };
        c.microBatch = a.integer("micro-batch", 0);
        c.chunk = a.integer("chunk", 0);
        c.bpttChunks = a.integer("bptt", 0);
        c.out = Path.of(a.string("out", defaultOut));
        String log = a.string("log", null);
        c.log = log == null ? null : Path.of(log);
        c.evalEvery = a.longValue("eval-every", 0);
        c.evalBatches = a.integer("eval-batches", 4);
        c.saveEvery = a.longValue("save-every", 0);
        c.resume = a.flag("resume");
        c.skipNonfinite = a.flag("skip-nonfinite");
        c.stopAtAccuracy = a.number("stop-at-accuracy", Double.NaN);
        c.progress = !a.flag("quiet");
        c.plot = !a.flag("no-plot");
        return c;
    }

    private static boolean bool(Args a, String name, boolean dflt) {
        String v = a.string(name, null);
        if (v == null) return dflt;
        return switch (v) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new UsageException("--" + name + " must be true or false, got '" + v + "'");
        };
    }
}
