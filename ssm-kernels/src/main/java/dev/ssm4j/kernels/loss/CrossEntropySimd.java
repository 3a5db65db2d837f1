package dev.ssm4j.kernels.loss;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * SIMD twin of the fused softmax cross-entropy: lanes hold LANES consecutive vocabulary entries of
 * one row. Forward: a max pass (four independent accumulators: a max chain has a latency of
 * several cycles) and a Σ exp(x − m) pass (two accumulators, one exp call site — see
 * {@link #sumExp}). A row of 50280 floats (196 KB) stays in L2 between the two passes, so memory
 * sees the logits once. Backward: one pass, exp(x − lse)·scale, using the saved lse. The last
 * partial vector of a row is masked: the masked lanes must not take part in the max (they would
 * load as 0) or in the sum (exp(0 − m) ≠ 0), hence the masked lanewise ops. Math: {@link CrossEntropy}.
 */
public final class CrossEntropySimd {
    private CrossEntropySimd() {}

    private static final int L = F.length();

    /** Row losses (0 if ignored) into loss[r], log-sum-exp into lse[r] (if lse != null), rows [r0, r1). */
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

    /** log Σ exp(x_i) over x[off, off + n). */
    public static float logSumExp(float[] x, int off, int n) {
        float m = max(x, off, n);
        return m + (float) Math.log(sumExp(x, off, n, m));
    }

    static float max(float[] x, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(F, x, off + i));
            m1 = m1.max(FloatVector.fromArray(F, x, off + i + L));
            m2 = m2.max(FloatVector.fromArray(F, x, off + i + 2 * L));
            m3 = m3.max(FloatVector.fromArray(F, x, off + i + 3 * L));
        }
        for (; i + L <= n; i += L) m0 = m0.max(FloatVector.fromArray(F, x, off + i));
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            m1 = m1.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, off + i, m), m);
        }
        return m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
    }

    /**
     * Σ exp(x_i − max). One exp call site in the loop on purpose: each call site inlines a full copy
     * of the polynomial and its Vector API plumbing, and with four copies C2 ran out of inlining
     * budget and boxed the rest (145 MB allocated per 512-row call). Two accumulators that swap
     * roles every iteration still give two independent add chains.
     */
    static float sumExp(float[] x, int off, int n, float max) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector t = s1.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max)));
            s1 = s0;
            s0 = t;
        }
        float sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
        return i < n ? sum + tailSumExp(x, off, i, n, max) : sum;
    }

    /** Σ exp(x_j − max) over the last, partial vector [i, n): a method of its own, with its own inlining budget. */
    private static float tailSumExp(float[] x, int off, int i, int n, float max) {
        VectorMask<Float> m = F.indexInRange(i, n);
        FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + i, m).sub(max));
        return FloatVector.zero(F).add(e, m).reduceLanes(VectorOperators.ADD);
    }

    /** dlogits rows [r0, r1) = (exp(x − lse) − onehot)·scale, 0 for ignored rows; dlogits may be logits. */
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
            softmaxRow(dlogits, drow, logits, row, vocab, s, scale);
            dlogits[drow + t] -= scale;
        }
    }

    /** d[i] = exp(x[i] − lse)·scale over one row. */
    static void softmaxRow(float[] d, int dOff, float[] x, int off, int n, float lse, float scale) {
        int i = 0;
        for (; i + L <= n; i += L) {
            VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(lse)).mul(scale).intoArray(d, dOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            VectorMath.exp(FloatVector.fromArray(F, x, off + i, m).sub(lse)).mul(scale).intoArray(d, dOff + i, m);
        }
    }
}
