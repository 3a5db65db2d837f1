package dev.ssm4j.kernels.act;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the activations: LANES consecutive elements per vector, the exponential from
 * {@link VectorMath#exp(FloatVector)}. One loop per function — the switch is taken once per call,
 * never per element. Each loop runs masked loads and stores for every vector (the mask is all-true
 * but for the last, partial one) so that the exp-based function has a single call site: a second
 * call site for the tail runs once per call, C2 finds it cold, does not inline it, and the vectors
 * crossing that call are boxed (40–230 bytes per call at decode sizes, measured). On AVX-512 a
 * masked load or store costs the same as a plain one. These kernels move 8 (forward) or 16
 * (backward) bytes per element and do ~20 flops on them, so they run at memory speed once the data
 * is out of cache. Math: {@link Activation}.
 */
public final class ActivationsSimd {
    private ActivationsSimd() {}

    private static final int L = F.length();

    /** y[yOff + i] = f(x[xOff + i]) for i in [0, n); y may be x. */
    public static void forward(Activation f, float[] y, int yOff, float[] x, int xOff, int n) {
        ActChecks.flat("y", y, yOff, n);
        ActChecks.flat("x", x, xOff, n);
        switch (f) {
            case SILU -> silu(y, yOff, x, xOff, n);
            case SOFTPLUS -> softplus(y, yOff, x, xOff, n);
            case SIGMOID -> sigmoid(y, yOff, x, xOff, n);
            case EXP -> exp(y, yOff, x, xOff, n);
        }
    }

    /** dx[i] += dy[i] · f'(x[i]) for i in [0, n). */
    public static void backward(Activation f, float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n) {
        ActChecks.flat("dx", dx, dxOff, n);
        ActChecks.flat("dy", dy, dyOff, n);
        ActChecks.flat("x", x, xOff, n);
        switch (f) {
            case SILU -> siluBackward(dx, dxOff, dy, dyOff, x, xOff, n);
            case SOFTPLUS -> softplusBackward(dx, dxOff, dy, dyOff, x, xOff, n);
            case SIGMOID -> sigmoidBackward(dx, dxOff, dy, dyOff, x, xOff, n);
            case EXP -> expBackward(dx, dxOff, dy, dyOff, x, xOff, n);
        }
    }

    private static void silu(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            VectorMath.silu(FloatVector.fromArray(F, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void softplus(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            VectorMath.softplus(FloatVector.fromArray(F, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void sigmoid(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            VectorMath.sigmoid(FloatVector.fromArray(F, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void exp(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            VectorMath.exp(FloatVector.fromArray(F, x, xo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void siluBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            FloatVector v = FloatVector.fromArray(F, x, xo + i, m), s = VectorMath.sigmoid(v);
            FloatVector df = s.mul(v.mul(s.neg().add(1f)).add(1f));
            FloatVector.fromArray(F, dy, dyo + i, m).fma(df, FloatVector.fromArray(F, dx, dxo + i, m)).intoArray(dx, dxo + i, m);
        }
    }

    private static void softplusBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            FloatVector df = VectorMath.sigmoid(FloatVector.fromArray(F, x, xo + i, m));
            FloatVector.fromArray(F, dy, dyo + i, m).fma(df, FloatVector.fromArray(F, dx, dxo + i, m)).intoArray(dx, dxo + i, m);
        }
    }

    private static void sigmoidBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            FloatVector s = VectorMath.sigmoid(FloatVector.fromArray(F, x, xo + i, m)), df = s.mul(s.neg().add(1f));
            FloatVector.fromArray(F, dy, dyo + i, m).fma(df, FloatVector.fromArray(F, dx, dxo + i, m)).intoArray(dx, dxo + i, m);
        }
    }

    private static void expBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);                // all-true but for the last vector
            FloatVector df = VectorMath.exp(FloatVector.fromArray(F, x, xo + i, m));
            FloatVector.fromArray(F, dy, dyo + i, m).fma(df, FloatVector.fromArray(F, dx, dxo + i, m)).intoArray(dx, dxo + i, m);
        }
    }
}
