package dev.ssm4j.kernels.loss;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;

/**
 * Fused, numerically stable softmax cross-entropy over the vocabulary, the language-model loss.
 * For a row of logits x (vocab V) with target t:
 * <pre>
 *   m = max_i x_i,   lse = m + log Σ_i exp(x_i − m)           (no exp ever overflows)
 *   loss = lse − x_t = −log softmax(x)_t
 *   mean loss = Σ_{rows not ignored} loss / count
 *   ∂(mean loss)/∂x_i = (softmax(x)_i − [i = t]) / count,   softmax(x)_i = exp(x_i − lse)
 * </pre>
 * Rows whose target equals {@code ignoreIndex} (e.g. −100 for padding, as in PyTorch) are left out
 * of the loss and of count, and get a zero gradient. <b>All rows ignored</b> (count = 0): the mean
 * loss is defined as 0 (not PyTorch's NaN), and every dlogit is 0 — a batch of pure padding
 * contributes nothing rather than poisoning the step.
 *
 * <p>Layouts: logits and dlogits are (rows, vocab) at an offset with a row stride (a padded vocab
 * is fine: only the first {@code vocab} columns are read); targets (rows) ints at an offset; lse and
 * rowLoss (rows) floats. The forward saves lse per row; the backward then needs one read of the
 * logits and one write per element (no max or sum pass).
 *
 * <p><b>The backward WRITES dlogits (=), it does not accumulate</b> — the one exception to the
 * kernels' += rule, because dlogits may be the logits buffer itself (same array, offset and
 * stride): overwriting the (rows, vocab) logits with their gradient saves a buffer that is the
 * largest activation of a language model (512 × 50280 floats = 103 MB).
 *
 * <p>Dispatches to {@link CrossEntropySimd} unless {@code -Dssm4j.kernels.scalar=true}
 * ({@link CrossEntropyScalar}). With a pool, rows are split over threads; the mean is summed in
 * row order in double, so it does not depend on the thread count.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** PyTorch's default ignore index. */
    public static final int IGNORE_INDEX = -100;

    /**
     * Forward.
     *
     * @param rowLoss     out (rows): loss of each row, 0 for ignored rows; or null
     * @param lse         out (rows): log-sum-exp of each row for the backward (0 for ignored rows); or null
     * @param logits      (rows, vocab) at logitsOff, row stride logitsStride
     * @param targets     (rows) at targetsOff; each in [0, vocab) or equal to ignoreIndex
     * @return the mean loss over rows that are not ignored; 0 when all are ignored
     */
    public static double forward(float[] rowLoss, float[] lse, float[] logits, int logitsOff, int logitsStride,
                                 int[] targets, int targetsOff, int rows, int vocab, int ignoreIndex, ForkJoinPool pool) {
        check(logits, logitsOff, logitsStride, "logits", targets, targetsOff, rows, vocab, ignoreIndex);
        checkRows("rowLoss", rowLoss, rows);
        checkRows("lse", lse, rows);
        float[] losses = rowLoss != null ? rowLoss : new float[rows];
        Parallel.forRange(pool, rows, Math.max(1, GRAIN_ELEMENTS / vocab), (r0, r1) -> {
            if (KernelConfig.FORCE_SCALAR) {
                CrossEntropyScalar.forwardRows(losses, lse, logits, logitsOff, logitsStride, targets, targetsOff, vocab,
                        ignoreIndex, r0, r1);
            } else {
                CrossEntropySimd.forwardRows(losses, lse, logits, logitsOff, logitsStride, targets, targetsOff, vocab,
                        ignoreIndex, r0, r1);
            }
        });
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += losses[r];
        int count = countTargets(targets, targetsOff, rows, ignoreIndex);
        return count == 0 ? 0.0 : sum / count;
    }

    /**
     * Backward of the mean loss: dlogits = (softmax − onehot) · dloss / count for rows not ignored, 0
     * for ignored rows (and everywhere when count = 0). WRITES dlogits; dlogits may be the logits
     * buffer itself at the same offset and stride.
     *
     * @param lse    the forward's saved log-sum-exp (rows), or null to recompute it (two more passes per row)
     * @param dloss  upstream gradient of the mean loss (1 for a plain training step; e.g. 1/accumulationSteps)
     */
    public static void backward(float[] dlogits, int dlogitsOff, int dlogitsStride, float[] logits, int logitsOff,
                                int logitsStride, float[] lse, int[] targets, int targetsOff, int rows, int vocab,
                                int ignoreIndex, float dloss, ForkJoinPool pool) {
        check(logits, logitsOff, logitsStride, "logits", targets, targetsOff, rows, vocab, ignoreIndex);
        if (dlogits == null) throw new IllegalArgumentException("dlogits must not be null");
        CrossEntropyScalar.checkView("dlogits", dlogits, dlogitsOff, dlogitsStride, rows, vocab);
        checkRows("lse", lse, rows);
        if (dlogits == logits && (dlogitsOff != logitsOff || dlogitsStride != logitsStride)) {
            throw new IllegalArgumentException("dlogits may share logits' array only at the same offset and stride (got "
                    + dlogitsOff + "/" + dlogitsStride + " vs " + logitsOff + "/" + logitsStride + ")");
        }
        int count = countTargets(targets, targetsOff, rows, ignoreIndex);
        float scale = count == 0 ? 0f : dloss / count;
        Parallel.forRange(pool, rows, Math.max(1, GRAIN_ELEMENTS / vocab), (r0, r1) -> {
            if (KernelConfig.FORCE_SCALAR) {
                CrossEntropyScalar.backwardRows(dlogits, dlogitsOff, dlogitsStride, logits, logitsOff, logitsStride, lse,
                        targets, targetsOff, vocab, ignoreIndex, scale, r0, r1);
            } else {
                CrossEntropySimd.backwardRows(dlogits, dlogitsOff, dlogitsStride, logits, logitsOff, logitsStride, lse,
                        targets, targetsOff, vocab, ignoreIndex, scale, r0, r1);
            }
        });
    }

    /** Number of rows whose target is not ignoreIndex. */
    public static int countTargets(int[] targets, int targetsOff, int rows, int ignoreIndex) {
        int n = 0;
        for (int r = 0; r < rows; r++) if (targets[targetsOff + r] != ignoreIndex) n++;
        return n;
    }

    static final int GRAIN_ELEMENTS = 1 << 16;

    private static void checkRows(String name, float[] a, int rows) {
        if (a != null && a.length < rows) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected at least (rows=" + rows + ")");
        }
    }

    static void check(float[] logits, int off, int stride, String name, int[] targets, int tOff, int rows, int vocab,
                      int ignoreIndex) {
        if (rows < 0 || vocab < 1) {
            throw new IllegalArgumentException("cross-entropy needs rows >= 0 and vocab >= 1, got rows=" + rows + ", vocab=" + vocab);
        }
        CrossEntropyScalar.checkView(name, logits, off, stride, rows, vocab);
        if (targets == null || tOff < 0 || tOff + (long) rows > targets.length) {
            throw new IllegalArgumentException("targets: " + (targets == null ? "null" : "array of length " + targets.length)
                    + " cannot hold (rows=" + rows + ") at offset " + tOff);
        }
        for (int r = 0; r < rows; r++) {
            int t = targets[tOff + r];
            if (t != ignoreIndex && (t < 0 || t >= vocab)) {
                throw new IllegalArgumentException("target " + t + " of row " + r + " is out of range for vocab size " + vocab
                        + " (and is not the ignore index " + ignoreIndex + ")");
            }
        }
    }

    /**
     * Checks of the public row twins over rows [r0, r1): the views must cover rows 0..r1−1 at their
     * offsets, and every target in the range must be valid.
     */
    static void checkRowRange(float[] out, int outOff, int outStride, String outName, float[] loss, float[] lse,
                              float[] logits, int off, int stride, int[] targets, int tOff, int vocab, int ignoreIndex,
                              int r0, int r1) {
        if (r0 < 0 || r1 < r0) throw new IllegalArgumentException("row range [" + r0 + ", " + r1 + ") is invalid");
        check(logits, off, stride, "logits", targets, tOff, r1, vocab, ignoreIndex);
        if (out != null) CrossEntropyScalar.checkView(outName, out, outOff, outStride, r1, vocab);
        checkRows("loss", loss, r1);
        checkRows("lse", lse, r1);
    }
}
