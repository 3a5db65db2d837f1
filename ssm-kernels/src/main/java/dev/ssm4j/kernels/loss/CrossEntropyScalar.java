package dev.ssm4j.kernels.loss;

/**
 * Scalar twin of the fused softmax cross-entropy, over rows [r0, r1) of the same views as
 * {@link CrossEntropy} (checked here too). Math and layouts: {@link CrossEntropy}.
 */
public final class CrossEntropyScalar {
    private CrossEntropyScalar() {}

    /** Row losses (0 if ignored) into loss[r], log-sum-exp into lse[r] (if lse != null). */
    public static void forwardRows(float[] loss, float[] lse, float[] logits, int off, int stride, int[] targets,
                                   int tOff, int vocab, int ignoreIndex, int r0, int r1) {
        if (loss == null) throw new IllegalArgumentException("loss must not be null (expected (rows))");
        CrossEntropy.checkRowRange(null, 0, 0, null, loss, lse, logits, off, stride, targets, tOff, vocab, ignoreIndex, r0, r1);
        for (int r = r0; r < r1; r++) {
            int t = targets[tOff + r];
            if (t == ignoreIndex) {
                loss[r] = 0f;
                if (lse != null) lse[r] = 0f;
                continue;
            }
            int row = off + r * stride;
            float s = logSumExp(logits, row, vocab);
            if (lse != null) lse[r] = s;
            loss[r] = s - logits[row + t];
        }
    }

    /** log Σ exp(x_i) = m + log Σ exp(x_i − m) with m = max x_i, so that no exp overflows. */
    public static float logSumExp(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += (float) Math.exp(x[off + i] - m);
        return m + (float) Math.log(sum);
    }

    /** dlogits row = (exp(x − lse) − onehot) · scale, 0 for ignored rows; dlogits may be logits. */
    public static void backwardRows(float[] dlogits, int dOff, int dStride, float[] logits, int off, int stride,
                                    float[] lse, int[] targets, int tOff, int vocab, int ignoreIndex, float scale,
                                    int r0, int r1) {
        if (dlogits == null) throw new IllegalArgumentException("dlogits must not be null");
        CrossEntropy.checkRowRange(dlogits, dOff, dStride, "dlogits", null, lse, logits, off, stride, targets, tOff, vocab,
                ignoreIndex, r0, r1);
        for (int r = r0; r < r1; r++) {
            int t = targets[tOff + r], row = off + r * stride, drow = dOff + r * dStride;
            if (t == ignoreIndex || scale == 0f) {
                java.util.Arrays.fill(dlogits, drow, drow + vocab, 0f);
                continue;
            }
            float s = lse != null ? lse[r] : logSumExp(logits, row, vocab);
            for (int i = 0; i < vocab; i++) dlogits[drow + i] = (float) Math.exp(logits[row + i] - s) * scale;
            dlogits[drow + t] -= scale;
        }
    }

    static void checkView(String name, float[] a, int off, int stride, int rows, int cols) {
        if (a == null) throw new IllegalArgumentException(name + " must not be null (expected (" + rows + ", " + cols + "))");
        if (off < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + off);
        if (rows > 1 && stride < cols) {
            throw new IllegalArgumentException(name + ": row stride " + stride + " is smaller than vocab " + cols);
        }
        long need = rows == 0 ? 0 : off + (long) (rows - 1) * stride + cols;
        if (need > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for (rows=" + rows
                    + ", vocab=" + cols + ") at offset " + off + " with row stride " + stride + " (needs " + need + ")");
        }
    }
}
