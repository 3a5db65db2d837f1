package dev.ssm4j.kernels.testing;

import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in double precision: d f / d x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h.
 *
 * <p>Tests write a plain double-precision forward pass of the kernel under test, reduce its
 * output to a scalar loss L = Σ y·dy with a fixed random dy, and compare the gradient below to
 * what the float backward kernel returns for that dy. The truncation error is O(h²), so with
 * h = 1e−4 in double the numerical gradient is good to ~1e−8 relative and any disagreement
 * beyond float rounding is a bug in the backward pass.
 */
public final class FiniteDifference {
    private FiniteDifference() {}

    /** Gradient of {@code loss} with respect to every entry of {@code x} (x is restored afterwards). */
    public static double[] gradient(double[] x, double h, ToDoubleFunction<double[]> loss) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            double plus = loss.applyAsDouble(x);
            x[i] = saved - h;
            double minus = loss.applyAsDouble(x);
            x[i] = saved;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    /** Σ a_i b_i in double. */
    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
