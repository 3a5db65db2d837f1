package dev.ssm4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Elementwise math on {@link FloatVector}s, with a scalar twin for each function.
 *
 * <p>{@link #exp(FloatVector)} is our own: the JDK's lanewise {@code EXP} calls out to a library
 * routine per vector, which is several times slower than an inlined polynomial in the inner loop
 * of the selective scan, where one exp is needed per (token, channel, state) element.
 *
 * <h2>exp: method and error</h2>
 * exp(x) = 2^k · exp(r) with k = round(x / ln 2) and r = x − k·ln 2 in [−ln2/2, ln2/2]; ln 2 is
 * split into a short high part (exact in k·hi) and a low correction so that r carries no
 * cancellation error. exp(r) is a degree-6 minimax polynomial (the classic Cephes expf
 * coefficients) evaluated by Horner's rule with FMAs, and 2^k is built by writing k + 127 into the
 * exponent field. The rounding of x/ln2 to an integer uses the 1.5·2^23 "magic number" trick, so
 * no float→int conversion with a floor is needed.
 *
 * <p>Measured by {@code VectorMathTest}: at most 2 ulp from the correctly rounded result on
 * [−87.3, 88.3]; below −87.33 the result is 0 (the true value is subnormal, < 1.2e−38), above
 * 88.72 it is +∞, and in the thin band (88.38, 88.72] it saturates at 2^127·√2 (≈2.4e38,
 * the true value is up to 3.4e38). NaN gives NaN. The scan only evaluates exp(Δ·A) with
 * Δ·A ≤ 0, the losses only exp(x − max) ≤ 1.
 */
public final class VectorMath {
    private VectorMath() {}

    /** Lane i ↔ lane i ^ h, for the halving tree of {@link #sumLanes}; null where h ≥ the lane count. */
    private static final VectorShuffle<Float> SWAP8 = swap(8), SWAP4 = swap(4), SWAP2 = swap(2), SWAP1 = swap(1);

    private static VectorShuffle<Float> swap(int h) {
        return h < KernelConfig.F.length() ? VectorShuffle.fromOp(KernelConfig.F, i -> i ^ h) : null;
    }

    /**
     * The sum of v's lanes in one fixed order: lane i + lane i^8, then ^4, ^2, ^1 (a halving tree),
     * for vectors of {@link KernelConfig#F}. Unlike {@code reduceLanes(ADD)}, whose order is
     * unspecified and in practice differs between the interpreter (lane by lane) and C2 (a tree), this
     * gives the same bits whether the caller runs interpreted or compiled, so a model's outputs do
     * not depend on how far the JIT has got. Costs the same as reduceLanes (log2 L permutes + adds).
     */
    public static float sumLanes(FloatVector v) {
        int n = v.length();
        if (n > 16 || v.species() != KernelConfig.F) {   // wider than AVX-512 (SVE) or another species
            float s = 0f;
            for (int i = 0; i < n; i++) s += v.lane(i);
            return s;
        }
        if (n == 16) v = v.add(v.rearrange(SWAP8));
        if (n >= 8) v = v.add(v.rearrange(SWAP4));
        if (n >= 4) v = v.add(v.rearrange(SWAP2));
        if (n >= 2) v = v.add(v.rearrange(SWAP1));
        return v.lane(0);
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;        // exactly representable with few bits
    private static final float LN2_LO = -2.12194440e-4f;     // ln 2 − LN2_HI
    private static final float MAGIC = 12582912f;             // 1.5 · 2^23: adding it rounds to integer
    private static final float HI = 88.3762626647949f;        // largest x whose k stays ≤ 127
    private static final float LO = -87.33654475f;            // below: result underflows to 0
    private static final float OVERFLOW = 88.72283905206835f; // ln(FLT_MAX)
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /** e^x lane by lane; error bounds in the class comment. */
    public static FloatVector exp(FloatVector x) {
        FloatVector y = expClamped(x);
        VectorMask<Float> under = x.compare(VectorOperators.LT, LO);
        VectorMask<Float> over = x.compare(VectorOperators.GT, OVERFLOW);
        return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }

    /**
     * e^x for x in [−87.3, 88.3] (same ≤ 2 ulp as {@link #exp(FloatVector)}); outside it returns
     * e^−87.3 (≈ 1.2e−38) or e^88.3 (≈ 2.4e38) instead of 0 and ∞; NaN stays NaN. Enough for σ, SiLU
     * and the online log-sum-exp, where 1 + e^−x or a running sum absorbs both ends, and four vector
     * ops (two compares, two blends) cheaper than {@link #exp(FloatVector)}: ~15% of a SiLU.
     */
    public static FloatVector expClamped(FloatVector x) {
        var sp = x.species();
        FloatVector xc = x.max(LO).min(HI);
        // t = x·log2(e) + 1.5·2^23: the low mantissa bits of t hold k = round(x / ln 2).
        FloatVector t = xc.fma(LOG2E, MAGIC);
        FloatVector k = t.sub(MAGIC);
        FloatVector r = k.fma(FloatVector.broadcast(sp, -LN2_HI), xc);
        r = k.fma(FloatVector.broadcast(sp, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(sp, P2));
        p = p.fma(r, FloatVector.broadcast(sp, P3));
        p = p.fma(r, FloatVector.broadcast(sp, P4));
        p = p.fma(r, FloatVector.broadcast(sp, P5));
        FloatVector r2 = r.mul(r);
        FloatVector er = p.fma(r2, r.add(1f));
        // bits(t) = bits(MAGIC) + k; (bits(t) + 127) << 23 == (k + 127) << 23 because the high
        // bits of bits(MAGIC) shift out of the word.
        IntVector bits = t.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
        return er.mul(bits.reinterpretAsFloats());
    }

    /** Scalar twin of {@link #exp(FloatVector)}: correctly rounded (via double). */
    public static float exp(float x) {
        return (float) Math.exp(x);
    }

    /** σ(x) = 1 / (1 + e^−x); saturates cleanly to 0 and 1. */
    public static FloatVector sigmoid(FloatVector x) {
        FloatVector one = FloatVector.broadcast(x.species(), 1f);
        return one.div(expClamped(x.neg()).add(1f));
    }

    /** Scalar twin of {@link #sigmoid(FloatVector)}. */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /**
     * SiLU (swish): x · σ(x), computed as x / (1 + e^−x) — one division and no multiply. Below
     * x ≈ −88.4 this is x / e^88.4 instead of x·e^x (both below 1e−36); −∞ gives −∞ (the scalar
     * twin: NaN).
     */
    public static FloatVector silu(FloatVector x) {
        return x.div(expClamped(x.neg()).add(1f));
    }

    /** Scalar twin of {@link #silu(FloatVector)}. */
    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /**
     * softplus(x) = log(1 + e^x), written as max(x, 0) + log1p(e^−|x|) so that it neither
     * overflows for large x nor loses the small tail for very negative x. Differs from
     * PyTorch's softplus (which returns x itself above 20) by at most log1p(e^−20) ≈ 2e−9.
     * Built only from IEEE operations (own {@link #exp(FloatVector)} and {@link #log1pUnit}), not
     * the JDK's lanewise EXP/LOG1P: those are computed by a vector math library in C2-compiled
     * code and lane by lane with {@code Math} in the interpreter, one ulp apart at times, which
     * made training runs depend on when the JIT compiled what. Measured by {@code VectorMathTest}:
     * within 3 ulp of the correctly rounded value.
     */
    public static FloatVector softplus(FloatVector x) {
        return x.max(0f).add(log1pUnit(exp(x.abs().neg())));
    }

    /** Scalar twin of {@link #softplus(FloatVector)}. */
    public static float softplus(float x) {
        return (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs((double) x))));
    }

    private static final float SQRT2_M1 = 0.41421356f;
    private static final float LN2 = 0.693147180559945f;

    /**
     * log(1 + e) for e in [0, 1] (what softplus needs: e = e^−|x|), from IEEE operations only.
     * With s = e / (2 + e), log(1 + e) = 2·atanh(s) = 2s·(1 + s²/3 + s⁴/5 + …); for e > √2 − 1 the
     * argument is halved first: log(1 + e) = ln 2 + 2·atanh((e − 1)/(e + 3)). Either way
     * |s| ≤ 0.1716, s² ≤ 0.0295, and five terms of the series leave a truncation error of
     * s¹⁰/11 ≈ 2e−9 relative; s = e/(2 + e) needs no 1 + e, so tiny e keep their bits
     * (log1p(e) = e·(1 − e/2 + …) to the last ulp). One division per call. Measured by
     * {@code VectorMathTest}: within 3 ulp of the correctly rounded value on [0, 1]. Outside
     * [0, 1] it is not log1p.
     */
    public static FloatVector log1pUnit(FloatVector e) {
        VectorMask<Float> big = e.compare(VectorOperators.GT, SQRT2_M1);
        FloatVector num = e.sub(e.broadcast(0f).blend(1f, big));
        FloatVector den = e.add(e.broadcast(2f).blend(3f, big));
        FloatVector s = num.div(den), z = s.mul(s);
        FloatVector q = z.fma(1f / 9f, 1f / 7f).fma(z, e.broadcast(1f / 5f)).fma(z, e.broadcast(1f / 3f)).fma(z, e.broadcast(1f));
        FloatVector two = s.add(s);
        return two.fma(q, e.broadcast(0f).blend(LN2, big));
    }

    /** Scalar twin of {@link #log1pUnit(FloatVector)}, the same operations in the same order (bitwise equal). */
    public static float log1pUnit(float e) {
        boolean big = e > SQRT2_M1;
        float s = (e - (big ? 1f : 0f)) / (e + (big ? 3f : 2f)), z = s * s;
        float q = Math.fma(Math.fma(Math.fma(Math.fma(z, 1f / 9f, 1f / 7f), z, 1f / 5f), z, 1f / 3f), z, 1f);
        return Math.fma(s + s, q, big ? LN2 : 0f);
    }
}
