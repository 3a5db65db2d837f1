package dev.ssm4j.kernels.norm;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the (gated, grouped) RMSNorm forward. Lanes hold LANES neighbouring channels of one
 * group of one row. Two passes per group: (1) u = x·silu(z) — written into y, which doubles as
 * the scratch, so silu is evaluated once — and Σu² over independent accumulators (the adds of
 * one accumulator form a dependency chain; four chains for plain x, two with the gate, keep the
 * FMA pipes busy); (2) y =
 * u·r·weight. The group (≤ a few thousand floats) is still in L1 for pass 2, so memory sees one
 * read of x and z and one write of y. A group whose size is not a multiple of LANES ends with one
 * masked vector. Rows are split over the pool's threads.
 *
 * <p>Math and layouts: {@link GatedRmsNorm}; backward: {@link RmsNormSimdBackward}.
 */
public final class RmsNormSimd {
    private RmsNormSimd() {}

    private static final int L = F.length();
    /** Aim for at least this many elements per parallel task. */
    static final int GRAIN_ELEMENTS = 1 << 15;

    /** Forward; arguments as {@link GatedRmsNorm#forward}. */
    public static void forward(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride,
                               float[] z, int zOff, int zStride, float[] weight, int rows, int d, int groupSize,
                               float eps, ForkJoinPool pool) {
        NormChecks.forward(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, rows, d, groupSize);
        int grain = Math.max(1, GRAIN_ELEMENTS / d);
        if (Parallel.serial(pool, rows, grain)) {     // no lambda: nothing allocated per (decode) call
            forwardRows(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, d, groupSize, eps, 0, rows);
            return;
        }
        Parallel.forRange(pool, rows, grain, (r0, r1) ->
                forwardRows(y, yOff, yStride, rstd, x, xOff, xStride, z, zOff, zStride, weight, d, groupSize, eps, r0, r1));
    }

    /** Rows [r0, r1). */
    private static void forwardRows(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride,
                                    float[] z, int zOff, int zStride, float[] weight, int d, int groupSize, float eps,
                                    int r0, int r1) {
        int groups = d / groupSize;
        for (int r = r0; r < r1; r++) {
            int xr = xOff + r * xStride, zr = zOff + r * zStride, yr = yOff + r * yStride;
            for (int g = 0; g < groups; g++) {
                int c0 = g * groupSize;
                float ss = z == null ? sumSquares(x, xr + c0, groupSize)
                        : gateIntoAndSumSquares(y, yr + c0, x, xr + c0, z, zr + c0, groupSize);
                float rs = (float) (1.0 / Math.sqrt(ss / groupSize + eps));
                if (rstd != null) rstd[r * groups + g] = rs;
                if (z == null) scale(y, yr + c0, x, xr + c0, weight, c0, rs, groupSize);
                else scale(y, yr + c0, y, yr + c0, weight, c0, rs, groupSize);
            }
        }
    }

    /**
     * Σ a[off + i]² for i in [0, n). The one loop here that keeps the test {@code i + k·L <= n}
     * (JIT note 7 of docs/elementwise-kernels.md): with {@code i <= n - k·L} the forward at d = 1536
     * in L3 ran 838–941 against 961–1019 µs (JMH, 3 forks each, interleaved runs), no faster elsewhere.
     */
    static float sumSquares(float[] a, int off, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(F, a, off + i), v1 = FloatVector.fromArray(F, a, off + i + L);
            FloatVector v2 = FloatVector.fromArray(F, a, off + i + 2 * L), v3 = FloatVector.fromArray(F, a, off + i + 3 * L);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
            s2 = v2.fma(v2, s2);
            s3 = v3.fma(v3, s3);
        }
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, off + i);
            s0 = v.fma(v, s0);
        }
        if (i < n) {                                               // masked lanes load as 0
            FloatVector v = FloatVector.fromArray(F, a, off + i, F.indexInRange(i, n));
            s1 = v.fma(v, s1);
        }
        return VectorMath.sumLanes(s0.add(s1).add(s2.add(s3)));
    }

    /**
     * u = x·silu(z) into out, returns Σu². Exactly one silu call site: every call site inlines a
     * copy of the exponential; a second, cold one for the tail is not inlined and boxes its vectors
     * (192 bytes per call at d = 1540, measured), and more copies exhaust C2's inlining budget. So
     * the last, partial vector runs through the same body and only the memory accesses branch: full
     * vectors load and store unmasked (masked loads are ~4× slower out of cache), the last one
     * masked. Masked lanes load as 0, so they add 0 to Σu². The two accumulators swap roles every
     * iteration.
     */
    static float gateIntoAndSumSquares(float[] out, int oOff, float[] x, int xOff, float[] z, int zOff, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector zv = full ? FloatVector.fromArray(F, z, zOff + i) : FloatVector.fromArray(F, z, zOff + i, m);
            FloatVector xv = full ? FloatVector.fromArray(F, x, xOff + i) : FloatVector.fromArray(F, x, xOff + i, m);
            FloatVector u = xv.mul(VectorMath.silu(zv));
            if (full) u.intoArray(out, oOff + i);
            else u.intoArray(out, oOff + i, m);
            FloatVector t = u.fma(u, s1);
            s1 = s0;
            s0 = t;
        }
        return VectorMath.sumLanes(s0.add(s1));
    }

    /** out[i] = src[i]·rs·weight[c0 + i] for i in [0, n); out may be src. */
    static void scale(float[] out, int oOff, float[] src, int sOff, float[] weight, int c0, float rs, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, src, sOff + i).mul(rs).mul(FloatVector.fromArray(F, weight, c0 + i)).intoArray(out, oOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, src, sOff + i, m).mul(rs).mul(FloatVector.fromArray(F, weight, c0 + i, m))
                    .intoArray(out, oOff + i, m);
        }
    }
}
