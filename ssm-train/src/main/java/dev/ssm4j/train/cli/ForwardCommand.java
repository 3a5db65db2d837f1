package dev.ssm4j.train.cli;

import dev.ssm4j.core.io.Npy;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.LoadOptions;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.kernels.Parallel;
import java.nio.file.Path;
import java.util.concurrent.ForkJoinPool;

/** {@code ./ssm forward}: logits of a token sequence, written as a NumPy .npy file. */
public final class ForwardCommand implements Command {
    @Override
    public String summary() {
        return "run a model over token ids and write the logits [l, vocab] as .npy";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm forward --model DIR --tokens 1,2,3 --out logits.npy
                                     [--mode parallel|recurrent] [--bf16] [--threads N]

                  --model DIR      the model directory (config.json + model.safetensors)
                  --tokens IDS     comma-separated token ids
                  --out FILE       float32 logits of shape [l, vocab] as a NumPy .npy file
                  --mode M         parallel (default: one pass over all tokens, as for prefill) or
                                   recurrent (one token at a time through the inference state)
                  --bf16           hold the weight matrices in BF16 (faster, looser numerics)
                  --threads N      threads for the kernels (default 1)""";
    }

    @Override
    public int run(Args args) throws Exception {
        Path dir = Path.of(args.require("model"));
        int[] tokens = args.intList("tokens", null);
        if (tokens == null) throw new UsageException("'forward' needs --tokens");
        if (tokens.length == 0) throw new UsageException("--tokens is empty");
        Path out = Path.of(args.require("out"));
        String mode = args.string("mode", "parallel");
        if (!mode.equals("parallel") && !mode.equals("recurrent")) {
            throw new UsageException("--mode must be parallel or recurrent, got '" + mode + "'");
        }
        boolean bf16 = args.flag("bf16");
        int threads = args.integer("threads", 1);
        args.finish();
        ForkJoinPool pool = Parallel.pool(threads);
        try (MambaLM lm = MambaLM.load(dir, bf16 ? LoadOptions.BF16 : LoadOptions.DEFAULT)) {
            int L = tokens.length, V = lm.spec().vocab;
            float[] logits = new float[L * V];
            ForwardOptions o = new ForwardOptions().pool(pool);
            long t0 = System.nanoTime();
            if (mode.equals("parallel")) {
                lm.forward(tokens, 1, L, null, lm.newWorkspace(1, L), o, logits);
            } else {
                InferenceState st = lm.newState(1);
                Workspace ws = lm.newWorkspace(1, 1);
                float[] row = new float[V];
                int[] one = new int[1];
                for (int t = 0; t < L; t++) {
                    one[0] = tokens[t];
                    lm.step(one, 1, st, ws, o, row);
                    System.arraycopy(row, 0, logits, t * V, V);
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            Npy.writeF32(out, logits, L, V);
            int best = 0;
            for (int v = 1; v < V; v++) if (logits[(L - 1) * V + v] > logits[(L - 1) * V + best]) best = v;
            System.out.printf("%s: %d tokens (%s%s) in %.3f s; logits [%d, %d] → %s; next-token argmax %d%n",
                    lm.spec().kind == dev.ssm4j.core.model.ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2", L, mode,
                    bf16 ? ", bf16" : "", sec, L, V, out, best);
            return 0;
        } finally {
            if (pool != null) pool.shutdown();
        }
    }
}
