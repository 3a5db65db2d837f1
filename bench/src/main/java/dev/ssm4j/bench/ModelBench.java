package dev.ssm4j.bench;

import dev.ssm4j.core.generate.Sampler;
import dev.ssm4j.core.io.DType;
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
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

/**
 * {@code ./ssm bench model}: prefill and decode speed of the mamba-130m configuration (and its
 * Mamba-2 twin) with random weights, F32 and BF16 matrices, copied or memory-mapped, 1 or more
 * threads; and {@code --stream}: a long recurrent run that shows the memory staying flat.
 *
 * <p>The random model is written as a checkpoint ({@link MambaLM#save(Path, DType)}: F32, or all
 * BF16) into a temporary directory and loaded from there as stored — copied into memory
 * ({@code --mapped heap}: F32 on the Java heap, BF16 off-heap) and/or used in place from the
 * memory-mapped file ({@code --mapped mapped}) — so the bench times what {@link MambaLM#load} gives.
 *
 * <p>A plain timing harness (no JMH: one measurement is seconds long). Prefill: 512 tokens of one
 * row from the zero state, lm_head on the last token only (as llama.cpp's prompt processing);
 * two untimed prefills warm the JIT first. Decode: after a prefill, 8 untimed steps, then ≥ 32
 * timed greedy steps (step + argmax, the sampled token fed back). Each is repeated and the
 * MEDIAN of the repetitions is reported (the best is reported too). With {@code --mapped both}
 * the two loadings are measured interleaved, repetition by repetition (an A/B in one run).
 * Besides wall time, every row has tokens per CPU-second (the figure to compare on a shared
 * machine: with one thread the calling thread's CPU time, with a pool the whole process's, JIT
 * and GC included) and the bytes the timed run allocated per token (ThreadMXBean; with one
 * thread the calling thread's, else every thread's).
 */
public final class ModelBench implements Command {
    @Override
    public String summary() {
        return "mamba-130m (and Mamba-2 twin) prefill/decode tokens/s, f32 and bf16, copied or mapped; --stream: flat-memory long run";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench model [--arch mamba|mamba2|both] [--threads 1[,2]] [--weights f32,bf16]
                                         [--mapped heap|mapped|both] [--prefill 512] [--steps 32] [--reps 3]
                                         [--quick] [--json] [--profile on]
                       ./ssm bench model --stream [--tokens 1000000] [--arch mamba|mamba2] [--size small|130m]
                                         [--chunk 1]
                Random weights (seeded) in the mamba-130m shapes: hidden 768, 24 layers, vocab 50280;
                Mamba-1 d_state 16, expand 2; Mamba-2 d_state 128, head_dim 64, 1 group, expand 2.
                They are saved as a checkpoint (f32: all F32; bf16: all BF16) in a temporary directory
                and loaded as stored: --mapped heap copies the matrices into memory (default), mapped
                uses them in place from the memory-mapped file, both measures the two interleaved.
                prefill: --prefill tokens of one row, logits of the last token only; 2 warm-up prefills.
                decode:  8 warm-up steps, then --steps timed steps (step + argmax).
                Median of --reps repetitions (best also shown). --quick: 1 repetition.
                Columns: tokens_per_second (wall), cpu_tokens_per_second (per CPU-second: the calling
                thread's with 1 thread, the process's with more), alloc_bytes_per_token (bytes allocated
                during the timed run per token), load_seconds (MambaLM.load, wall).
                --profile on: also decode without lm_head (phase decode-no-lm-head) to split the step time.
                --stream: feeds --tokens tokens one by one through the recurrent step (greedy, the chosen
                token fed back; a fixed token every 64th step so the text does not lock), printing
                the peak RSS (VmHWM) at 10 points: memory must stay flat.
                --chunk N (N > 1): instead, feed seeded random tokens N at a time through the parallel
                forward (prefill chunks, state carried from chunk to chunk, logits of the last token
                only) — the same O(1) state at prefill speed, so 10^6 tokens at 130m shapes take
                minutes to an hour instead of hours.""";
    }

    @Override
    public int run(Args args) throws Exception {
        String arch = args.string("arch", "both");
        int[] threads = args.intList("threads", new int[] {1});
        String weights = args.string("weights", "f32,bf16");
        String mapped = args.string("mapped", "heap");
        int prefill = args.integer("prefill", 512), steps = args.integer("steps", 32);
        boolean quick = args.flag("quick");
        int reps = args.integer("reps", quick ? 1 : 3);
        boolean json = args.flag("json");
        boolean stream = args.flag("stream");
        boolean profile = args.has("profile") && !args.string("profile", "off").equals("off");
        long streamTokens = args.longValue("tokens", 1_000_000);
        String size = args.string("size", "small");
        int chunk = args.integer("chunk", 1);
        args.finish();
        List<ModelSpec.Kind> kinds = switch (arch) {
            case "mamba" -> List.of(ModelSpec.Kind.MAMBA1);
            case "mamba2" -> List.of(ModelSpec.Kind.MAMBA2);
            case "both" -> List.of(ModelSpec.Kind.MAMBA1, ModelSpec.Kind.MAMBA2);
            default -> throw new UsageException("--arch must be mamba, mamba2 or both, got '" + arch + "'");
        };
        List<Boolean> mappings = switch (mapped) {
            case "heap" -> List.of(false);
            case "mapped" -> List.of(true);
            case "both" -> List.of(false, true);
            default -> throw new UsageException("--mapped must be heap, mapped or both, got '" + mapped + "'");
        };
        if (prefill < 1 || steps < 1 || reps < 1) throw new UsageException("--prefill, --steps and --reps must be >= 1");
        for (int t : threads) if (t < 1) throw new UsageException("--threads must be >= 1, got " + t);
        if (stream) {
            if (!size.equals("small") && !size.equals("130m")) throw new UsageException("--size must be small or 130m");
            if (chunk < 1) throw new UsageException("--chunk must be >= 1, got " + chunk);
            if (streamTokens < 1) throw new UsageException("--tokens must be >= 1, got " + streamTokens);
            return stream(kinds.get(0), size.equals("130m"), streamTokens, chunk);
        }
        List<String> ws = List.of(weights.split(","));
        for (String w : ws) if (!w.equals("f32") && !w.equals("bf16")) throw new UsageException("--weights takes f32 and/or bf16");

        BenchReport report = new BenchReport(json);
        Path tmp = Files.createTempDirectory("ssm-bench-model");
        try {
            for (ModelSpec.Kind kind : kinds) {
                Path[] dirs = new Path[ws.size()];
                MambaLM flat = randomModel(spec130m(kind), 1234);
                for (int i = 0; i < ws.size(); i++) {
                    dirs[i] = tmp.resolve(ws.get(i));
                    flat.save(dirs[i], ws.get(i).equals("bf16") ? DType.BF16 : DType.F32);
                }
                flat = null;   // ~0.5 GB of flat parameters: not needed any more
                for (int i = 0; i < ws.size(); i++) {
                    List<Variant> vs = new ArrayList<>();
                    try {
                        for (boolean m : mappings) vs.add(Variant.load(dirs[i], ws.get(i), m));
                        for (int th : threads) {
                            ForkJoinPool pool = Parallel.pool(th);
                            try {
                                measure(report, vs, kind, th, pool, prefill, steps, reps, profile);
                            } finally {
                                if (pool != null) pool.shutdown();
                            }
                        }
                    } finally {
                        for (Variant v : vs) v.lm.close();
                    }
                }
            }
        } finally {
            deleteTree(tmp);
        }
        report.finish("model bench: mamba-130m shapes, random weights; median of " + reps + " (best also shown); vector "
                + KernelConfig.F.vectorBitSize() + " bits; load " + loadAverage());
        return 0;
    }

    /** One loaded model under test, with its own workspace, state and timings. */
    private static final class Variant {
        final MambaLM lm;
        final String weights, mapping;
        final double loadSeconds;
        Workspace ws;
        InferenceState st;
        float[] logits;
        final int[] tok = new int[1];
        double[] wall, cpu, alloc;

        private Variant(MambaLM lm, String weights, String mapping, double loadSeconds) {
            this.lm = lm;
            this.weights = weights;
            this.mapping = mapping;
            this.loadSeconds = loadSeconds;
        }

        static Variant load(Path dir, String weights, boolean mapped) throws IOException {
            long t0 = System.nanoTime();
            MambaLM lm = MambaLM.load(dir, LoadOptions.DEFAULT.withMapped(mapped));
            return new Variant(lm, weights, mapped ? "mapped" : "heap", (System.nanoTime() - t0) / 1e9);
        }

        void resetTimings(int reps) {
            wall = new double[reps];
            cpu = new double[reps];
            alloc = new double[reps];
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes allocated so far: by the calling thread (one thread) or by every thread (a pool). */
    private static long allocated(ForkJoinPool pool) {
        return pool == null ? THREADS.getCurrentThreadAllocatedBytes() : THREADS.getTotalThreadAllocatedBytes();
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** CPU nanoseconds so far: the calling thread's (one thread) or the whole process's (a pool). */
    private static long cpuTime(ForkJoinPool pool) {
        return pool == null ? THREADS.getCurrentThreadCpuTime() : OS.getProcessCpuTime();
    }

    /** Runs {@code body} once, recording wall and CPU seconds and bytes per token into rep k of v. */
    private static void timed(Variant v, int k, int tokens, ForkJoinPool pool, Runnable body) {
        long a0 = allocated(pool), c0 = cpuTime(pool), t0 = System.nanoTime();
        body.run();
        long t1 = System.nanoTime(), c1 = cpuTime(pool), a1 = allocated(pool);
        if (k < 0) return;
        v.wall[k] = (t1 - t0) / 1e9;
        v.cpu[k] = (c1 - c0) / 1e9;
        v.alloc[k] = (double) (a1 - a0) / tokens;
    }

    private static void measure(BenchReport report, List<Variant> vs, ModelSpec.Kind kind, int th, ForkJoinPool pool,
                                int prefill, int steps, int reps, boolean profile) {
        int V = vs.get(0).lm.spec().vocab;
        int[] prompt = new int[prefill];
        SplittableRandom r = new SplittableRandom(99);
        for (int i = 0; i < prefill; i++) prompt[i] = r.nextInt(V);
        ForwardOptions o = new ForwardOptions().logits(ForwardOptions.Logits.LAST).pool(pool);
        String name = kind == ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2";
        for (Variant v : vs) {
            v.ws = v.lm.newWorkspace(1, prefill);
            v.st = v.lm.newState(1);
            v.logits = new float[V];
            v.resetTimings(reps);
        }

        for (int k = -2; k < reps; k++) {   // two warm-up prefills; variants interleaved
            for (Variant v : vs) {
                v.st.reset();
                timed(v, k, prefill, pool, () -> v.lm.forward(prompt, 1, prefill, v.st, v.ws, o, v.logits));
            }
        }
        for (Variant v : vs) add(report, name, "prefill", v, th, prefill);

        for (Variant v : vs) {
            v.tok[0] = Sampler.argmax(v.logits, V);
            v.resetTimings(reps);
        }
        for (int k = 0; k < reps; k++) {
            for (Variant v : vs) {
                for (int i = 0; i < 8; i++) { // warm-up steps (not timed)
                    v.lm.step(v.tok, 1, v.st, v.ws, o, v.logits);
                    v.tok[0] = Sampler.argmax(v.logits, V);
                }
                timed(v, k, steps, pool, () -> {
                    for (int i = 0; i < steps; i++) {
                        v.lm.step(v.tok, 1, v.st, v.ws, o, v.logits);
                        v.tok[0] = Sampler.argmax(v.logits, V);
                    }
                });
            }
        }
        for (Variant v : vs) add(report, name, "decode", v, th, steps);
        if (!profile) return;
        // where decode time goes: the same steps without lm_head (V·H mat-vec)
        ForwardOptions none = new ForwardOptions().logits(ForwardOptions.Logits.NONE).pool(pool);
        for (Variant v : vs) v.resetTimings(reps);
        for (int k = 0; k < reps; k++) {
            for (Variant v : vs) {
                for (int i = 0; i < 8; i++) v.lm.step(v.tok, 1, v.st, v.ws, none, null);
                timed(v, k, steps, pool, () -> {
                    for (int i = 0; i < steps; i++) {
                        v.lm.step(v.tok, 1, v.st, v.ws, none, null);
                        v.tok[0] = (v.tok[0] + 7) % V;
                    }
                });
            }
        }
        for (Variant v : vs) add(report, name, "decode-no-lm-head", v, th, steps);
    }

    private static void add(BenchReport report, String model, String phase, Variant v, int th, int tokens) {
        double med = median(v.wall), best = Arrays.stream(v.wall).min().orElseThrow();
        report.row().put("model", model).put("phase", phase).put("weights", v.weights).put("mapped", v.mapping)
                .put("threads", th).put("tokens", tokens).put("seconds", med).put("tokens_per_second", tokens / med)
                .put("best_tokens_per_second", tokens / best).put("cpu_tokens_per_second", tokens / median(v.cpu))
                .put("alloc_bytes_per_token", Math.round(median(v.alloc))).put("load_seconds", v.loadSeconds)
                .put("stat", "median").add();
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Removes the bench's temporary checkpoints (best effort: a leftover is only disk space in tmp). */
    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("bench model: could not delete " + dir + ": " + e.getMessage());
        }
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

    /**
     * Long recurrent run: constant memory per token. chunk == 1 feeds the greedy continuation token by
     * token through the recurrent step; chunk > 1 feeds seeded random tokens chunk at a time through
     * the parallel forward with the state carried (how a long document is prefilled).
     */
    private static int stream(ModelSpec.Kind kind, boolean big, long tokens, int chunk) throws IOException {
        ModelSpec spec = big ? spec130m(kind) : specSmall(kind);
        MambaLM lm = randomModel(spec, 77).copy(LoadOptions.Matrices.F32);
        int V = spec.vocab;
        int c = (int) Math.min(chunk, tokens);
        Workspace ws = lm.newWorkspace(1, c);
        InferenceState st = lm.newState(1);
        ForwardOptions o = new ForwardOptions().logits(ForwardOptions.Logits.LAST);
        float[] logits = new float[V];
        int[] tok = new int[c];
        tok[0] = 1;
        SplittableRandom r = new SplittableRandom(2024);
        System.out.printf("stream: %s %s, %d tokens through the %s; state %d bytes%n",
                kind == ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2", big ? "130m shapes" : "small (H 128, 4 layers)",
                tokens, c == 1 ? "recurrent step" : "parallel forward in chunks of " + c + " (state carried)",
                InferenceState.bytesPerSequence(spec));
        System.out.printf("%12s %10s %12s %12s%n", "tokens", "seconds", "VmHWM_kB", "VmRSS_kB");
        long t0 = System.nanoTime();
        long next = 0, every = Math.max(1, tokens / 10);
        for (long i = 0; i < tokens; ) {
            if (i >= next) {
                System.out.printf("%12d %10.1f %12d %12d%n", i, (System.nanoTime() - t0) / 1e9, status("VmHWM"), status("VmRSS"));
                next += every;
            }
            if (c == 1) {
                lm.step(tok, 1, st, ws, o, logits);
                tok[0] = (i & 63) == 63 ? (int) (i % V) : Sampler.argmax(logits, V);
                i++;
            } else {
                int len = (int) Math.min(c, tokens - i);
                for (int j = 0; j < len; j++) tok[j] = r.nextInt(V);
                lm.forward(tok, 1, len, st, ws, o, logits);
                i += len;
            }
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
