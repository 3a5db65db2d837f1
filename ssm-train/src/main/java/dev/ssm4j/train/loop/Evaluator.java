package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.data.Rng;
import dev.ssm4j.train.data.Task;
import java.util.concurrent.ForkJoinPool;

/**
 * Task accuracy at any sequence length with bounded memory: the no-grad (inference) path of the
 * model run over each sequence in chunks of {@code chunk} tokens that continue the recurrent state
 * (conv + SSM state, O(1) in the length), so a 2^20-token sequence needs the memory of one chunk.
 * Logits are computed only for chunks that contain answer positions. Rows are split over threads
 * (each thread its own workspace and state).
 *
 * <p>Sequences come from the task's generator with a {@link Rng} seeded per length, so a given
 * (seed, length, sequences) always evaluates the same sequences.
 */
public final class Evaluator {
    private Evaluator() {}

    /** Accuracy of one length: answer positions, correct argmax predictions, wall time. */
    public record Row(int length, int sequences, long targets, long correct, double seconds) {
        public double accuracy() {
            return targets == 0 ? Double.NaN : (double) correct / targets;
        }
    }

    /**
     * Evaluates {@code sequences} fresh sequences of {@code length} tokens, {@code batch} rows per
     * forward call (per thread), {@code chunk} tokens per call.
     */
    public static Row evaluate(MambaLM lm, Task task, int length, int sequences, int batch, int chunk, long seed,
                               int threads) {
        if (sequences < 1 || batch < 1 || chunk < 1 || threads < 1) {
            throw new IllegalArgumentException("sequences, batch, chunk and threads must be >= 1, got " + sequences + ", "
                    + batch + ", " + chunk + ", " + threads);
        }
        if (task.vocabSize() > lm.spec().vocab) {
            throw new IllegalArgumentException("task " + task.name() + " uses " + task.vocabSize()
                    + " token ids; the model's vocabulary is " + lm.spec().vocab);
        }
        long t0 = System.nanoTime();
        Rng rng = new Rng(seed * 0x9E3779B97F4A7C15L + length);
        int groups = (sequences + batch - 1) / batch;
        // Generate every group's batch up front (sequentially, so the data does not depend on threads).
        Batch[] data = new Batch[groups];
        for (int g = 0; g < groups; g++) data[g] = task.batch(rng, Math.min(batch, sequences - g * batch), length);
        long[] targets = new long[groups], correct = new long[groups];
        int c = Math.min(chunk, length);
        ForkJoinPool pool = Parallel.pool(Math.min(threads, groups));
        try {
            Parallel.forRange(pool, groups, 1, (g0, g1) -> {
                int b = batch;
                Workspace ws = lm.newWorkspace(b, c);
                InferenceState st = lm.newState(b);
                float[] logits = new float[b * c * lm.spec().vocab];
                int[] toks = new int[b * c];
                for (int g = g0; g < g1; g++) {
                    long[] r = run(lm, data[g], c, ws, st, logits, toks);
                    targets[g] = r[0];
                    correct[g] = r[1];
                }
            });
        } finally {
            if (pool != null) pool.shutdown();
        }
        long n = 0, hit = 0;
        for (int g = 0; g < groups; g++) {
            n += targets[g];
            hit += correct[g];
        }
        return new Row(length, sequences, n, hit, (System.nanoTime() - t0) / 1e9);
    }

    /** One batch, chunk by chunk through the state: {answer positions, correct}. */
    static long[] run(MambaLM lm, Batch batch, int chunk, Workspace ws, InferenceState st, float[] logits, int[] toks) {
        int b = batch.b(), s = batch.s(), V = lm.spec().vocab;
        st.reset();
        ForwardOptions withLogits = new ForwardOptions().logits(ForwardOptions.Logits.ALL);
        ForwardOptions noLogits = new ForwardOptions().logits(ForwardOptions.Logits.NONE);
        int[] rows = new int[b];
        for (int r = 0; r < b; r++) rows[r] = r;
        long n = 0, hit = 0;
        for (int t0 = 0; t0 < s; t0 += chunk) {
            int len = Math.min(chunk, s - t0);
            boolean answers = false;
            for (int r = 0; r < b; r++) {
                System.arraycopy(batch.inputs(), r * s + t0, toks, r * len, len);
                for (int t = 0; t < len && !answers; t++) answers = batch.targets()[r * s + t0 + t] != Batch.IGNORE;
            }
            lm.forward(toks, b, len, st, ws, answers ? withLogits : noLogits, logits);
            if (!answers) continue;
            for (int r = 0; r < b; r++) {
                for (int t = 0; t < len; t++) {
                    int y = batch.targets()[r * s + t0 + t];
                    if (y == Batch.IGNORE) continue;
                    int o = (r * len + t) * V, arg = 0;
                    for (int v = 1; v < V; v++) if (logits[o + v] > logits[o + arg]) arg = v;
                    n++;
                    if (arg == y) hit++;
                }
            }
        }
        return new long[] {n, hit};
    }

    /**
     * The default number of sequences for a length: 256 up to 2^12 tokens, then halving with every
     * doubling of the length (2^13 → 128, …, 2^18 → 4), at least 2 — about 1M tokens per length
     * from 2^12 on, so the longest lengths cost the same as the middle ones.
     */
    public static int defaultSequences(int length) {
        long s = length <= 4096 ? 256 : Math.max(2, (1L << 20) / length);
        return (int) s;
    }
}
