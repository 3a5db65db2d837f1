package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ModelSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a training run is made of: the model (a new one from {@link #spec} or a Hugging Face
 * checkpoint {@link #init}), the data (a synthetic {@link #task} or a token/text {@link #data} file),
 * the optimisation and the bookkeeping. Mutable with fluent setters and the defaults of
 * {@code ./ssm train}; {@link Trainer} validates it.
 */
public final class TrainConfig {
    /** Synthetic task name (dev.ssm4j.train.data.Tasks) — or null when {@link #data} is set. */
    public String task;
    /** Task parameters overriding the task's defaults (e.g. vocab, tokens). */
    public Map<String, Integer> taskParams = new LinkedHashMap<>();
    /** A .npy token file or a UTF-8 text file — or null when {@link #task} is set. */
    public Path data;
    /** Fraction of a data file held out (at its end) for evaluation; 0 = none. */
    public double evalFraction = 0;

    /** The model to create when {@link #init} is null. */
    public ModelSpec spec;
    /** A Hugging Face checkpoint directory to fine-tune (config.json + model.safetensors), or null. */
    public Path init;
    /** Initialisation of a new model. */
    public Init initScheme = Init.defaults();

    public long steps = 1000;
    public int batch = 8;
    /** Tokens per row (0: the task's configured length). */
    public int seq = 0;
    public double lr = 1e-3;
    public String optimizer = "adamw";
    public double weightDecay = 0.1;
    public double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    public double momentum = 0.9;
    public String schedule = "constant";
    public long warmup = 0;
    public double minLr = 0;
    /**
     * Weight λ of the optional Δ regulariser (dev.ssm4j.train.backward.DtPenalty, Mamba-1): a push of
     * every step size Δ above {@link #dtPenaltyFloor} towards smaller values in log space; 0 = off.
     */
    public double dtPenalty = 0;
    public double dtPenaltyFloor = 1e-9;
    /** Global gradient-norm clip; 0 = off. */
    public double clip = 1.0;
    /** "random" or "sequential" (data files only). */
    public String sampler = "random";
    public long seed = 0;

    public int threads = 1;
    public Backprop.Parallelism parallelism = Backprop.Parallelism.DATA;
    public int microBatch = 0;
    /** Tokens per chunk (BPTT over chunks; 0 = whole rows) and chunks per backpropagation window (0 = all). */
    public int chunk = 0, bpttChunks = 0;

    /** Output folder: checkpoint/, model/ (final HF checkpoint), plot.png, metrics.jsonl by default. */
    public Path out = Path.of("runs/train");
    /** Metrics JSONL (null: out/metrics.jsonl). */
    public Path log;
    public long evalEvery = 0;
    /** Batches (of {@link #batch} rows) per evaluation. */
    public int evalBatches = 4;
    public long saveEvery = 0;
    public boolean resume = false;
    public boolean skipNonfinite = false;
    /** Stop early after an evaluation whose accuracy is at least this (tasks; NaN = never). */
    public double stopAtAccuracy = Double.NaN;
    /**
     * Called after every evaluation with the number of steps done (the model is {@link Trainer#model()});
     * returning true stops the run there, like {@link #stopAtAccuracy}. Null: none.
     */
    public java.util.function.LongPredicate afterEval;
    /** Progress bar on stdout. */
    public boolean progress = true;
    /** Write plot.png at the end (and at every checkpoint). */
    public boolean plot = true;

    public TrainConfig task(String name) { this.task = name; return this; }
    public TrainConfig taskParam(String k, int v) { this.taskParams.put(k, v); return this; }
    public TrainConfig data(Path p) { this.data = p; return this; }
    public TrainConfig spec(ModelSpec s) { this.spec = s; return this; }
    public TrainConfig init(Path p) { this.init = p; return this; }
    public TrainConfig initScheme(Init i) { this.initScheme = i; return this; }
    public TrainConfig steps(long v) { this.steps = v; return this; }
    public TrainConfig batch(int v) { this.batch = v; return this; }
    public TrainConfig seq(int v) { this.seq = v; return this; }
    public TrainConfig lr(double v) { this.lr = v; return this; }
    public TrainConfig optimizer(String v) { this.optimizer = v; return this; }
    public TrainConfig weightDecay(double v) { this.weightDecay = v; return this; }
    public TrainConfig schedule(String v) { this.schedule = v; return this; }
    public TrainConfig warmup(long v) { this.warmup = v; return this; }
    public TrainConfig dtPenalty(double lambda, double floor) { this.dtPenalty = lambda; this.dtPenaltyFloor = floor; return this; }
    public TrainConfig clip(double v) { this.clip = v; return this; }
    public TrainConfig sampler(String v) { this.sampler = v; return this; }
    public TrainConfig seed(long v) { this.seed = v; return this; }
    public TrainConfig threads(int v) { this.threads = v; return this; }
    public TrainConfig chunk(int c, int bptt) { this.chunk = c; this.bpttChunks = bptt; return this; }
    public TrainConfig out(Path p) { this.out = p; return this; }
    public TrainConfig log(Path p) { this.log = p; return this; }
    public TrainConfig evalEvery(long v) { this.evalEvery = v; return this; }
    public TrainConfig saveEvery(long v) { this.saveEvery = v; return this; }
    public TrainConfig resume(boolean v) { this.resume = v; return this; }
    public TrainConfig skipNonfinite(boolean v) { this.skipNonfinite = v; return this; }
    public TrainConfig stopAtAccuracy(double v) { this.stopAtAccuracy = v; return this; }
    public TrainConfig afterEval(java.util.function.LongPredicate v) { this.afterEval = v; return this; }
    public TrainConfig progress(boolean v) { this.progress = v; return this; }
    public TrainConfig plot(boolean v) { this.plot = v; return this; }

    /** The metrics file actually used. */
    public Path logFile() {
        return log != null ? log : out.resolve("metrics.jsonl");
    }
}
