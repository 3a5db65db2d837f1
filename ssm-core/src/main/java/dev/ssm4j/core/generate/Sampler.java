package dev.ssm4j.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token from one row of logits according to a {@link SamplingConfig}.
 *
 * <p>One sampler serves one sequence: it owns that sequence's random stream and reusable scratch
 * buffers sized to the vocabulary, so sampling allocates nothing per token. Filtering sorts the
 * candidates once by logit (a primitive sort of packed (logit, index) keys) and then cuts the
 * sorted list by top-k, top-p and min-p; the logits array itself is never modified.
 */
public final class Sampler {
    private final SamplingConfig cfg;
    private final SplittableRandom rng;
    private float[] work = new float[0];   // [vocab] processed logits
    private long[] keys = new long[0];     // [vocab] packed (order-preserving logit bits, index)
    private double[] probs = new double[0]; // [vocab] probabilities of the sorted candidates
    private int[] marks = new int[0];       // [vocab] repetition-penalty marks (== stamp: done)
    private int stamp;

    public Sampler(SamplingConfig cfg) {
        this(cfg, 0);
    }

    /** A sampler for batch row {@code row}: its random stream is derived from (seed, row). */
    public Sampler(SamplingConfig cfg, int row) {
        this.cfg = cfg;
        this.rng = new SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + row);
    }

    public SamplingConfig config() {
        return cfg;
    }

    /**
     * Picks a token from {@code logits[off .. off+vocab)}. {@code history[0 .. historyLen)} are the
     * tokens of the context so far (prompt and generated), used by the repetition penalty.
     */
    public int sample(float[] logits, int off, int vocab, int[] history, int historyLen) {
        if (vocab <= 0 || off < 0 || off + vocab > logits.length) {
            throw new IllegalArgumentException("logits row [" + off + ", " + (off + vocab) + ") outside array of length "
                    + logits.length);
        }
        ensure(vocab);
        System.arraycopy(logits, off, work, 0, vocab);
        if (cfg.repetitionPenalty() != 1f) applyRepetitionPenalty(work, vocab, history, historyLen, cfg.repetitionPenalty());
        if (cfg.isGreedy()) return argmax(work, vocab);

        float invT = 1f / cfg.temperature();
        for (int i = 0; i < vocab; i++) work[i] *= invT;

        // Sort candidates by processed logit, largest first. NaN logits are a model bug: refuse them.
        for (int i = 0; i < vocab; i++) {
            float x = work[i];
            if (Float.isNaN(x)) throw new IllegalStateException("logit of token " + i + " is NaN");
            keys[i] = ((long) sortable(x) << 32) | (0xffffffffL & ~i); // ~i: ties prefer the lower index
        }
        Arrays.sort(keys, 0, vocab);
        int n = vocab;
        if (cfg.topK() > 0) n = Math.min(n, cfg.topK());

        // Softmax over the n best (descending order is keys[vocab-1], keys[vocab-2], ...).
        float max = work[index(keys[vocab - 1])];
        double sum = 0;
        for (int r = 0; r < n; r++) {
            double p = Math.exp((double) work[index(keys[vocab - 1 - r])] - max);
            probs[r] = p;
            sum += p;
        }
        for (int r = 0; r < n; r++) probs[r] /= sum;

        if (cfg.topP() < 1f) {
            double cum = 0;
            int keep = n;
            for (int r = 0; r < n; r++) {
                cum += probs[r];
                if (cum >= cfg.topP()) {
                    keep = r + 1;
                    break;
                }
            }
            n = keep;
        }
        if (cfg.minP() > 0f) {
            double threshold = cfg.minP() * probs[0];
            int keep = 1;
            while (keep < n && probs[keep] >= threshold) keep++;
            n = keep;
        }

        double total = 0;
        for (int r = 0; r < n; r++) total += probs[r];
        double u = rng.nextDouble() * total;
        for (int r = 0; r < n; r++) {
            u -= probs[r];
            if (u < 0) return index(keys[vocab - 1 - r]);
        }
        return index(keys[vocab - 1 - (n - 1)]);
    }

    /**
     * CTRL repetition penalty (Keskar et al. 2019), applied once per distinct token of the context.
     * Linear in the history length: a stamp array marks the tokens already penalised in this call.
     */
    private void applyRepetitionPenalty(float[] x, int vocab, int[] history, int historyLen, float penalty) {
        if (++stamp == 0) { // wrapped: clear the marks
            Arrays.fill(marks, 0);
            stamp = 1;
        }
        for (int i = 0; i < historyLen; i++) {
            int t = history[i];
            if (t < 0 || t >= vocab || marks[t] == stamp) continue;
            marks[t] = stamp;
            x[t] = x[t] > 0 ? x[t] / penalty : x[t] * penalty;
        }
    }

    /** Index of the largest value; the lowest index wins ties. NaN is an error. */
    public static int argmax(float[] x, int n) {
        int best = 0;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (Float.isNaN(v)) throw new IllegalStateException("logit of token " + i + " is NaN");
            if (v > bv || i == 0) {
                bv = v;
                best = i;
            }
        }
        return best;
    }

    private void ensure(int vocab) {
        if (work.length < vocab) {
            work = new float[vocab];
            keys = new long[vocab];
            probs = new double[vocab];
            marks = new int[vocab];
            stamp = 0;
        }
    }

    /** Maps float order to signed-int order (so a long sort orders by logit). */
    private static int sortable(float x) {
        int b = Float.floatToRawIntBits(x);
        return b >= 0 ? b : b ^ 0x7fffffff;
    }

    private static int index(long key) {
        return ~(int) key;
    }
}
