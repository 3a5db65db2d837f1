package dev.ssm4j.kernels.norm;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of the (gated, grouped) RMSNorm backward. Per (row, group), two passes over the
 * group's channels: (1) s = Σ dy·weight·u (with a gate, σ(z) is stored in a group-sized scratch so
 * that pass 2 does not evaluate the exponential again); (2) du = r·dy·weight − r³·u·s/G, then dx,
 * dz and the dweight partial. Lanes hold LANES neighbouring channels of the group.
 *
 * <p>Rows are split into at most one part per thread; each part accumulates dweight into its own
 * (d) partial, and the partials are added to dweight in part order afterwards, so there are no
 * races and, for a given thread count, the result is deterministic. Math: {@link GatedRmsNorm}.
 */
public final class RmsNormSimdBackward {
    private RmsNormSimdBackward() {}

    private static final int L = F.length();

    /** Backward; arguments as {@link GatedRmsNorm#backward}. */
    public static void backward(float[] dx, int dxOff, int dxStride, float[] dz, int dzOff, int dzStride,
                                float[] dweight, float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride,
                                float[] z, int zOff, int zStride, float[] rstd, float[] weight, int rows, int d,
                                int groupSize, float eps, ForkJoinPool pool) {
        NormChecks.backward(dx, dxOff, dxStride, dz, dzOff, dzStride, dweight, dy, dyOff, dyStride, x, xOff, xStride,
                z, zOff, zStride, rstd, weight, rows, d, groupSize);
        if (rows == 0) return;
        int groups = d / groupSize;
        long work = (long) rows * d;
        int parts = (int) Math.max(1, Math.min(Math.min(Parallel.threads(pool), rows), work / RmsNormSimd.GRAIN_ELEMENTS));
        float[] partial = dweight == null ? null : new float[parts * d];    // (parts, d)
        Parallel.forRange(pool, parts, 1, (p0, p1) -> {
            float[] sg = z == null ? null : new float[groupSize];           // σ(z) of one group
            for (int p = p0; p < p1; p++) {
                int r0 = (int) ((long) rows * p / parts), r1 = (int) ((long) rows * (p + 1) / parts);
                for (int r = r0; r < r1; r++) {
                    int xr = xOff + r * xStride, zr = zOff + r * zStride, dyr = dyOff + r * dyStride;
                    for (int g = 0; g < groups; g++) {
                        int c0 = g * groupSize;
                        float rs = rstd != null ? rstd[r * groups + g] : recomputeRstd(x, xr + c0, z, zr + c0, sg, groupSize, eps);
                        float s = z == null ? dot(dy, dyr + c0, weight, c0, x, xr + c0, groupSize)
                                : gatedDot(sg, dy, dyr + c0, weight, c0, x, xr + c0, z, zr + c0, groupSize);
                        float k = rs * rs * rs * s / groupSize;
                        int pw = partial == null ? -1 : p * d + c0;
                        if (z == null) {
                            applyPlain(dx, dx == null ? 0 : dxOff + r * dxStride + c0, partial, pw, dy, dyr + c0,
                                    x, xr + c0, weight, c0, rs, k, groupSize);
                        } else {
                            applyGated(dx, dx == null ? 0 : dxOff + r * dxStride + c0, dz,
                                    dz == null ? 0 : dzOff + r * dzStride + c0, partial, pw, sg, dy, dyr + c0, x,
                                    xr + c0, z, zr + c0, weight, c0, rs, k, groupSize);
                        }
                    }
                }
            }
        });
        if (dweight != null) {
            for (int p = 0; p < parts; p++) addInto(dweight, partial, p * d, d);
        }
    }

    private static float recomputeRstd(float[] x, int xo, float[] z, int zo, float[] scratch, int n, float eps) {
        float ss = z == null ? RmsNormSimd.sumSquares(x, xo, n)
                : RmsNormSimd.gateIntoAndSumSquares(scratch, 0, x, xo, z, zo, n);
        return (float) (1.0 / Math.sqrt(ss / n + eps));
    }

    /** Σ dy·weight·x. */
    static float dot(float[] dy, int dyo, float[] w, int wo, float[] x, int xo, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            s0 = FloatVector.fromArray(F, dy, dyo + i).mul(FloatVector.fromArray(F, w, wo + i))
                    .fma(FloatVector.fromArray(F, x, xo + i), s0);
            s1 = FloatVector.fromArray(F, dy, dyo + i + L).mul(FloatVector.fromArray(F, w, wo + i + L))
                    .fma(FloatVector.fromArray(F, x, xo + i + L), s1);
        }
        for (; i <= n - L; i += L) {
            s0 = FloatVector.fromArray(F, dy, dyo + i).mul(FloatVector.fromArray(F, w, wo + i))
                    .fma(FloatVector.fromArray(F, x, xo + i), s0);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            s1 = FloatVector.fromArray(F, dy, dyo + i, m).mul(FloatVector.fromArray(F, w, wo + i, m))
                    .fma(FloatVector.fromArray(F, x, xo + i, m), s1);
        }
        return VectorMath.sumLanes(s0.add(s1));
    }

    /**
     * Σ dy·weight·u with u = x·z·σ(z); stores σ(z) into sg[0, n). One sigmoid call site (a second,
     * cold one for the tail would box its vectors): the last, partial vector runs through the same
     * body with masked memory accesses, full vectors unmasked.
     */
    static float gatedDot(float[] sg, float[] dy, int dyo, float[] w, int wo, float[] x, int xo, float[] z, int zo, int n) {
        FloatVector s0 = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            boolean full = i + L <= n;
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector zv = full ? FloatVector.fromArray(F, z, zo + i) : FloatVector.fromArray(F, z, zo + i, m);
            FloatVector sv = VectorMath.sigmoid(zv);
            if (full) sv.intoArray(sg, i);
            else sv.intoArray(sg, i, m);
            FloatVector xv = full ? FloatVector.fromArray(F, x, xo + i) : FloatVector.fromArray(F, x, xo + i, m);
            FloatVector dyv = full ? FloatVector.fromArray(F, dy, dyo + i) : FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector wv = full ? FloatVector.fromArray(F, w, wo + i) : FloatVector.fromArray(F, w, wo + i, m);
            s0 = dyv.mul(wv).fma(xv.mul(zv).mul(sv), s0);   // masked lanes: 0·0·… = 0
        }
        return VectorMath.sumLanes(s0);
    }

    /** No gate: du = rs·dy·w − k·x; dx += du; partial += dy·x·rs. */
    private static void applyPlain(float[] dx, int dxo, float[] pw, int pwo, float[] dy, int dyo, float[] x, int xo,
                                   float[] w, int wo, float rs, float k, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector dyv = FloatVector.fromArray(F, dy, dyo + i), xv = FloatVector.fromArray(F, x, xo + i);
            if (dx != null) {
                FloatVector du = dyv.mul(FloatVector.fromArray(F, w, wo + i)).mul(rs).sub(xv.mul(k));
                FloatVector.fromArray(F, dx, dxo + i).add(du).intoArray(dx, dxo + i);
            }
            if (pw != null) dyv.mul(xv).mul(rs).add(FloatVector.fromArray(F, pw, pwo + i)).intoArray(pw, pwo + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector dyv = FloatVector.fromArray(F, dy, dyo + i, m), xv = FloatVector.fromArray(F, x, xo + i, m);
            if (dx != null) {
                FloatVector du = dyv.mul(FloatVector.fromArray(F, w, wo + i, m)).mul(rs).sub(xv.mul(k));
                FloatVector.fromArray(F, dx, dxo + i, m).add(du).intoArray(dx, dxo + i, m);
            }
            if (pw != null) dyv.mul(xv).mul(rs).add(FloatVector.fromArray(F, pw, pwo + i, m)).intoArray(pw, pwo + i, m);
        }
    }

    /** Gate: u = x·z·σ, du = rs·dy·w − k·u; dx += du·z·σ; dz += du·x·σ·(1 + z(1−σ)); partial += dy·u·rs. */
    private static void applyGated(float[] dx, int dxo, float[] dz, int dzo, float[] pw, int pwo, float[] sg,
                                   float[] dy, int dyo, float[] x, int xo, float[] z, int zo, float[] w, int wo,
                                   float rs, float k, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector sv = FloatVector.fromArray(F, sg, i), zv = FloatVector.fromArray(F, z, zo + i);
            FloatVector xv = FloatVector.fromArray(F, x, xo + i), dyv = FloatVector.fromArray(F, dy, dyo + i);
            FloatVector silu = zv.mul(sv), u = xv.mul(silu);
            FloatVector du = dyv.mul(FloatVector.fromArray(F, w, wo + i)).mul(rs).sub(u.mul(k));
            if (dx != null) du.fma(silu, FloatVector.fromArray(F, dx, dxo + i)).intoArray(dx, dxo + i);
            if (dz != null) {
                FloatVector dsilu = sv.mul(zv.mul(sv.neg().add(1f)).add(1f));
                du.mul(xv).fma(dsilu, FloatVector.fromArray(F, dz, dzo + i)).intoArray(dz, dzo + i);
            }
            if (pw != null) dyv.mul(u).mul(rs).add(FloatVector.fromArray(F, pw, pwo + i)).intoArray(pw, pwo + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector sv = FloatVector.fromArray(F, sg, i, m), zv = FloatVector.fromArray(F, z, zo + i, m);
            FloatVector xv = FloatVector.fromArray(F, x, xo + i, m), dyv = FloatVector.fromArray(F, dy, dyo + i, m);
            FloatVector silu = zv.mul(sv), u = xv.mul(silu);
            FloatVector du = dyv.mul(FloatVector.fromArray(F, w, wo + i, m)).mul(rs).sub(u.mul(k));
            if (dx != null) du.fma(silu, FloatVector.fromArray(F, dx, dxo + i, m)).intoArray(dx, dxo + i, m);
            if (dz != null) {
                FloatVector dsilu = sv.mul(zv.mul(sv.neg().add(1f)).add(1f));
                du.mul(xv).fma(dsilu, FloatVector.fromArray(F, dz, dzo + i, m)).intoArray(dz, dzo + i, m);
            }
            if (pw != null) dyv.mul(u).mul(rs).add(FloatVector.fromArray(F, pw, pwo + i, m)).intoArray(pw, pwo + i, m);
        }
    }

    /** dst[i] += src[so + i] for i in [0, n). */
    private static void addInto(float[] dst, float[] src, int so, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, dst, i).add(FloatVector.fromArray(F, src, so + i)).intoArray(dst, i);
        }
        for (; i < n; i++) dst[i] += src[so + i];
    }
}
