package dev.ssm4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a range of independent work items over a {@link ForkJoinPool} that the caller owns.
 *
 * <p>Kernels take the pool as an argument (null means "run on the calling thread") instead of
 * owning threads themselves, so an application decides how many cores the model may use. With
 * a null pool or a single item nothing is allocated; with a pool one small task object per
 * split is allocated per call, never per element.
 */
public final class Parallel {
    private Parallel() {}

    /** Work over the half-open item range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** A pool with {@code threads} workers, or null (the calling thread) for one thread. */
    public static ForkJoinPool pool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return threads == 1 ? null : new ForkJoinPool(threads);
    }

    /** Number of threads a pool stands for (1 for null). */
    public static int threads(ForkJoinPool pool) {
        return pool == null ? 1 : pool.getParallelism();
    }

    /**
     * True when {@link #forRange}{@code (pool, n, grain, …)} would run the whole range on the calling
     * thread. Decode-path kernels test this and call their loop directly: the task lambda captures a
     * dozen values and escapes into forRange, so C2 allocates it on every call (per token and layer).
     */
    public static boolean serial(ForkJoinPool pool, int n, int grain) {
        return threads(pool) == 1 || n <= Math.max(1, grain);
    }

    /**
     * Runs {@code body} over [0, n), split into contiguous parts of at least {@code grain} items,
     * at most about four parts per pool thread. Returns when all parts are done.
     */
    public static void forRange(ForkJoinPool pool, int n, int grain, RangeBody body) {
        if (n <= 0) return;
        if (serial(pool, n, grain)) {
            body.run(0, n);
            return;
        }
        int parts = Math.min(threads(pool) * 4, Math.max(1, n / Math.max(1, grain)));
        pool.invoke(new Split(body, 0, n, (n + parts - 1) / parts));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int start, end, chunk;

        Split(RangeBody body, int start, int end, int chunk) {
            this.body = body;
            this.start = start;
            this.end = end;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (end - start <= chunk) {
                body.run(start, end);
                return;
            }
            int mid = start + ((end - start) / chunk / 2) * chunk;
            if (mid <= start) mid = start + chunk;
            invokeAll(new Split(body, start, mid, chunk), new Split(body, mid, end, chunk));
        }
    }
}
