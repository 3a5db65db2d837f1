package dev.ssm4j.train.data;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Selective copying (Gu &amp; Dao, "Mamba", §4.1.1 and Appendix E.1; after Arjovsky et al.'s copying
 * task with random spacing): {@code M} data tokens are scattered at random positions among noise
 * tokens, then {@code M} marker tokens ask the model to output the data tokens in order. Solving it
 * needs content-aware (selective) memory: which positions matter depends on the tokens.
 *
 * <p>Token ids ({@code V} = {@code vocab}): {@code 0} = noise, {@code 1..V} = data, {@code V + 1} =
 * marker; {@link #vocabSize()} = V + 2. A sequence of length L has a content region
 * {@code [0, L − M)} holding the M data tokens (uniform in 1..V, at M distinct uniformly chosen
 * positions, kept in order) and noise elsewhere, then M markers at {@code [L − M, L)}. The target at
 * marker k (position L − M + k) is the k-th data token; every other target is IGNORE. Needs L ≥ 2M.
 *
 * <pre>
 *   M = 3, V = 4, L = 10
 *   position  0  1  2  3  4  5  6 | 7  8  9
 *   input     0  3  0  0  1  0  4 | 5  5  5
 *   target    -  -  -  -  -  -  - | 3  1  4        (- = IGNORE = -100)
 * </pre>
 * The paper uses L = 4096, 16 data tokens and a vocabulary of 16; the defaults here are
 * {@code tokens = 16}, {@code vocab = 16}, {@code length = 256} (CPU-sized). Chance accuracy is 1/V.
 */
public final class SelectiveCopying implements Task {
    public static final String NAME = "selective_copying";
    private final int tokens;
    private final int vocab;
    private final int length;

    /**
     * @param tokens M, data tokens to memorise per sequence (≥ 1)
     * @param vocab  V, number of distinct data tokens (≥ 1)
     * @param length default sequence length L (≥ 2M)
     */
    public SelectiveCopying(int tokens, int vocab, int length) {
        if (tokens < 1) throw new IllegalArgumentException(NAME + ": tokens is " + tokens + ", expected >= 1");
        if (vocab < 1) throw new IllegalArgumentException(NAME + ": vocab is " + vocab + ", expected >= 1");
        this.tokens = tokens;
        this.vocab = vocab;
        this.length = length;
        if (length < minLength()) {
            throw new IllegalArgumentException(NAME + ": length is " + length + ", expected >= 2·tokens = " + minLength());
        }
    }

    public int noiseToken() {
        return 0;
    }

    public int markerToken() {
        return vocab + 1;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return vocab + 2;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int minLength() {
        return 2 * tokens;
    }

    @Override
    public Map<String, Integer> params() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("tokens", tokens);
        m.put("vocab", vocab);
        m.put("length", length);
        return m;
    }

    @Override
    public double chance() {
        return 1.0 / vocab;
    }

    @Override
    public Batch batch(Rng rng, int b, int length) {
        checkBatchArgs(b, length);
        int[] inputs = new int[b * length];
        int[] targets = new int[b * length];
        java.util.Arrays.fill(targets, Batch.IGNORE);
        int content = length - tokens;
        for (int r = 0; r < b; r++) {
            int row = r * length;
            boolean[] at = rng.choose(content, tokens);
            int k = 0;
            for (int t = 0; t < content; t++) {
                if (at[t]) {
                    int tok = 1 + rng.nextInt(vocab);
                    inputs[row + t] = tok;
                    targets[row + content + k] = tok;
                    k++;
                }
            }
            for (int t = content; t < length; t++) inputs[row + t] = markerToken();
        }
        return new Batch(b, length, inputs, targets);
    }
}
