package dev.ssm4j.train.data;

import java.util.NoSuchElementException;

/**
 * Language-model batches that read a token array in order, in windows of {@code s + 1} tokens that
 * overlap by one. Window w covers {@code tokens[w·s .. w·s + s]} (inputs = the first s, targets =
 * the last s). The sampler keeps a window counter c (its {@link #state()}); a batch of b rows uses
 * windows {@code c, c + 1, …, c + b − 1} and advances c by b. So with a fixed b, row j of step i
 * reads {@code tokens[(i·b + j)·s .. (i·b + j)·s + s]}.
 *
 * <p>There are {@code W = floor((n − 1) / s)} full windows in n tokens. At the end:
 * <ul>
 *   <li>{@link End#WRAP}: window w reads window {@code w mod W} (the data repeats; the last
 *       {@code (n − 1) mod s} tokens are never a target);</li>
 *   <li>{@link End#STOP}: a batch that would need a window ≥ W is not produced: {@link #next} throws
 *       NoSuchElementException; {@link #hasNext} tells beforehand (an incomplete last batch is dropped).</li>
 * </ul>
 */
public final class SequentialSampler implements BatchSource {
    /** What happens when the windows run out. */
    public enum End { WRAP, STOP }

    private final int[] tokens;
    private final End end;
    private long window;

    public SequentialSampler(int[] tokens, End end) {
        this.tokens = tokens;
        this.end = end;
    }

    /** Number of full windows of {@code s + 1} tokens. */
    public long windows(int s) {
        return tokens.length < 1 ? 0 : (tokens.length - 1L) / s;
    }

    /** True when a batch of b rows of s tokens can be produced (always with WRAP, given one window). */
    public boolean hasNext(int b, int s) {
        long w = windows(s);
        if (w == 0) return false;
        return end == End.WRAP || window + b <= w;
    }

    @Override
    public Batch next(int b, int s) {
        if (b <= 0 || s <= 0) throw new IllegalArgumentException("batch shape [" + b + ", " + s + "]: expected >= 1");
        long w = windows(s);
        if (w == 0) {
            throw new IllegalArgumentException("sequential sampler: " + tokens.length + " tokens cannot fill a window of s + 1 = "
                    + (s + 1) + " tokens");
        }
        if (end == End.STOP && window + b > w) {
            throw new NoSuchElementException("sequential sampler: the data is exhausted (window " + window + " of " + w
                    + ", batch needs " + b + ")");
        }
        int[] in = new int[b * s];
        int[] tg = new int[b * s];
        for (int j = 0; j < b; j++) {
            long start = ((window + j) % w) * s;
            System.arraycopy(tokens, (int) start, in, j * s, s);
            System.arraycopy(tokens, (int) start + 1, tg, j * s, s);
        }
        window += b;
        return new Batch(b, s, in, tg);
    }

    /** The window counter: the next batch starts at window {@code state()}. */
    @Override
    public long state() {
        return window;
    }

    @Override
    public void restore(long state) {
        if (state < 0) throw new IllegalArgumentException("sequential sampler state is " + state + ", expected >= 0");
        this.window = state;
    }
}
