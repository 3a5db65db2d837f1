package dev.ssm4j.train.data;

/**
 * One training batch of b rows of s tokens, row-major.
 * <pre>
 *   inputs  [b·s]   token ids fed to the model; row r is inputs[r·s .. r·s + s)
 *   targets [b·s]   the token the model should output at each position, or {@link #IGNORE}
 * </pre>
 * Language-model data has {@code targets[t] = inputs[t + 1]} within a row (nothing ignored);
 * synthetic tasks set targets only at their answer positions.
 */
public record Batch(int b, int s, int[] inputs, int[] targets) {
    /** Target value of positions that carry no loss (torch's ignore_index). */
    public static final int IGNORE = -100;

    public Batch {
        if (b <= 0 || s <= 0) throw new IllegalArgumentException("batch shape [" + b + ", " + s + "]: expected b, s >= 1");
        if (inputs.length != (long) b * s) {
            throw new IllegalArgumentException("inputs has length " + inputs.length + ", expected b·s = " + b + "·" + s);
        }
        if (targets.length != (long) b * s) {
            throw new IllegalArgumentException("targets has length " + targets.length + ", expected b·s = " + b + "·" + s);
        }
    }

    /** Number of positions with a target (not {@link #IGNORE}). */
    public int answerCount() {
        int n = 0;
        for (int t : targets) if (t != IGNORE) n++;
        return n;
    }

    /**
     * Fraction of answer positions where {@code predictions[i] == targets[i]}
     * ({@code predictions [b·s]}, e.g. the argmax of the logits). NaN when there is no answer position.
     */
    public double accuracy(int[] predictions) {
        if (predictions.length != targets.length) {
            throw new IllegalArgumentException("predictions has length " + predictions.length + ", expected b·s = "
                    + targets.length);
        }
        int n = 0, right = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] == IGNORE) continue;
            n++;
            if (predictions[i] == targets[i]) right++;
        }
        return n == 0 ? Double.NaN : (double) right / n;
    }

    /** {@link #accuracy(int[])} of the argmax of {@code logits [b·s, vocab]}. */
    public double accuracy(float[] logits, int vocab) {
        return accuracy(argmax(logits, vocab));
    }

    /** Row-wise argmax of {@code logits [rows, vocab]} (first index on ties): {@code [rows]}. */
    public static int[] argmax(float[] logits, int vocab) {
        if (vocab <= 0 || logits.length % vocab != 0) {
            throw new IllegalArgumentException("logits has length " + logits.length + ", expected a multiple of vocab "
                    + vocab);
        }
        int rows = logits.length / vocab;
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            float bv = logits[r * vocab];
            for (int v = 1; v < vocab; v++) {
                if (logits[r * vocab + v] > bv) {
                    bv = logits[r * vocab + v];
                    best = v;
                }
            }
            out[r] = best;
        }
        return out;
    }
}
