package dev.ssm4j.kernels.loss;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * SIMD twin of the fused softmax cross-entropy: lanes hold LANES consecutive vocabulary entries of
 * one row. Forward: one pass per row with an online log-sum-exp ({@link #logSumExp}: running max and
 * rescaled sum per lane, one exp per element). Backward: one pass, exp(x − lse)·scale, using the saved
 * lse. The last partial vector of a backward row is masked; that of a forward row is done in scalar
 * code. Math: {@link CrossEntropy}.
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

    /**
     * Lanes' running maxima start here rather than at −∞, so that x − m is never −∞ − (−∞) = NaN for
     * −∞ logits (masked vocabulary entries); a lane that never sees a finite logit keeps s = 0.
     */
    private static final float NO_MAX = -Float.MAX_VALUE;

    /**
     * log Σ exp(x_i) over x[off, off + n), in one pass (online log-sum-exp): each lane keeps a running
     * maximum m and a sum s of exp(x − m). A new value v either stays below m (s += e^(v−m)) or becomes
     * the new maximum (s = s·e^(m−v) + 1, m = v); both cases need e^−|v−m|, so there is one exp per
     * element, as in the two-pass form, and memory (or L2) reads the row once. Two (m, s) pairs that
     * swap roles every iteration give two independent dependency chains with a single exp call site
     * (every call site inlines a full copy of the polynomial; see {@code VectorMath}). The lanes are
     * combined at the end in double: lse = M + log Σ_lanes s_i·e^(m_i − M).
     */
    public static float logSumExp(float[] x, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(F, NO_MAX), m1 = m0, s0 = FloatVector.zero(F), s1 = s0;
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector dv = v.sub(m1);
            FloatVector e = VectorMath.expClamped(dv.abs().neg());     // ≈1e−38 instead of 0 below −87: harmless in a sum
            VectorMask<Float> up = dv.compare(VectorOperators.GT, 0f);
            FloatVector sNew = s1.add(e).blend(s1.fma(e, FloatVector.broadcast(F, 1f)), up);
            FloatVector mNew = m1.max(v);
            s1 = s0;
            m1 = m0;
            s0 = sNew;
            m0 = mNew;
        }
        // Lanes combined in double: M = max_i m_i, Σ = Σ_i s_i·e^(m_i − M).
        double big = Math.max(m0.reduceLanes(VectorOperators.MAX), m1.reduceLanes(VectorOperators.MAX)), sum = 0;
        for (int k = 0; k < L; k++) {
            sum += s0.lane(k) * Math.exp(m0.lane(k) - big) + s1.lane(k) * Math.exp(m1.lane(k) - big);
        }
        // The last, partial vector (< LANES values) one by one, with the same online update: scalar exps
        // here cost less than a second inlined vector exp in this method (see VectorMath on call sites).
        for (; i < n; i++) {
            double v = x[off + i];
            if (v > big) {
                sum = sum * Math.exp(big - v) + 1;
                big = v;
            } else {
                sum += Math.exp(v - big);
            }
        }
        return (float) (big + Math.log(sum));
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

    /**
     * d[i] = exp(x[i] − lse)·scale over one row. One exp call site: the last, partial vector runs
     * through the same body and only its load and store are masked (full vectors unmasked: masked
     * loads are ~4× slower out of cache, and a row of 50280 logits is out of cache).
     */
    static void softmaxRow(float[] d, int dOff, float[] x, int off, int n, float lse, float scale) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = full ? FloatVector.fromArray(F, x, off + i) : FloatVector.fromArray(F, x, off + i, m);
            FloatVector r = VectorMath.exp(v.sub(lse)).mul(scale);
            if (full) r.intoArray(d, dOff + i);
            else r.intoArray(d, dOff + i, m);
        }
    }
}
