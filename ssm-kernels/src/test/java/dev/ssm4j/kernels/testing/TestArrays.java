package dev.ssm4j.kernels.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

/** Random inputs and tolerant comparisons shared by the test suites of every module. */
public final class TestArrays {
    private TestArrays() {}

    /** n floats uniform in [lo, hi). */
    public static float[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    /** n floats from N(0, std²). */
    public static float[] normal(SplittableRandom rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            // Box–Muller; SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default.
            double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
            a[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /**
     * Asserts |expected − actual| ≤ atol + rtol·|expected| elementwise; on failure names the
     * first offending index, the worst error and the array length.
     */
    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        double[] e = toDouble(expected);
        assertClose(what, e, actual, atol, rtol);
    }

    public static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int first = -1, worstAt = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            boolean bad = !(err <= atol + rtol * Math.abs(expected[i]));
            if (bad && first < 0) first = i;
            double scaled = err / (atol + rtol * Math.abs(expected[i]));
            if (!(scaled <= worst)) {
                worst = scaled;
                worstAt = i;
            }
        }
        if (first >= 0) {
            fail(String.format("%s: mismatch at [%d] expected %.8g got %.8g; worst at [%d] expected %.8g got %.8g"
                            + " (|err| = %.3g, atol %.1g, rtol %.1g, n = %d)",
                    what, first, expected[first], actual[first], worstAt, expected[worstAt], actual[worstAt],
                    Math.abs(expected[worstAt] - actual[worstAt]), atol, rtol, expected.length));
        }
    }

    /** Largest |a − b|. */
    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }
}
