package dev.ssm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    private static final int L = KernelConfig.LANES;

    private static float[] applyVector(float[] x, java.util.function.UnaryOperator<FloatVector> f) {
        float[] y = new float[x.length];
        float[] buf = new float[L];
        for (int i = 0; i < x.length; i += L) {
            int m = Math.min(L, x.length - i);
            java.util.Arrays.fill(buf, 0f);
            System.arraycopy(x, i, buf, 0, m);
            FloatVector v = f.apply(FloatVector.fromArray(KernelConfig.F, buf, 0));
            v.intoArray(buf, 0);
            System.arraycopy(buf, 0, y, i, m);
        }
        return y;
    }

    private static long ulps(float a, float b) {
        int ia = Float.floatToIntBits(a), ib = Float.floatToIntBits(b);
        if (ia < 0) ia = 0x80000000 - ia;
        if (ib < 0) ib = 0x80000000 - ib;
        return Math.abs((long) ia - ib);
    }

    @Test
    void expWithinTwoUlpOverItsDocumentedRange() {
        int n = 200_001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87.3f + (88.3f + 87.3f) * i / (n - 1);
        float[] y = applyVector(x, VectorMath::exp);
        long worst = 0;
        float worstX = 0;
        for (int i = 0; i < n; i++) {
            long u = ulps(y[i], (float) Math.exp(x[i]));
            if (u > worst) {
                worst = u;
                worstX = x[i];
            }
        }
        assertTrue(worst <= 2, "exp worst error " + worst + " ulp at x=" + worstX);
    }

    @Test
    void expEdgeCases() {
        float[] x = {0f, -0f, 1f, -1f, -100f, -1e30f, 100f, 1e30f, Float.NaN, Float.NEGATIVE_INFINITY,
                Float.POSITIVE_INFINITY, -87.4f, 88.0f};
        float[] y = applyVector(x, VectorMath::exp);
        assertEquals(1f, y[0]);
        assertEquals(1f, y[1]);
        assertTrue(ulps(y[2], (float) Math.E) <= 1);
        assertTrue(ulps(y[3], (float) Math.exp(-1)) <= 1);
        assertEquals(0f, y[4]);
        assertEquals(0f, y[5]);
        assertEquals(Float.POSITIVE_INFINITY, y[6]);
        assertEquals(Float.POSITIVE_INFINITY, y[7]);
        assertTrue(Float.isNaN(y[8]), "exp(NaN) must be NaN");
        assertEquals(0f, y[9]);
        assertEquals(Float.POSITIVE_INFINITY, y[10]);
        assertEquals(0f, y[11]);
        assertTrue(ulps(y[12], (float) Math.exp(88.0)) <= 2);
    }

    @Test
    void sigmoidSiluSoftplusMatchScalarTwins() {
        int n = 4001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -60f + 120f * i / (n - 1);
        float[] sig = applyVector(x, VectorMath::sigmoid);
        float[] silu = applyVector(x, VectorMath::silu);
        float[] sp = applyVector(x, VectorMath::softplus);
        for (int i = 0; i < n; i++) {
            assertEquals(VectorMath.sigmoid(x[i]), sig[i], 3e-7f * Math.max(1e-30f, VectorMath.sigmoid(x[i])) + 1e-37f,
                    "sigmoid at " + x[i]);
            assertEquals(VectorMath.silu(x[i]), silu[i], 4e-7f * Math.abs(VectorMath.silu(x[i])) + 1e-37f,
                    "silu at " + x[i]);
            assertEquals(VectorMath.softplus(x[i]), sp[i], 4e-7f * Math.abs(VectorMath.softplus(x[i])) + 1e-37f,
                    "softplus at " + x[i]);
        }
        // softplus does not overflow and keeps the tail
        assertEquals(1000f, VectorMath.softplus(1000f));
        assertEquals((float) Math.exp(-50), VectorMath.softplus(-50f), 1e-30f);
    }

    /**
     * σ and SiLU against a double-precision reference on every 101st float of [−87.33, 95] (both
     * signs, ~22M points; outside it the input is clamped, see VectorMath.expNeg): σ ≤ 3 ulp,
     * SiLU ≤ 4 ulp — the bounds documented in VectorMath (a run over every float of the range gives
     * the same maxima). Also the ends: σ → 1 and SiLU → x for large x, tiny but not NaN below −87,
     * NaN → NaN.
     */
    @Test
    void sigmoidAndSiluUlpErrorOverTheirWholeRange() {
        float[] buf = new float[L], sig = new float[L], silu = new float[L];
        long worstSig = 0, worstSilu = 0;
        float atSig = 0, atSilu = 0;
        for (int sign = 0; sign < 2; sign++) {
            int top = Float.floatToIntBits(sign == 0 ? 95f : 87.33f);
            for (int b = 0; b <= top; b += 101 * L) {
                for (int i = 0; i < L; i++) {
                    float v = Float.intBitsToFloat(Math.min(top, b + 101 * i));
                    buf[i] = sign == 0 ? v : -v;
                }
                FloatVector v = FloatVector.fromArray(KernelConfig.F, buf, 0);
                VectorMath.sigmoid(v).intoArray(sig, 0);
                VectorMath.silu(v).intoArray(silu, 0);
                for (int i = 0; i < L; i++) {
                    double x = buf[i], s = 1.0 / (1.0 + Math.exp(-x));
                    long us = ulps(sig[i], (float) s), uz = ulps(silu[i], (float) (x * s));
                    if (us > worstSig) {
                        worstSig = us;
                        atSig = buf[i];
                    }
                    if (uz > worstSilu) {
                        worstSilu = uz;
                        atSilu = buf[i];
                    }
                }
            }
        }
        assertTrue(worstSig <= 3, "sigmoid worst error " + worstSig + " ulp at x=" + atSig);
        assertTrue(worstSilu <= 4, "silu worst error " + worstSilu + " ulp at x=" + atSilu);

        float[] x = {100f, 1e30f, Float.POSITIVE_INFINITY, -88f, -200f, -1e30f, Float.NaN, 0f, -0f};
        float[] s = applyVector(x, VectorMath::sigmoid), z = applyVector(x, VectorMath::silu);
        assertEquals(1f, s[0]);
        assertEquals(1f, s[1]);
        assertEquals(1f, s[2]);
        assertEquals(100f, z[0]);
        assertEquals(1e30f, z[1]);
        assertEquals(Float.POSITIVE_INFINITY, z[2]);
        for (int i = 3; i < 6; i++) {
            assertTrue(s[i] >= 0f && s[i] < 2e-38f, "sigmoid(" + x[i] + ") = " + s[i]);
            assertTrue(z[i] <= 0f && z[i] > -1e-35f, "silu(" + x[i] + ") = " + z[i]);
        }
        assertTrue(Float.isNaN(s[6]) && Float.isNaN(z[6]), "NaN must stay NaN");
        assertEquals(0.5f, s[7]);
        assertEquals(0.5f, s[8]);
        assertEquals(0f, z[7]);
    }

    /** sumLanes adds in its documented order (lane i + lane i^h for h = L/2 … 1), bit for bit. */
    @Test
    void log1pUnitWithinThreeUlpOnZeroToOneAndEqualToItsScalarTwin() {
        int n = 400_003;
        float[] e = new float[n];
        for (int i = 0; i < n - 8; i++) e[i] = (float) i / (n - 9);          // uniform on [0, 1]
        float[] special = {Float.MIN_VALUE, 1e-30f, 1e-8f, 3e-8f, 0.41421354f, 0.41421357f, 0.41421360f, 1f};
        System.arraycopy(special, 0, e, n - 8, 8);
        for (int i = 0; i < 4000; i++) e[i] = (float) Math.pow(2, -126 + i * 126.0 / 4000); // tiny, log-spaced
        float[] y = applyVector(e, VectorMath::log1pUnit);
        long worst = 0;
        float worstE = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(VectorMath.log1pUnit(e[i])), Float.floatToIntBits(y[i]),
                    "vector and scalar twin differ at e = " + e[i]);
            long u = ulps((float) Math.log1p(e[i]), y[i]);
            if (u > worst) {
                worst = u;
                worstE = e[i];
            }
        }
        assertTrue(worst <= 3, "log1pUnit is " + worst + " ulp off at e = " + worstE);
        assertEquals(0f, VectorMath.log1pUnit(0f));
        assertTrue(Float.isNaN(VectorMath.log1pUnit(Float.NaN)));
    }

    @Test
    void softplusWithinThreeUlpOfTheCorrectlyRoundedValue() {
        int n = 200_001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -80f + 160f * i / (n - 1);
        float[] y = applyVector(x, VectorMath::softplus);
        long worst = 0;
        float worstX = 0;
        for (int i = 0; i < n; i++) {
            long u = ulps(VectorMath.softplus(x[i]), y[i]); // the scalar twin is correctly rounded (double)
            if (u > worst) {
                worst = u;
                worstX = x[i];
            }
        }
        assertTrue(worst <= 3, "softplus is " + worst + " ulp off at x = " + worstX);
    }

    @Test
    void sumLanesIsTheFixedHalvingTree() {
        java.util.Random r = new java.util.Random(7);
        float[] x = new float[L];
        for (int rep = 0; rep < 200; rep++) {
            for (int i = 0; i < L; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            float[] t = x.clone();
            for (int h = L / 2; h >= 1; h /= 2) {
                float[] u = new float[L];
                for (int i = 0; i < L; i++) u[i] = t[i] + t[i ^ h];
                t = u;
            }
            float got = VectorMath.sumLanes(FloatVector.fromArray(KernelConfig.F, x, 0));
            assertEquals(Float.floatToIntBits(t[0]), Float.floatToIntBits(got), "rep " + rep);
        }
    }
}
