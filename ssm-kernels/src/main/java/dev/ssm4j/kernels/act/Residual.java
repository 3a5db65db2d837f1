package dev.ssm4j.kernels.act;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.KernelConfig;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Residual connections of the block stack: h_{k+1} = h_k + Mixer(Norm(h_k)). On flat runs of n
 * floats (the residual stream (b, l, d_model) is contiguous).
 *
 * <p>Backward of y = a + b is da += dy and db += dy, i.e. {@link #addInPlace} of dy into each
 * gradient; of x += r it is dr += dx (dx passes through unchanged).
 */
public final class Residual {
    private Residual() {}

    /** y = a + b; y may be a or b. */
    public static void add(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n, ForkJoinPool pool) {
        check(y, yOff, a, aOff, b, bOff, n);
        Activations.split(pool, 1, n, (r0, r1, c0, c1) -> {
            if (KernelConfig.FORCE_SCALAR) addScalar(y, yOff + c0, a, aOff + c0, b, bOff + c0, c1 - c0);
            else addSimd(y, yOff + c0, a, aOff + c0, b, bOff + c0, c1 - c0);
        });
    }

    /** x += r. */
    public static void addInPlace(float[] x, int xOff, float[] r, int rOff, int n, ForkJoinPool pool) {
        add(x, xOff, x, xOff, r, rOff, n, pool);
    }

    /** Scalar twin of {@link #add} (one thread). */
    public static void addScalar(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check(y, yOff, a, aOff, b, bOff, n);
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    /** SIMD twin of {@link #add} (one thread): LANES consecutive elements per vector. */
    public static void addSimd(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check(y, yOff, a, aOff, b, bOff, n);
        int L = F.length(), i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, a, aOff + i).add(FloatVector.fromArray(F, b, bOff + i)).intoArray(y, yOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, a, aOff + i, m).add(FloatVector.fromArray(F, b, bOff + i, m)).intoArray(y, yOff + i, m);
        }
    }

    private static void check(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        ActChecks.flat("y", y, yOff, n);
        ActChecks.flat("a", a, aOff, n);
        ActChecks.flat("b", b, bOff, n);
    }
}
