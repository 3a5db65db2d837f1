package dev.ssm4j.train.data;

/**
 * A small seeded pseudo-random generator whose whole state is one {@code long}, so a checkpoint can
 * save it and {@code --resume} continues the exact same stream ({@link java.util.SplittableRandom}
 * uses the same algorithm but does not expose its state).
 *
 * <p>Algorithm: SplitMix64 (Steele, Lea &amp; Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014). The state advances by the odd constant γ = 0x9E3779B97F4A7C15 per draw,
 * and the output is the state passed through the 64-bit finaliser
 * <pre>
 *   z = state += γ
 *   z = (z ^ (z >>> 30)) · 0xBF58476D1CE4E5B9
 *   z = (z ^ (z >>> 27)) · 0x94D049BB133111EB
 *   return z ^ (z >>> 31)
 * </pre>
 * The seed is the initial state. {@link #nextInt(int)} is unbiased (rejection sampling, below).
 */
public final class Rng {
    private static final long GAMMA = 0x9E3779B97F4A7C15L;
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    /** The whole state: {@code new Rng(0).restore(r.state())} continues exactly like {@code r}. */
    public long state() {
        return state;
    }

    /** Sets the state saved by {@link #state()}. */
    public Rng restore(long savedState) {
        this.state = savedState;
        return this;
    }

    /** A copy with the same state (draws from both give the same values). */
    public Rng copy() {
        return new Rng(state);
    }

    /** A new generator seeded from this one (advances this one by one draw). */
    public Rng split() {
        return new Rng(nextLong());
    }

    /** 64 uniformly random bits. */
    public long nextLong() {
        long z = (state += GAMMA);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Uniform in {@code [0, bound)}: takes 63 random bits x and returns x mod bound, drawing again in
     * the rare case that x falls in the last, incomplete block of size bound (which would bias
     * the small residues).
     */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound is " + bound + ", expected > 0");
        while (true) {
            long x = nextLong() >>> 1;
            long r = x % bound;
            if (x - r + (bound - 1) >= 0) return (int) r; // no overflow: x lies in a complete block
        }
    }

    /** Uniform in {@code [lo, hi)}. */
    public int nextInt(int lo, int hi) {
        if (hi <= lo) throw new IllegalArgumentException("range [" + lo + ", " + hi + ") is empty");
        return lo + nextInt(hi - lo);
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /**
     * Marks {@code k} distinct positions of {@code [0, n)} chosen uniformly at random (all k-subsets
     * equally likely): Floyd's algorithm, k draws, no retries. Returns a fresh {@code boolean[n]};
     * scanning it in order gives the chosen positions sorted.
     */
    public boolean[] choose(int n, int k) {
        if (k < 0 || k > n) throw new IllegalArgumentException("choose " + k + " of " + n + ": expected 0 <= k <= n");
        boolean[] chosen = new boolean[n];
        for (int j = n - k; j < n; j++) {
            int t = nextInt(j + 1);
            if (chosen[t]) chosen[j] = true;
            else chosen[t] = true;
        }
        return chosen;
    }

    /** Shuffles {@code a} in place (Fisher–Yates). */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
