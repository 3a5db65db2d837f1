package dev.ssm4j.kernels.act;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the activations: LANES consecutive elements per vector, the exponentials from
 * {@link VectorMath}. One loop per function — the switch is taken once per call, never per element.
 * Each loop has a single call site of its exp-based function, for every vector including the last,
 * partial one: a second call site for the tail runs once per call, C2 finds it cold, does not inline
 * it, and the vectors crossing that call are boxed (40–230 bytes per call at decode sizes, measured).
 * The loads and stores are masked only for that last vector ({@code full ? load : masked load}, a
 * branch around the memory access, not around the math): masked loads of every vector measured
 * ~4× slower once the data is out of cache (11–12.5 against 2.9–3.3 ns per 16 SiLUs at 3M
 * floats, AVX-512 on Zen 5; ~1.1× in L2), masked stores ~1.4×. These kernels move 8 (forward) or
 * 16 (backward) bytes per element and do ~20 flops on them, so they run near memory speed once
 * the data is out of cache. Math: {@link Activation}.
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
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector r = VectorMath.silu(full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m));
            if (full) r.intoArray(y, yo + i);
            else r.intoArray(y, yo + i, m);
        }
    }

    private static void softplus(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector r = VectorMath.softplus(full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m));
            if (full) r.intoArray(y, yo + i);
            else r.intoArray(y, yo + i, m);
        }
    }

    private static void sigmoid(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector r = VectorMath.sigmoid(full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m));
            if (full) r.intoArray(y, yo + i);
            else r.intoArray(y, yo + i, m);
        }
    }

    private static void exp(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector r = VectorMath.exp(full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m));
            if (full) r.intoArray(y, yo + i);
            else r.intoArray(y, yo + i, m);
        }
    }

    private static void siluBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector s = VectorMath.sigmoid(v), df = s.mul(v.mul(s.neg().add(1f)).add(1f));
            FloatVector g = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector acc = full ? FloatVector.fromArray(F, dx, dxo + i) : FloatVector.fromArray(F, dx, dxo + i, m);
            FloatVector r = g.fma(df, acc);
            if (full) r.intoArray(dx, dxo + i);
            else r.intoArray(dx, dxo + i, m);
        }
    }

    private static void softplusBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector df = VectorMath.sigmoid(v);
            FloatVector g = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector acc = full ? FloatVector.fromArray(F, dx, dxo + i) : FloatVector.fromArray(F, dx, dxo + i, m);
            FloatVector r = g.fma(df, acc);
            if (full) r.intoArray(dx, dxo + i);
            else r.intoArray(dx, dxo + i, m);
        }
    }

    private static void sigmoidBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector s = VectorMath.sigmoid(v), df = s.mul(s.neg().add(1f));
            FloatVector g = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector acc = full ? FloatVector.fromArray(F, dx, dxo + i) : FloatVector.fromArray(F, dx, dxo + i, m);
            FloatVector r = g.fma(df, acc);
            if (full) r.intoArray(dx, dxo + i);
            else r.intoArray(dx, dxo + i, m);
        }
    }

    private static void expBackward(float[] dx, int dxo, float[] dy, int dyo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;                                 // all vectors but a partial last one
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector df = VectorMath.exp(v);
            FloatVector g = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector acc = full ? FloatVector.fromArray(F, dx, dxo + i) : FloatVector.fromArray(F, dx, dxo + i, m);
            FloatVector r = g.fma(df, acc);
            if (full) r.intoArray(dx, dxo + i);
            else r.intoArray(dx, dxo + i, m);
        }
    }
}
