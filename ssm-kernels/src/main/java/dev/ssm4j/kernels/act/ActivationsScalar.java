package dev.ssm4j.kernels.act;

import dev.ssm4j.kernels.VectorMath;

/** Scalar twin of the activations: one element at a time, on a run of n floats. Math: {@link Activation}. */
public final class ActivationsScalar {
    private ActivationsScalar() {}

    /** y[yOff + i] = f(x[xOff + i]) for i in [0, n); y may be x. */
    public static void forward(Activation f, float[] y, int yOff, float[] x, int xOff, int n) {
        ActChecks.flat("y", y, yOff, n);
        ActChecks.flat("x", x, xOff, n);
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            y[yOff + i] = switch (f) {
                case SILU -> VectorMath.silu(v);
                case SOFTPLUS -> VectorMath.softplus(v);
                case SIGMOID -> VectorMath.sigmoid(v);
                case EXP -> VectorMath.exp(v);
            };
        }
    }

    /** dx[i] += dy[i] · f'(x[i]) for i in [0, n). */
    public static void backward(Activation f, float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n) {
        ActChecks.flat("dx", dx, dxOff, n);
        ActChecks.flat("dy", dy, dyOff, n);
        ActChecks.flat("x", x, xOff, n);
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            float s = VectorMath.sigmoid(v);
            float df = switch (f) {
                case SILU -> s * (1f + v * (1f - s));
                case SOFTPLUS -> s;
                case SIGMOID -> s * (1f - s);
                case EXP -> VectorMath.exp(v);
            };
            dx[dxOff + i] += dy[dyOff + i] * df;
        }
    }
}
