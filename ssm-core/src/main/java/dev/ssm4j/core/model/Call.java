package dev.ssm4j.core.model;

import java.util.concurrent.ForkJoinPool;

/**
 * The arguments of one forward/step call as the blocks see them. One instance lives in each
 * {@link Workspace} and is refilled per call, so calls allocate nothing.
 *
 * <p>Row mapping: input row r uses state row {@code stateRow(r)}. When those rows are contiguous
 * ({@code rowStart ≥ 0}: state rows rowStart … rowStart + b − 1) the kernels run once over all b
 * rows with a state offset; otherwise once per row.
 */
final class Call {
    final Workspace ws;
    int b, l, T;
    InferenceState state;     // null: start from zero, keep no state
    int[] rows;               // null: identity
    int rowStart;             // ≥ 0 when state rows are contiguous, else −1
    int[] mask;               // (b, l) or null
    ActivationStore store;    // or null
    ForkJoinPool pool;

    Call(Workspace ws) {
        this.ws = ws;
    }

    void set(int b, int l, InferenceState state, int[] rows, int[] mask, ActivationStore store, ForkJoinPool pool) {
        this.b = b;
        this.l = l;
        this.T = b * l;
        this.state = state;
        this.rows = rows;
        this.mask = mask;
        this.store = store;
        this.pool = pool;
        this.rowStart = contiguousStart(rows, b);
    }

    /** State row of input row r. */
    int stateRow(int r) {
        return rows == null ? r : rows[r];
    }

    private static int contiguousStart(int[] rows, int b) {
        if (rows == null) return 0;
        for (int r = 1; r < b; r++) if (rows[r] != rows[0] + r) return -1;
        return rows[0];
    }

    /** Zeroes rows (tokens) of a (T, width) buffer where the mask is 0 (transformers' padding rule). */
    void applyMask(float[] buf, int off, int stride, int width) {
        if (mask == null) return;
        for (int t = 0; t < T; t++) {
            if (mask[t] == 0) java.util.Arrays.fill(buf, off + t * stride, off + t * stride + width, 0f);
        }
    }

    /** ActivationStore layer i, or null when not recording. */
    ActivationStore.Layer rec(int i) {
        return store == null ? null : store.layer(i);
    }
}
