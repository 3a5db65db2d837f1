package dev.ssm4j.train.data;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Induction heads (Gu &amp; Dao, "Mamba", §4.1.2 and Appendix E.1; Olsson et al. 2022): a random
 * sequence contains a special trigger token once, followed by some token x; the sequence ends with
 * the trigger again, and the model must output x there (associative recall of what followed the
 * trigger). Loss only on the last position.
 *
 * <p>Token ids ({@code V} = {@code vocab}): {@code 0..V−1} = ordinary tokens, {@code V} = trigger;
 * {@link #vocabSize()} = V + 1. A sequence of length L: positions {@code [0, L − 1)} are uniform
 * ordinary tokens, except one trigger at a uniform position p in {@code [0, L − 3]}; position
 * {@code L − 1} is the trigger; the target at {@code L − 1} is {@code input[p + 1]} (an ordinary
 * token), all other targets IGNORE. The trigger occurs exactly twice. Needs L ≥ 3.
 *
 * <pre>
 *   V = 4, L = 8
 *   position  0  1  2  3  4  5  6  7
 *   input     2  0  4  3  1  1  2  4        trigger 4 at p = 2, followed by 3
 *   target    -  -  -  -  -  -  -  3
 * </pre>
 * The paper trains with vocabulary 16 at length 256 and tests longer lengths; defaults here:
 * {@code vocab = 16}, {@code length = 256}. Chance accuracy is 1/V.
 */
public final class InductionHeads implements Task {
    public static final String NAME = "induction_heads";
    private final int vocab;
    private final int length;

    /**
     * @param vocab  V, number of ordinary tokens (≥ 1)
     * @param length default sequence length (≥ 3)
     */
    public InductionHeads(int vocab, int length) {
        if (vocab < 1) throw new IllegalArgumentException(NAME + ": vocab is " + vocab + ", expected >= 1");
        if (length < 3) throw new IllegalArgumentException(NAME + ": length is " + length + ", expected >= 3");
        this.vocab = vocab;
        this.length = length;
    }

    public int triggerToken() {
        return vocab;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return vocab + 1;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int minLength() {
        return 3;
    }

    @Override
    public Map<String, Integer> params() {
        Map<String, Integer> m = new LinkedHashMap<>();
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
        for (int r = 0; r < b; r++) {
            int row = r * length;
            for (int t = 0; t < length - 1; t++) inputs[row + t] = rng.nextInt(vocab);
            int p = rng.nextInt(length - 2);       // p in [0, L − 3]: p + 1 ≤ L − 2 is an ordinary token
            inputs[row + p] = vocab;
            inputs[row + length - 1] = vocab;
            targets[row + length - 1] = inputs[row + p + 1];
        }
        return new Batch(b, length, inputs, targets);
    }
}
