package dev.ssm4j.kernels.loss;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * SIMD twin of the fused softmax cross-entropy: lanes hold LANES consecutive vocabulary entries of
 * one row. Forward: a max pass and a Σ exp(x − m) pass, each with four independent accumulators
 * (a max or add chain has a latency of several cycles; exp's polynomial has a long one too, and
 * four chains hide it). A row of 50280 floats (196 KB) stays in L2 between the two passes, so memory
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

    static float sumExp(float[] x, int off, int n, float max) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            s0 = s0.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max)));
            s1 = s1.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i + L).sub(max)));
            s2 = s2.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i + 2 * L).sub(max)));
            s3 = s3.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i + 3 * L).sub(max)));
        }
        for (; i + L <= n; i += L) s0 = s0.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i).sub(max)));
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            s1 = s1.add(VectorMath.exp(FloatVector.fromArray(F, x, off + i, m).sub(max)), m);
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    /** dlogits rows [r0, r1) = (exp(x − lse) − onehot)·scale, 0 for ignored rows; dlogits may be logits. */
    public static void backwardRows(float[] dlogits, int dOff, int dStride, float[] logits, int off, int stride,
                                    float[] lse, int[] targets, int tOff, int vocab, int ignoreIndex, float scale,
                                    int r0, int r1) {
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
