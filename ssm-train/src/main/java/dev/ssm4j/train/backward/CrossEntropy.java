package dev.ssm4j.train.backward;

import dev.ssm4j.train.data.Batch;

/**
 * Fused softmax cross-entropy, forward and backward in one pass over each row of logits (the
 * elem branch's fused kernel will replace this ADAPTER; the math is the same).
 *
 * <p>For a row of logits z (V) with target y: p = softmax(z), loss = −log p_y
 * = log Σ_v exp(z_v − max z) + max z − z_y, and ∂loss/∂z = p − onehot(y). The model's loss is
 * the MEAN over the positions that have a target (torch's {@code ignore_index = -100} rule,
 * {@link Batch#IGNORE}), so every row's gradient is scaled by {@code scale = 1 / N} where N counts
 * the targeted positions of the WHOLE batch (not of one thread's rows, nor of one micro-batch):
 * that is what makes sums of per-thread or per-micro-batch gradients equal the full-batch gradient.
 *
 * <p>The exponentials and the log are taken in double (the row is short compared with the GEMMs
 * around it), so the loss matches torch's float log-softmax to float rounding.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** Counts from {@link #forwardBackward}: [0] = targeted positions, [1] = argmax hits among them. */
    public static final int COUNT = 0, CORRECT = 1;

    /**
     * For rows t in [0, rows): loss_t = −log softmax(logits[t])[targets[tOff + t]] (skipped when the
     * target is IGNORE). Writes {@code dlogits[t] = scale·(softmax − onehot)} (all zeros for a skipped
     * row) when dlogits is non-null — it may be the logits array itself (in place). Adds to
     * {@code stats[COUNT]} and {@code stats[CORRECT]} (first-index argmax == target) when non-null.
     *
     * @param logits  (rows, V) at offset 0
     * @param targets target ids, row t at {@code targets[tOff + t]}, in [0, V) or IGNORE
     * @return Σ loss_t over the targeted rows (not divided by anything)
     */
    public static double forwardBackward(float[] dlogits, float[] logits, int[] targets, int tOff, int rows, int V,
                                         float scale, long[] stats) {
        if (rows < 0 || V < 1) throw new IllegalArgumentException("cross-entropy: rows " + rows + ", vocab " + V);
        if (logits.length < (long) rows * V) {
            throw new IllegalArgumentException("cross-entropy: logits has length " + logits.length
                    + ", expected (rows, V) = (" + rows + ", " + V + ")");
        }
        if (dlogits != null && dlogits.length < (long) rows * V) {
            throw new IllegalArgumentException("cross-entropy: dlogits has length " + dlogits.length
                    + ", expected (rows, V) = (" + rows + ", " + V + ")");
        }
        if (tOff < 0 || targets.length < (long) tOff + rows) {
            throw new IllegalArgumentException("cross-entropy: targets has length " + targets.length + ", expected "
                    + (tOff + rows) + " (offset " + tOff + " + rows " + rows + ")");
        }
        double total = 0;
        for (int t = 0; t < rows; t++) {
            int y = targets[tOff + t], o = t * V;
            if (y == Batch.IGNORE) {
                if (dlogits != null) java.util.Arrays.fill(dlogits, o, o + V, 0f);
                continue;
            }
            if (y < 0 || y >= V) {
                throw new IllegalArgumentException("cross-entropy: target " + y + " at row " + t
                        + " is outside the vocabulary [0, " + V + ")");
            }
            float max = logits[o];
            int arg = 0;
            for (int v = 1; v < V; v++) {
                if (logits[o + v] > max) {
                    max = logits[o + v];
                    arg = v;
                }
            }
            double sum = 0;
            for (int v = 0; v < V; v++) sum += Math.exp((double) logits[o + v] - max);
            total += Math.log(sum) + max - logits[o + y];
            if (stats != null) {
                stats[COUNT]++;
                if (arg == y) stats[CORRECT]++;
            }
            if (dlogits != null) {
                double inv = 1.0 / sum;
                for (int v = 0; v < V; v++) {
                    dlogits[o + v] = (float) (scale * Math.exp((double) logits[o + v] - max) * inv);
                }
                dlogits[o + y] -= scale;
            }
        }
        return total;
    }

    /** Number of positions of {@code targets[off .. off + n)} that carry a target (not IGNORE). */
    public static int countTargets(int[] targets, int off, int n) {
        int c = 0;
        for (int i = off; i < off + n; i++) if (targets[i] != Batch.IGNORE) c++;
        return c;
    }
}
