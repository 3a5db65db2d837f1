package dev.ssm4j.train.data;

/**
 * Language-model batches from a token array at uniformly random start positions: each row takes
 * {@code s + 1} consecutive tokens {@code tokens[a .. a + s]} with a uniform in
 * {@code [0, n − s − 1]} (every full window equally likely), inputs = the first s, targets = the
 * last s (shifted by one). Seeded; the state is the RNG state.
 */
public final class RandomSampler implements BatchSource {
    private final int[] tokens;
    private final Rng rng;

    public RandomSampler(int[] tokens, long seed) {
        this.tokens = tokens;
        this.rng = new Rng(seed);
    }

    @Override
    public Batch next(int b, int s) {
        if (b <= 0 || s <= 0) throw new IllegalArgumentException("batch shape [" + b + ", " + s + "]: expected >= 1");
        if (tokens.length < s + 1) {
            throw new IllegalArgumentException("random sampler: " + tokens.length + " tokens cannot fill a window of s + 1 = "
                    + (s + 1) + " tokens");
        }
        int[] in = new int[b * s];
        int[] tg = new int[b * s];
        for (int j = 0; j < b; j++) {
            int a = rng.nextInt(tokens.length - s);
            System.arraycopy(tokens, a, in, j * s, s);
            System.arraycopy(tokens, a + 1, tg, j * s, s);
        }
        return new Batch(b, s, in, tg);
    }

    @Override
    public long state() {
        return rng.state();
    }

    @Override
    public void restore(long state) {
        rng.restore(state);
    }
}
