package dev.ssm4j.train.data;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multi-query associative recall, MQAR (Arora et al., "Zoology", 2023; the harder setting of
 * Dao &amp; Gu, "Mamba-2", §9.1, Fig. 8): the sequence starts with N key-value pairs, and later each
 * key is asked again; the model must output the value that key was paired with.
 *
 * <p>Token ids ({@code K} = {@code key_vocab}, {@code W} = {@code value_vocab}): {@code 0} = filler,
 * {@code 1..K} = keys, {@code K+1..K+W} = values; {@link #vocabSize()} = 1 + K + W. A sequence of
 * length L:
 * <ul>
 *   <li>positions {@code [0, 2N)}: {@code k1 v1 k2 v2 … kN vN}, N distinct keys and N distinct
 *       values, each in random order (Zoology draws both without replacement);</li>
 *   <li>positions {@code [2N, L)}: filler, with N queries at random non-overlapping 2-token slots:
 *       every key once, in random order, written as the key alone followed by a filler — the value
 *       is not in the input, as in Zoology;</li>
 *   <li>the target at a query's key position is its value; all other targets IGNORE, so the loss
 *       and the accuracy count only the N answers.</li>
 * </ul>
 * Needs {@code L ≥ 4N}, {@code K ≥ N} and {@code W ≥ N}.
 *
 * <p>Where this differs from Zoology's generator, on purpose: the query slots are placed uniformly
 * (all placements equally likely), where Zoology's default draws the gaps from a power law that
 * puts most queries just after the key-value pairs — uniform is the harder variant; fillers stay
 * {@code 0} (Zoology by default overwrites them with random tokens of the whole vocabulary); keys
 * and values have their own vocabulary sizes (Zoology: halves of one vocabulary).
 *
 * <pre>
 *   N = 2, K = 4, W = 4, L = 10          keys 1..4, values 5..8
 *   position  0  1  2  3 | 4  5  6  7  8  9
 *   input     3  7  1  5 | 0  1  0  0  3  0
 *   target    -  -  -  - | -  5  -  -  7  -
 * </pre>
 * Defaults: {@code pairs = 8}, {@code key_vocab = 32}, {@code value_vocab = 32}, {@code length = 64}.
 * Chance accuracy is 1/W.
 */
public final class Mqar implements Task {
    public static final String NAME = "mqar";
    private final int pairs;
    private final int keyVocab;
    private final int valueVocab;
    private final int length;

    /**
     * @param pairs      N, key-value pairs (and queries) per sequence (≥ 1)
     * @param keyVocab   K, number of distinct keys (≥ N)
     * @param valueVocab W, number of distinct values (≥ N)
     * @param length     default sequence length (≥ 4N)
     */
    public Mqar(int pairs, int keyVocab, int valueVocab, int length) {
        if (pairs < 1) throw new IllegalArgumentException(NAME + ": pairs is " + pairs + ", expected >= 1");
        if (keyVocab < pairs) {
            throw new IllegalArgumentException(NAME + ": key_vocab is " + keyVocab + ", expected >= pairs = " + pairs
                    + " (keys are distinct)");
        }
        if (valueVocab < pairs) {
            throw new IllegalArgumentException(NAME + ": value_vocab is " + valueVocab + ", expected >= pairs = " + pairs
                    + " (values are distinct)");
        }
        this.pairs = pairs;
        this.keyVocab = keyVocab;
        this.valueVocab = valueVocab;
        this.length = length;
        if (length < minLength()) {
            throw new IllegalArgumentException(NAME + ": length is " + length + ", expected >= 4·pairs = " + minLength());
        }
    }

    /** Token id of key {@code k} in {@code [0, K)}. */
    public int keyToken(int k) {
        return 1 + k;
    }

    /** Token id of value {@code v} in {@code [0, W)}. */
    public int valueToken(int v) {
        return 1 + keyVocab + v;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return 1 + keyVocab + valueVocab;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int minLength() {
        return 4 * pairs;
    }

    @Override
    public Map<String, Integer> params() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("pairs", pairs);
        m.put("key_vocab", keyVocab);
        m.put("value_vocab", valueVocab);
        m.put("length", length);
        return m;
    }

    @Override
    public double chance() {
        return 1.0 / valueVocab;
    }

    @Override
    public Batch batch(Rng rng, int b, int length) {
        checkBatchArgs(b, length);
        int[] inputs = new int[b * length];
        int[] targets = new int[b * length];
        java.util.Arrays.fill(targets, Batch.IGNORE);
        int[] keys = new int[keyVocab];     // [K], the first N after the shuffle are this row's keys
        int[] values = new int[valueVocab]; // [W], likewise
        int[] order = new int[pairs];
        int queryRegion = length - 2 * pairs;
        for (int r = 0; r < b; r++) {
            int row = r * length;
            firstDistinct(rng, keys);
            firstDistinct(rng, values);
            for (int i = 0; i < pairs; i++) {
                inputs[row + 2 * i] = keyToken(keys[i]);
                inputs[row + 2 * i + 1] = valueToken(values[i]);
            }
            // Query i takes the 2 slots at s_i + i, for N sorted distinct s_i in [0, R − N): every
            // placement of N non-overlapping pairs in the R-token region is equally likely.
            for (int i = 0; i < pairs; i++) order[i] = i;
            rng.shuffle(order);
            boolean[] at = rng.choose(queryRegion - pairs, pairs);
            int q = 0;
            for (int s = 0; s < at.length; s++) {
                if (!at[s]) continue;
                int pos = row + 2 * pairs + s + q;
                int which = order[q];
                inputs[pos] = keyToken(keys[which]); // inputs[pos + 1] stays filler
                targets[pos] = valueToken(values[which]);
                q++;
            }
        }
        return new Batch(b, length, inputs, targets);
    }

    /** N distinct ids of {@code [0, a.length)} in random order in {@code a[0..N)}: a partial Fisher–Yates shuffle. */
    private void firstDistinct(Rng rng, int[] a) {
        for (int i = 0; i < a.length; i++) a[i] = i;
        for (int i = 0; i < pairs; i++) {
            int j = i + rng.nextInt(a.length - i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
