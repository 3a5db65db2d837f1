package dev.ssm4j.bench;

import dev.ssm4j.core.generate.Sampler;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.LoadOptions;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

/**
 * {@code ./ssm bench model}: prefill and decode speed of the mamba-130m configuration (and its
 * Mamba-2 twin) with random weights, F32 and BF16 matrices, 1 or more threads; and
 * {@code --stream}: a long recurrent run that shows the memory staying flat.
 *
 * <p>A plain timing harness (no JMH: one measurement is seconds long). Prefill: 512 tokens of one
 * row from the zero state, lm_head on the last token only (as llama.cpp's prompt processing);
 * two untimed prefills warm the JIT first. Decode: after a prefill, 8 untimed steps, then ≥ 32
 * timed greedy steps (step + argmax, the sampled token fed back). Each is repeated and the
 * MEDIAN of the repetitions is reported (the best is reported too).
 */
public final class ModelBench implements Command {
    @Override
    public String summary() {
        return "mamba-130m (and Mamba-2 twin) prefill/decode tokens/s, f32 and bf16; --stream: flat-memory long run";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench model [--arch mamba|mamba2|both] [--threads 1[,2]] [--weights f32,bf16]
                                         [--prefill 512] [--steps 32] [--reps 3] [--quick] [--json]
                                         [--profile on]
                       ./ssm bench model --stream [--tokens 1000000] [--arch mamba|mamba2] [--size small|130m]
                Random weights (seeded) in the mamba-130m shapes: hidden 768, 24 layers, vocab 50280;
                Mamba-1 d_state 16, expand 2; Mamba-2 d_state 128, head_dim 64, 1 group, expand 2.
                prefill: --prefill tokens of one row, logits of the last token only; 2 warm-up prefills.
                decode:  8 warm-up steps, then --steps timed steps (step + argmax).
                Median of --reps repetitions (best also shown). --quick: 1 repetition.
                --profile on: also decode without lm_head (phase decode-no-lm-head) to split the step time.
                --stream: feeds --tokens tokens one by one through the recurrent step (greedy, the chosen
                token fed back; a fixed token every 64th step so the text does not lock), printing
                the peak RSS (VmHWM) at 10 points: memory must stay flat.""";
    }

    @Override
    public int run(Args args) throws Exception {
        String arch = args.string("arch", "both");
        int[] threads = args.intList("threads", new int[] {1});
        String weights = args.string("weights", "f32,bf16");
        int prefill = args.integer("prefill", 512), steps = args.integer("steps", 32);
        boolean quick = args.flag("quick");
        int reps = args.integer("reps", quick ? 1 : 3);
        boolean json = args.flag("json");
        boolean stream = args.flag("stream");
        boolean profile = args.has("profile") && !args.string("profile", "off").equals("off");
        long streamTokens = args.longValue("tokens", 1_000_000);
        String size = args.string("size", "small");
        args.finish();
        List<ModelSpec.Kind> kinds = switch (arch) {
            case "mamba" -> List.of(ModelSpec.Kind.MAMBA1);
            case "mamba2" -> List.of(ModelSpec.Kind.MAMBA2);
            case "both" -> List.of(ModelSpec.Kind.MAMBA1, ModelSpec.Kind.MAMBA2);
            default -> throw new UsageException("--arch must be mamba, mamba2 or both, got '" + arch + "'");
        };
        if (prefill < 1 || steps < 1 || reps < 1) throw new UsageException("--prefill, --steps and --reps must be >= 1");
        for (int t : threads) if (t < 1) throw new UsageException("--threads must be >= 1, got " + t);
        if (stream) {
            if (!size.equals("small") && !size.equals("130m")) throw new UsageException("--size must be small or 130m");
            return stream(kinds.get(0), size.equals("130m"), streamTokens);
        }
        List<String> ws = List.of(weights.split(","));
        for (String w : ws) if (!w.equals("f32") && !w.equals("bf16")) throw new UsageException("--weights takes f32 and/or bf16");

        BenchReport report = new BenchReport(json);
        for (ModelSpec.Kind kind : kinds) {
            MambaLM flat = randomModel(spec130m(kind), 1234);
            for (String w : ws) {
                MambaLM lm = flat.copy(w.equals("bf16") ? LoadOptions.Matrices.BF16 : LoadOptions.Matrices.F32);
                for (int th : threads) {
                    ForkJoinPool pool = Parallel.pool(th);
                    try {
                        measure(report, lm, kind, w, th, pool, prefill, steps, reps, profile);
                    } finally {
                        if (pool != null) pool.shutdown();
                    }
                }
            }
        }
        report.finish("model bench: mamba-130m shapes, random weights; median of " + reps + " (best also shown); vector "
                + KernelConfig.F.vectorBitSize() + " bits; load " + loadAverage());
        return 0;
    }

    private static void measure(BenchReport report, MambaLM lm, ModelSpec.Kind kind, String w, int th, ForkJoinPool pool,
                                int prefill, int steps, int reps, boolean profile) {
        ModelSpec s = lm.spec();
        int V = s.vocab;
        int[] prompt = new int[prefill];
        SplittableRandom r = new SplittableRandom(99);
        for (int i = 0; i < prefill; i++) prompt[i] = r.nextInt(V);
        Workspace ws = lm.newWorkspace(1, prefill);
        InferenceState st = lm.newState(1);
        ForwardOptions o = new ForwardOptions().logits(ForwardOptions.Logits.LAST).pool(pool);
        float[] logits = new float[V];
        String name = kind == ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2";

        double[] pre = new double[reps];
        for (int k = -2; k < reps; k++) {   // two warm-up prefills
            st.reset();
            long t0 = System.nanoTime();
            lm.forward(prompt, 1, prefill, st, ws, o, logits);
            double sec = (System.nanoTime() - t0) / 1e9;
            if (k >= 0) pre[k] = sec;
        }
        add(report, name, "prefill", w, th, prefill, pre);

        double[] dec = new double[reps];
        int[] tok = {Sampler.argmax(logits, V)};
        for (int k = 0; k < reps; k++) {
            for (int i = 0; i < 8; i++) { // warm-up steps (not timed)
                lm.step(tok, 1, st, ws, o, logits);
                tok[0] = Sampler.argmax(logits, V);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                lm.step(tok, 1, st, ws, o, logits);
                tok[0] = Sampler.argmax(logits, V);
            }
            dec[k] = (System.nanoTime() - t0) / 1e9;
        }
        add(report, name, "decode", w, th, steps, dec);
        if (!profile) return;
        // where decode time goes: the same steps without lm_head (V·H mat-vec), and prefill without it
        ForwardOptions none = new ForwardOptions().logits(ForwardOptions.Logits.NONE).pool(pool);
        for (int k = 0; k < reps; k++) {
            for (int i = 0; i < 8; i++) lm.step(tok, 1, st, ws, none, null);
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                lm.step(tok, 1, st, ws, none, null);
                tok[0] = (tok[0] + 7) % V;
            }
            dec[k] = (System.nanoTime() - t0) / 1e9;
        }
        add(report, name, "decode-no-lm-head", w, th, steps, dec);
    }

    private static void add(BenchReport report, String model, String phase, String w, int th, int tokens, double[] secs) {
        double[] s = secs.clone();
        Arrays.sort(s);
        double med = s[s.length / 2], best = s[0];
        report.row().put("model", model).put("phase", phase).put("weights", w).put("threads", th).put("tokens", tokens)
                .put("seconds", med).put("tokens_per_second", tokens / med).put("best_tokens_per_second", tokens / best)
                .put("stat", "median").add();
    }

    /** mamba-130m's shapes (state-spaces/mamba-130m-hf; tied embeddings) or its Mamba-2 twin. */
    public static ModelSpec spec130m(ModelSpec.Kind kind) {
        ModelSpec.Builder b = ModelSpec.builder(kind).vocab(50280).hidden(768).layers(24).dInner(1536).convWidth(4)
                .tieEmbeddings(true);
        return kind == ModelSpec.Kind.MAMBA1 ? b.dState(16).dtRank(48).build()
                : b.dState(128).heads(24).headDim(64).groups(1).chunkSize(256).build();
    }

    /** A small model for the long streaming run: hidden 128, 4 layers, byte vocab. */
    static ModelSpec specSmall(ModelSpec.Kind kind) {
        ModelSpec.Builder b = ModelSpec.builder(kind).vocab(256).hidden(128).layers(4).dInner(256).convWidth(4);
        return kind == ModelSpec.Kind.MAMBA1 ? b.dState(16).dtRank(8).build()
                : b.dState(64).heads(4).headDim(64).groups(1).chunkSize(64).build();
    }

    /**
     * Seeded random weights of a plausible scale: matrices uniform with std 0.02 (conv taps 0.2),
     * norms 1, D 1, A_log = log(1..n) (Mamba-1) or log of 1..16 (Mamba-2), Δ biases = softplus⁻¹
     * of Δ in [0.001, 0.1] log-uniform — Mamba's initialisation.
     */
    public static MambaLM randomModel(ModelSpec spec, long seed) {
        ParameterLayout layout = new ParameterLayout(spec);
        float[] p = new float[layout.flatSize()];
        SplittableRandom r = new SplittableRandom(seed);
        double a = 0.02 * Math.sqrt(3);
        for (ParameterLayout.Entry e : layout.entries()) {
            int off = (int) e.offset(), n = (int) e.size();
            String nm = e.name();
            if (nm.endsWith("norm.weight") || nm.endsWith("norm_f.weight") || nm.endsWith(".D")) {
                Arrays.fill(p, off, off + n, 1f);
            } else if (nm.endsWith("A_log")) {
                int per = spec.kind == ModelSpec.Kind.MAMBA1 ? spec.dState : 1;
                for (int i = 0; i < n; i++) {
                    p[off + i] = (float) Math.log(per > 1 ? 1 + i % per : 1 + r.nextDouble() * 15);
                }
            } else if (nm.endsWith("dt_proj.bias") || nm.endsWith("dt_bias")) {
                for (int i = 0; i < n; i++) {
                    double dt = Math.exp(Math.log(0.001) + r.nextDouble() * (Math.log(0.1) - Math.log(0.001)));
                    p[off + i] = (float) (dt + Math.log(-Math.expm1(-dt)));   // softplus⁻¹(dt)
                }
            } else {
                double scale = nm.contains("conv1d") ? 0.2 * Math.sqrt(3) : a;
                for (int i = 0; i < n; i++) p[off + i] = (float) ((2 * r.nextDouble() - 1) * scale);
            }
        }
        return MambaLM.fromFlat(spec, p);
    }

    /** Long recurrent run: constant memory per token. */
    private static int stream(ModelSpec.Kind kind, boolean big, long tokens) throws IOException {
        ModelSpec spec = big ? spec130m(kind) : specSmall(kind);
        MambaLM lm = randomModel(spec, 77).copy(LoadOptions.Matrices.F32);
        int V = spec.vocab;
        Workspace ws = lm.newWorkspace(1, 1);
        InferenceState st = lm.newState(1);
        ForwardOptions o = new ForwardOptions().logits(ForwardOptions.Logits.LAST);
        float[] logits = new float[V];
        int[] tok = {1};
        System.out.printf("stream: %s %s, %d tokens through the recurrent step; state %d bytes%n",
                kind == ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2", big ? "130m shapes" : "small (H 128, 4 layers)",
                tokens, InferenceState.bytesPerSequence(spec));
        System.out.printf("%12s %10s %12s %12s%n", "tokens", "seconds", "VmHWM_kB", "VmRSS_kB");
        long t0 = System.nanoTime();
        long next = 0, every = Math.max(1, tokens / 10);
        for (long i = 0; i < tokens; i++) {
            if (i == next) {
                System.out.printf("%12d %10.1f %12d %12d%n", i, (System.nanoTime() - t0) / 1e9, status("VmHWM"), status("VmRSS"));
                next += every;
            }
            lm.step(tok, 1, st, ws, o, logits);
            tok[0] = (i & 63) == 63 ? (int) (i % V) : Sampler.argmax(logits, V);
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%12d %10.1f %12d %12d%n", tokens, sec, status("VmHWM"), status("VmRSS"));
        System.out.printf("stream: %.1f tokens/s, state position %d, logits finite: %b%n", tokens / sec, st.position(0),
                Float.isFinite(logits[0]));
        return 0;
    }

    /** A kB field of /proc/self/status (−1 where there is none). */
    static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

}
