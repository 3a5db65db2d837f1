package dev.ssm4j.kernels.ssd;

import java.util.ArrayList;

/**
 * Reusable scratch memory for the SSD kernels, so that repeated calls (every layer, every step of
 * training) allocate nothing once the buffers have grown to the largest shape seen.
 *
 * <p>A call splits its work into tasks (see {@link Ssd}); each running task takes a {@link Task}
 * (a set of float buffers) from here and gives it back when done, so a workspace holds at most
 * as many task buffer sets as tasks ever ran at once (≤ the pool's threads), plus a few buffers
 * shared by the whole call. Buffers only grow. Safe for the tasks of one call; do not use one
 * workspace for two calls at the same time.
 */
public final class SsdWorkspace {
    private final ArrayList<Task> idle = new ArrayList<>();
    private final ArrayList<Task> all = new ArrayList<>();
    private final float[][] shared = new float[4][];
    private final SsdProblem problem = new SsdProblem();

    public SsdWorkspace() {}

    /** Bytes held by all buffers. */
    public synchronized long bytes() {
        long s = 0;
        for (Task t : all) s += t.bytes();
        for (float[] f : shared) s += f == null ? 0 : 4L * f.length;
        return s;
    }

    /** The argument record of the current call (refilled by every call; calling thread only). */
    SsdProblem problem() {
        return problem;
    }

    synchronized Task acquire() {
        if (idle.isEmpty()) {
            Task t = new Task();
            all.add(t);
            return t;
        }
        return idle.remove(idle.size() - 1);
    }

    synchronized void release(Task t) {
        idle.add(t);
    }

    /** A call-wide buffer of at least {@code size} floats (contents undefined); calling thread only. */
    float[] shared(int slot, int size) {
        float[] f = shared[slot];
        if (f == null || f.length < size) shared[slot] = f = new float[size];
        return f;
    }

    /** The buffers of one task: numbered slots that grow on demand (contents undefined). */
    static final class Task {
        private final float[][] slots = new float[48][];
        private boolean[] flags = new boolean[0];
        /** The chunked backward's buffer views, rebound by each call (so that a call allocates none). */
        SsdChunkedBackward.Buffers backward;

        /** A boolean scratch of at least {@code size} entries (contents undefined). */
        boolean[] flags(int size) {
            if (flags.length < size) flags = new boolean[size];
            return flags;
        }

        float[] get(int slot, int size) {
            float[] f = slots[slot];
            if (f == null || f.length < size) slots[slot] = f = new float[size];
            return f;
        }

        long bytes() {
            long s = 0;
            for (float[] f : slots) s += f == null ? 0 : 4L * f.length;
            return s;
        }
    }
}
