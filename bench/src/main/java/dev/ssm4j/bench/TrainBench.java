package dev.ssm4j.bench;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.data.RandomSampler;
import dev.ssm4j.train.data.Rng;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.Init;
import dev.ssm4j.train.loop.ModelOptions;
import dev.ssm4j.train.loop.TrainModel;
import dev.ssm4j.train.optim.AdamW;
import dev.ssm4j.train.optim.GradClip;
import dev.ssm4j.train.optim.ParamGroup;
import java.util.List;

/**
 * {@code ./ssm bench train}: training throughput of a small language model — full training steps
 * (forward with activation recording, cross-entropy, backward, gradient clipping, AdamW) on random
 * byte tokens, timed after warm-up steps. The reference configuration is the "small
 * Mamba": hidden 128, 4 layers, vocab 256, batch 8 × 256 tokens, AdamW.
 */
public final class TrainBench implements Command {
    @Override
    public String summary() {
        return "training steps per second of a small Mamba / Mamba-2 (hidden 128, 4 layers, vocab 256, batch 8 x 256, AdamW)";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench train [--arch mamba,mamba2] [--threads 1,2] [--parallel data,kernel]
                                         [--steps 20] [--warmup 5] [--d-model 128] [--layers 4] [--vocab 256]
                                         [--batch 8] [--seq 256] [--json]
                Times --steps full training steps (forward + cross-entropy + backward + clip + AdamW) after
                --warmup untimed ones, on random tokens. Columns: model, phase (train), weights (f32),
                threads, parallel (data: rows split over threads; kernel: the kernels split their loops),
                tokens (timed), seconds, tokens_per_second. SSM_BENCH_QUICK=1: 2 warm-up + 3 timed steps.""";
    }

    @Override
    public int run(Args a) throws Exception {
        List<String> archs = List.of(a.string("arch", "mamba").split(","));
        int[] threads = a.intList("threads", new int[] {1, 2});
        List<String> modes = List.of(a.string("parallel", "data").split(","));
        boolean quick = System.getenv("SSM_BENCH_QUICK") != null;
        int steps = a.integer("steps", quick ? 3 : 20), warmup = a.integer("warmup", quick ? 2 : 5);
        int H = a.integer("d-model", 128), layers = a.integer("layers", 4), V = a.integer("vocab", 256);
        int b = a.integer("batch", 8), s = a.integer("seq", 256);
        boolean json = a.flag("json");
        a.finish();
        if (steps < 1 || warmup < 0) throw new UsageException("--steps must be >= 1 and --warmup >= 0");
        BenchReport report = new BenchReport(json);
        Rng rng = new Rng(7);
        int[] tokens = new int[1 << 20];
        for (int i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(V);
        for (String arch : archs) {
            ModelSpec spec = new ModelOptions(arch, V, H, layers, 16, 2, 4, 0, 32, 1, 64, true, false).toSpec();
            for (String mode : modes) {
                Backprop.Parallelism par = switch (mode) {
                    case "data" -> Backprop.Parallelism.DATA;
                    case "kernel" -> Backprop.Parallelism.KERNEL;
                    default -> throw new UsageException("--parallel takes data and/or kernel, got " + mode);
                };
                for (int t : threads) {
                    TrainModel m = TrainModel.initialised(spec, Init.defaults(), 1);
                    AdamW opt = new AdamW(m.store(), ParamGroup.decayRule(0.1));
                    RandomSampler data = new RandomSampler(tokens, 3);
                    Backprop bp = new Backprop(m, b, s, new Backprop.Options(t, par, 0, 0, 0));
                    try {
                        for (int i = 0; i < warmup; i++) step(bp, m, opt, data.next(b, s));
                        long t0 = System.nanoTime();
                        for (int i = 0; i < steps; i++) step(bp, m, opt, data.next(b, s));
                        double secs = (System.nanoTime() - t0) / 1e9;
                        long n = (long) steps * b * s;
                        report.row().put("model", arch.equals("mamba2") ? "mamba2" : "mamba").put("phase", "train")
                                .put("weights", "f32").put("threads", t).put("parallel", mode).put("tokens", n)
                                .put("seconds", secs).put("tokens_per_second", n / secs).add();
                    } finally {
                        bp.close();
                    }
                }
            }
        }
        report.finish("training throughput (hidden " + H + ", " + layers + " layers, vocab " + V + ", batch " + b + " x "
                + s + ", AdamW; " + KernelConfig.describe() + ")");
        return 0;
    }

    private static void step(Backprop bp, TrainModel m, AdamW opt, Batch batch) {
        bp.lossAndGrad(batch);
        GradClip.clipGlobalNorm(m.store(), 1.0);
        opt.step(1e-3);
    }
}
