package dev.ssm4j.train.backward;

import dev.ssm4j.train.data.Batch;

/**
 * The training loss: softmax cross-entropy over the vocabulary, forward and backward, as a facade
 * over the fused kernel ({@link dev.ssm4j.kernels.loss.CrossEntropy}) that adds the argmax hit
 * count (accuracy) and the batch-wide scaling the trainer needs.
 *
 * <p>For a row of logits z (V) with target y: p = softmax(z), loss = −log p_y and
 * ∂loss/∂z = p − onehot(y). The model's loss is the MEAN over the positions that have a target
 * (torch's {@code ignore_index = -100} rule, {@link Batch#IGNORE}), so every row's gradient is scaled
 * by {@code scale = 1 / N} where N counts the targeted positions of the WHOLE batch (not of one
 * thread's rows, nor of one micro-batch or chunk): that is what makes sums of partial gradients
 * equal the full-batch gradient.
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
     * @param lse     scratch (≥ rows floats) for the log-sum-exp the backward reuses, or null
     * @return Σ loss_t over the targeted rows (not divided by anything)
     */
    public static double forwardBackward(float[] dlogits, float[] logits, int[] targets, int tOff, int rows, int V,
                                         float scale, long[] stats, float[] lse) {
        if (rows == 0) return 0;
        if (lse == null || lse.length < rows) lse = new float[rows];
        double mean = dev.ssm4j.kernels.loss.CrossEntropy.forward(null, lse, logits, 0, V, targets, tOff, rows, V,
                Batch.IGNORE, null);                    // checks shapes and targets first
        int n = countTargets(targets, tOff, rows);
        if (stats != null) {
            stats[COUNT] += n;
            stats[CORRECT] += hits(logits, targets, tOff, rows, V);
        }
        if (dlogits != null) {
            // The kernel divides by this call's count n; dloss = n·scale makes the factor scale.
            dev.ssm4j.kernels.loss.CrossEntropy.backward(dlogits, 0, V, logits, 0, V, lse, targets, tOff, rows, V,
                    Batch.IGNORE, (float) ((double) n * scale), null);
        }
        return mean * n;
    }

    /** {@link #forwardBackward(float[], float[], int[], int, int, int, float, long[], float[])} with temporary scratch. */
    public static double forwardBackward(float[] dlogits, float[] logits, int[] targets, int tOff, int rows, int V,
                                         float scale, long[] stats) {
        return forwardBackward(dlogits, logits, targets, tOff, rows, V, scale, stats, null);
    }

    /** Rows whose first-index argmax equals their target (targets checked by the kernel). */
    static long hits(float[] logits, int[] targets, int tOff, int rows, int V) {
        long h = 0;
        for (int t = 0; t < rows; t++) {
            int y = targets[tOff + t];
            if (y == Batch.IGNORE) continue;
            int o = t * V, arg = 0;
            float max = logits[o];
            for (int v = 1; v < V; v++) {
                if (logits[o + v] > max) {
                    max = logits[o + v];
                    arg = v;
                }
            }
            if (arg == y) h++;
        }
        return h;
    }

    /** Number of positions of {@code targets[off .. off + n)} that carry a target (not IGNORE). */
    public static int countTargets(int[] targets, int off, int n) {
        int c = 0;
        for (int i = off; i < off + n; i++) if (targets[i] != Batch.IGNORE) c++;
        return c;
    }
}
