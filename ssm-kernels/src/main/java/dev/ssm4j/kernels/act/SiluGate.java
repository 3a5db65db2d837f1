package dev.ssm4j.kernels.act;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * The multiplicative gate of a Mamba-1 block (Gu &amp; Dao 2023, Fig. 3: the SSM output is multiplied
 * by silu of the second in_proj branch z before out_proj):
 * <pre>
 *   y = x · silu(z)
 *   dx += dy · silu(z)
 *   dz += dy · x · σ(z)·(1 + z·(1 − σ(z)))
 * </pre>
 * On (rows, cols) views with offsets and row strides (z is the z column slice of in_proj's output).
 * y may be x or z itself (in place). Backward ACCUMULATES into dx and dz (either may be null).
 * Scalar and SIMD twins below; the entry points take SIMD unless {@code -Dssm4j.kernels.scalar=true}.
 * (Mamba-2 gates inside its norm instead: {@link dev.ssm4j.kernels.norm.GatedRmsNorm}.)
 */
public final class SiluGate {
    private SiluGate() {}

    /** y = x · silu(z) over (rows, cols). */
    public static void forward(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride, float[] z, int zOff,
                               int zStride, int rows, int cols, ForkJoinPool pool) {
        ActChecks.rows("y", y, yOff, yStride, rows, cols);
        ActChecks.rows("x", x, xOff, xStride, rows, cols);
        ActChecks.rows("z", z, zOff, zStride, rows, cols);
        if (Activations.serial(pool, rows, cols)) {     // no lambda: nothing allocated per (decode) call
            forwardRows(y, yOff, yStride, x, xOff, xStride, z, zOff, zStride, 0, rows, 0, cols);
            return;
        }
        Activations.split(pool, rows, cols,
                (r0, r1, c0, c1) -> forwardRows(y, yOff, yStride, x, xOff, xStride, z, zOff, zStride, r0, r1, c0, c1));
    }

    private static void forwardRows(float[] y, int yOff, int yStride, float[] x, int xOff, int xStride, float[] z,
                                    int zOff, int zStride, int r0, int r1, int c0, int c1) {
        for (int r = r0; r < r1; r++) {
            int yo = yOff + r * yStride + c0, xo = xOff + r * xStride + c0, zo = zOff + r * zStride + c0;
            if (KernelConfig.FORCE_SCALAR) forwardScalar(y, yo, x, xo, z, zo, c1 - c0);
            else forwardSimd(y, yo, x, xo, z, zo, c1 - c0);
        }
    }

    /** dx += dy · silu(z), dz += dy · x · silu'(z) over (rows, cols); dx or dz may be null. */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dz, int dzOff, int dzStride, float[] dy,
                                int dyOff, int dyStride, float[] x, int xOff, int xStride, float[] z, int zOff,
                                int zStride, int rows, int cols, ForkJoinPool pool) {
        if (dx != null) ActChecks.rows("dx", dx, dxOff, dxStride, rows, cols);
        if (dz != null) ActChecks.rows("dz", dz, dzOff, dzStride, rows, cols);
        ActChecks.rows("dy", dy, dyOff, dyStride, rows, cols);
        ActChecks.rows("x", x, xOff, xStride, rows, cols);
        ActChecks.rows("z", z, zOff, zStride, rows, cols);
        Activations.split(pool, rows, cols, (r0, r1, c0, c1) -> {
            for (int r = r0; r < r1; r++) {
                int dxo = dxOff + r * dxStride + c0, dzo = dzOff + r * dzStride + c0, dyo = dyOff + r * dyStride + c0;
                int xo = xOff + r * xStride + c0, zo = zOff + r * zStride + c0;
                if (KernelConfig.FORCE_SCALAR) backwardScalar(dx, dxo, dz, dzo, dy, dyo, x, xo, z, zo, c1 - c0);
                else backwardSimd(dx, dxo, dz, dzo, dy, dyo, x, xo, z, zo, c1 - c0);
            }
        });
    }

    /** Scalar twin of the forward on a run of n floats. */
    public static void forwardScalar(float[] y, int yo, float[] x, int xo, float[] z, int zo, int n) {
        checkRun("y", y, yo, null, 0, x, xo, z, zo, n);
        for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * VectorMath.silu(z[zo + i]);
    }

    /** Scalar twin of the backward on a run of n floats (dx or dz may be null). */
    public static void backwardScalar(float[] dx, int dxo, float[] dz, int dzo, float[] dy, int dyo, float[] x, int xo,
                                      float[] z, int zo, int n) {
        checkRun("dx", dx, dxo, dz, dzo, x, xo, z, zo, n);
        ActChecks.flat("dy", dy, dyo, n);
        for (int i = 0; i < n; i++) {
            float zi = z[zo + i], s = VectorMath.sigmoid(zi), g = dy[dyo + i];
            if (dx != null) dx[dxo + i] += g * zi * s;
            if (dz != null) dz[dzo + i] += g * x[xo + i] * s * (1f + zi * (1f - s));
        }
    }

    /**
     * SIMD twin of the forward: LANES consecutive elements per vector. One silu call site for every
     * vector; loads and stores masked only for the partial last one (see ActivationsSimd: masked
     * loads of every vector are ~4× slower out of cache).
     */
    public static void forwardSimd(float[] y, int yo, float[] x, int xo, float[] z, int zo, int n) {
        checkRun("y", y, yo, null, 0, x, xo, z, zo, n);
        int L = F.length();
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector zv = full ? FloatVector.fromArray(F, z, zo + i) : FloatVector.fromArray(F, z, zo + i, m);
            FloatVector xv = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector r = xv.mul(VectorMath.silu(zv));
            if (full) r.intoArray(y, yo + i);
            else r.intoArray(y, yo + i, m);
        }
    }

    /** SIMD twin of the backward (dx or dz may be null). */
    public static void backwardSimd(float[] dx, int dxo, float[] dz, int dzo, float[] dy, int dyo, float[] x, int xo,
                                    float[] z, int zo, int n) {
        checkRun("dx", dx, dxo, dz, dzo, x, xo, z, zo, n);
        ActChecks.flat("dy", dy, dyo, n);
        int L = F.length();
        for (int i = 0; i < n; i += L) {       // one sigmoid call site; masked only for the last vector
            boolean full = i + L <= n;
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector zv = full ? FloatVector.fromArray(F, z, zo + i) : FloatVector.fromArray(F, z, zo + i, m);
            FloatVector s = VectorMath.sigmoid(zv);
            FloatVector g = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            if (dx != null) {
                FloatVector acc = full ? FloatVector.fromArray(F, dx, dxo + i) : FloatVector.fromArray(F, dx, dxo + i, m);
                FloatVector r = g.mul(zv).fma(s, acc);
                if (full) r.intoArray(dx, dxo + i);
                else r.intoArray(dx, dxo + i, m);
            }
            if (dz != null) {
                FloatVector ds = s.mul(zv.mul(s.neg().add(1f)).add(1f));
                FloatVector xv = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
                FloatVector acc = full ? FloatVector.fromArray(F, dz, dzo + i) : FloatVector.fromArray(F, dz, dzo + i, m);
                FloatVector r = g.mul(xv).fma(ds, acc);
                if (full) r.intoArray(dz, dzo + i);
                else r.intoArray(dz, dzo + i, m);
            }
        }
    }

    /** Runs of n floats: out1/out2 may be null (not wanted), x and z must be there. */
    private static void checkRun(String name1, float[] out1, int o1, float[] out2, int o2, float[] x, int xo, float[] z,
                                 int zo, int n) {
        if (out1 != null) ActChecks.flat(name1, out1, o1, n);
        if (out2 != null) ActChecks.flat("dz", out2, o2, n);
        ActChecks.flat("x", x, xo, n);
        ActChecks.flat("z", z, zo, n);
    }
}
