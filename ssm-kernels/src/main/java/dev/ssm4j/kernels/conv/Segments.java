package dev.ssm4j.kernels.conv;

/**
 * Packed variable-length sequences: where the segment that holds a token starts.
 *
 * <p>{@code cuSeqlens} are ascending boundaries on the flattened token axis (b·l tokens, row-major),
 * {@code cuSeqlens[0] = 0}, last = b·l. Sequence k occupies tokens [cu[k], cu[k+1]). Batch-row starts
 * are always boundaries too, so a sequence never continues from one row into the next.
 */
final class Segments {
    private Segments() {}

    /**
     * Start (local token index within row {@code bi}) of the segment that holds token t of that row;
     * 0 when there are no boundaries ({@code cu == null}).
     */
    static int start(int[] cu, int bi, int l, int t) {
        if (cu == null) return 0;
        int g = bi * l + t;
        // largest k with cu[k] <= g (upper bound − 1), by binary search; duplicates (empty sequences) are fine
        int lo = 0, hi = cu.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (cu[mid] <= g) lo = mid;
            else hi = mid - 1;
        }
        return Math.max(0, cu[lo] - bi * l);
    }

    /**
     * End (exclusive, local token index within row {@code bi}) of the segment that holds token t of
     * that row; l when there are no boundaries. Never past the row's end.
     */
    static int end(int[] cu, int bi, int l, int t) {
        if (cu == null) return l;
        int g = bi * l + t;
        // smallest k with cu[k] > g (upper bound), by binary search
        int lo = 0, hi = cu.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cu[mid] <= g) lo = mid + 1;
            else hi = mid;
        }
        return lo == cu.length ? l : Math.min(l, cu[lo] - bi * l);
    }

    /** Segment start of the last token of row bi (0 for an empty row): the segment the final state belongs to. */
    static int lastStart(int[] cu, int bi, int l) {
        return l == 0 ? 0 : start(cu, bi, l, l - 1);
    }
}
