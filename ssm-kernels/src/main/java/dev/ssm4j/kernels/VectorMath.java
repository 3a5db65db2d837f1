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
 *
 * <h2>σ and SiLU: method and error</h2>
 * Both are divisions by 1 + e^−x, with e^−x from {@link #expNeg}: 2^z for z = −x·log2 e, k = round(z)
 * and f = z − k from FMAs with log2 e split in two floats, 2^f a degree-5 polynomial by Estrin's
 * scheme, range fixed by compare + blend: ~16 vector ops against ~25 with {@link #expClamped}
 * (whose clamps are Java max/min). Measured over every float of [−87.33, 95] against double:
 * σ ≤ 3 ulp, SiLU ≤ 4 ulp (with expClamped: 3 and 3); a sparser sweep is in {@code VectorMathTest}.
 * A SiLU of 16 floats in L2 went from 5.0 to 2.7 ns (thread CPU time, Zen 5, AVX-512).
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
     * e^−87.3 (≈ 1.2e−38) or e^88.3 (≈ 2.4e38) instead of 0 and ∞; NaN stays NaN. Enough for the
     * online log-sum-exp, where a running sum absorbs both ends, and four vector ops (two compares,
     * two blends) cheaper than {@link #exp(FloatVector)}. σ and SiLU use the cheaper {@link #expNeg}.
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

    // e^−x for σ and SiLU, as 2^z with z = −x·log2(e) (see expNeg).
    private static final float L2E_HI = 1.44269502162933349609375f;   // log2(e) rounded to float
    private static final float L2E_LO = 1.925962989e-8f;               // log2(e) − L2E_HI
    private static final float MAGIC2 = 12582912f + 127f;             // 1.5·2^23 + 127: low bits of z + MAGIC2 = k + 127
    private static final float X_HI = 87.33654475f;                   // 126·ln 2: k ≥ −126 (2^k normal)
    private static final float X_LO = -88.7f;                         // k = 128: 2^k = +∞ (exponent field 255)
    // Minimax polynomial for 2^f on [−½, ½] with p(0) = 1, relative error 9.2e−8 (the same one as the
    // scan's exp2, SelectiveScanSimdStep).
    private static final float E1 = 6.931470037e-1f, E2 = 2.402224243e-1f, E3 = 5.550733581e-2f,
            E4 = 9.671512991e-3f, E5 = 1.326472731e-3f;

    /**
     * e^−x lane by lane, for σ and SiLU. Above x = 126·ln 2 ≈ 87.34, x is clamped there (e^−87.34 ≈
     * 1.2e−38 instead of a smaller number or 0: 1 + e^−x does not notice). Below −88.38 the result is
     * +∞ (x is clamped to −88.7, where k = 128 lands in the exponent field as 255: 2^k = +∞; the true
     * value overflows below −88.72), so σ gives 0 and SiLU −0 there. NaN stays NaN. 12 vector ops +
     * 2 compare-and-blend pairs, against 20 + 2 (costlier) max/min for {@link #expClamped}:
     * <ul>
     *   <li>the clamps are compare + blend, not {@code max}/{@code min} (Java's NaN and −0 rules make
     *       each of those several instructions on x86);</li>
     *   <li>k = round(z) from one FMA x·(−log2 e) + 1.5·2^23 (+127, so that the low bits of the sum are
     *       already the biased exponent of 2^k); f = z − k in two FMAs with log2 e split into a float
     *       and a correction (so |x| up to 87 loses no bits of f: with one constant the error grows to
     *       ~20 ulp there);</li>
     *   <li>2^f by a degree-5 polynomial in Estrin's scheme (depth 3 instead of 5), 2^k by shifting
     *       the sum's bits into the exponent field.</li>
     * </ul>
     * Relative error ≤ 1.3e−7 (≤ 2 ulp) on the unclamped range, measured in {@code VectorMathTest}.
     */
    static FloatVector expNeg(FloatVector x) {
        var sp = x.species();
        FloatVector xc = x.blend(X_LO, x.compare(VectorOperators.LT, X_LO)).blend(X_HI, x.compare(VectorOperators.GT, X_HI));
        FloatVector t = xc.fma(-L2E_HI, MAGIC2);                         // low bits: k + 127
        FloatVector nk = FloatVector.broadcast(sp, MAGIC2).sub(t);       // −k, exact
        FloatVector f = xc.fma(FloatVector.broadcast(sp, -L2E_HI), nk);  // z − k, |f| ≤ ½ (+ rounding)
        f = xc.fma(FloatVector.broadcast(sp, -L2E_LO), f);
        FloatVector f2 = f.mul(f);
        FloatVector p01 = f.fma(E1, 1f), p23 = f.fma(E3, E2), p45 = f.fma(E5, E4);
        FloatVector p = f2.fma(f2.fma(p45, p23), p01);                   // p01 + f²·(p23 + f²·p45)
        // bits(t) = bits(1.5·2^23) + k + 127; shifted left by 23 only k + 127 (in [1, 255]) survives.
        return p.mul(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /**
     * σ(x) = 1 / (1 + e^−x) with {@link #expNeg}; saturates cleanly to 1 (x > 17) and to 0 (below
     * −88.38; subnormal between −87.34 and there, like the true value). Error ≤ 3 ulp from the
     * correctly rounded σ on [−87.3, ∞) (measured, {@code VectorMathTest}). The division is a real
     * vdivps: a reciprocal from a bit-trick guess and three Newton steps (7 FMA-pipe ops) measured
     * 1.7× slower for the whole SiLU than the one division, which runs beside the FMAs.
     */
    public static FloatVector sigmoid(FloatVector x) {
        FloatVector one = FloatVector.broadcast(x.species(), 1f);
        return one.div(expNeg(x).add(1f));
    }

    /** Scalar twin of {@link #sigmoid(FloatVector)}. */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /**
     * SiLU (swish): x · σ(x), computed as x / (1 + e^−x) — one division and no multiply, e^−x from
     * {@link #expNeg}. Error ≤ 3 ulp from the correctly rounded x·σ(x) on [−87.3, ∞) (measured,
     * {@code VectorMathTest}). Below x ≈ −88.38 it is −0 (the true value is below 4e−37 in magnitude);
     * −∞ gives NaN, like the scalar twin.
     */
    public static FloatVector silu(FloatVector x) {
        return x.div(expNeg(x).add(1f));
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
