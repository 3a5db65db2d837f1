package dev.ssm4j.kernels.gemm;

import static dev.ssm4j.kernels.gemm.GemmKernel.L;
import static dev.ssm4j.kernels.gemm.GemmKernel.S;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot-product kernels of the decode path: C(i, j) = α · Σ_p X(i, p)·W[j][p] (+ bias[j]) + β·C(i, j)
 * for the mp ∈ {1, 4, 8} rows of X (a small L1-resident buffer, row stride k) against rows of a
 * weight W that is read once, in place: a float[], an f32 segment or a bf16 segment.
 *
 * <p>Each row of X keeps two accumulators (even and odd vectors along k) so that the FMA latency is
 * hidden even for one row; they are combined, summed across lanes in a fixed pairwise order (not
 * {@code reduceLanes}, whose order is unspecified and could differ between the interpreter and
 * compiled code), and the k mod L tail is added with scalar FMAs. The result of a row therefore
 * depends neither on mp nor on which thread computes it.
 *
 * <p>bf16: L values are loaded as a half-width {@link ShortVector}, sign-extended to int lanes
 * ({@code vpmovsxwd}) and shifted left by 16 — the bf16 bits become the upper half of the float
 * bits, the sign-extension bits are shifted out — then reinterpreted as floats. The weight is never
 * widened in memory: decode moves 2 bytes per weight instead of 4.
 */
final class GemmDots {
    private GemmDots() {}

    private static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static final int ARRAY = 0, F32 = 1, BF16 = 2;

    /** Rows of W: w_j starts at {@code array[off + j·ld]} or at byte {@code byteOff + j·ld·bytes} of {@code seg}. */
    static final class Source {
        final int kind;
        final float[] array;
        final int off;
        final long ld;
        final MemorySegment seg;
        final long byteOff;

        private Source(int kind, float[] array, int off, long ld, MemorySegment seg, long byteOff) {
            this.kind = kind;
            this.array = array;
            this.off = off;
            this.ld = ld;
            this.seg = seg;
            this.byteOff = byteOff;
        }

        static Source array(float[] b, int off, int ld) {
            return new Source(ARRAY, b, off, ld, null, 0);
        }

        static Source of(WeightMatrix w) {
            if (w.array != null) return new Source(ARRAY, w.array, w.arrayOffset, w.rowStride, null, 0);
            return new Source(w.format == WeightMatrix.Format.F32 ? F32 : BF16, null, 0, w.rowStride, w.segment, w.byteOffset);
        }
    }

    /**
     * C[0:m, j] for j in [j0, j1): C(i, j) = α·dot + bias[j] + β'·C(i, j), with β' = β (β = 0: C not
     * read). xs holds mp rows (rows m..mp zero).
     */
    static void rows(Source src, float[] xs, int mp, int m, int k, int j0, int j1, float alpha, float[] bias,
            float beta, float[] c, int cOff, int ldc) {
        GemmScratch sc = GemmScratch.local();
        float[] dots = sc.dots, lanes = sc.lanes;
        for (int j = j0; j < j1; j++) {
            switch (src.kind) {
                case ARRAY -> {
                    int wo = (int) (src.off + j * src.ld);
                    if (mp == 1) dotA1(k, xs, src.array, wo, lanes, dots);
                    else if (mp == 4) dotA4(k, xs, src.array, wo, lanes, dots);
                    else dotA8(k, xs, src.array, wo, lanes, dots);
                }
                case F32 -> {
                    long wo = src.byteOff + j * src.ld * 4;
                    if (mp == 1) dotF1(k, xs, src.seg, wo, lanes, dots);
                    else if (mp == 4) dotF4(k, xs, src.seg, wo, lanes, dots);
                    else dotF8(k, xs, src.seg, wo, lanes, dots);
                }
                default -> {
                    long wo = src.byteOff + j * src.ld * 2;
                    if (mp == 1) dotH1(k, xs, src.seg, wo, lanes, dots);
                    else if (mp == 4) dotH4(k, xs, src.seg, wo, lanes, dots);
                    else dotH8(k, xs, src.seg, wo, lanes, dots);
                }
            }
            float bj = bias == null ? 0f : bias[j];
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc + j;
                float v = alpha * dots[i] + bj;
                c[ci] = beta == 0f ? v : beta == 1f ? v + c[ci] : Math.fma(beta, c[ci], v);
            }
        }
    }

    /** Σ of the lanes of v in a fixed pairwise order. */
    static float hsum(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        for (int w = L / 2; w >= 1; w >>= 1) {
            for (int i = 0; i < w; i++) lanes[i] += lanes[i + w];
        }
        return lanes[0];
    }

    /** Widens L bf16 values at byte {@code off} of {@code seg} to floats. */
    static FloatVector bf16(MemorySegment seg, long off) {
        ShortVector h = ShortVector.fromMemorySegment(SH, seg, off, LE);
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, SI, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float bf16At(MemorySegment seg, long off) {
        return Float.intBitsToFloat((seg.get(WeightMatrix.BF16_LE, off) & 0xffff) << 16);
    }

    // ---- float[] weights ------------------------------------------------------------------

    static void dotA1(int k, float[] xs, float[] w, int wo, float[] lanes, float[] dots) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromArray(S, w, wo + p + L), s1);
        }
        if (p + L <= k) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
            p += L;
        }
        float r = hsum(s0.add(s1), lanes);
        for (; p < k; p++) r = Math.fma(xs[p], w[wo + p], r);
        dots[0] = r;
    }

    static void dotA4(int k, float[] xs, float[] w, int wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p), v = FloatVector.fromArray(S, w, wo + p + L);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
        }
        if (p + L <= k) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        for (; p < k; p++) {
            float wp = w[wo + p];
            for (int i = 0; i < 4; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }

    static void dotA8(int k, float[] xs, float[] w, int wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z,
                a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p), v = FloatVector.fromArray(S, w, wo + p + L);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            b4 = FloatVector.fromArray(S, xs, 4 * k + p + L).fma(v, b4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            b5 = FloatVector.fromArray(S, xs, 5 * k + p + L).fma(v, b5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            b6 = FloatVector.fromArray(S, xs, 6 * k + p + L).fma(v, b6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            b7 = FloatVector.fromArray(S, xs, 7 * k + p + L).fma(v, b7);
        }
        if (p + L <= k) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        dots[4] = hsum(a4.add(b4), lanes);
        dots[5] = hsum(a5.add(b5), lanes);
        dots[6] = hsum(a6.add(b6), lanes);
        dots[7] = hsum(a7.add(b7), lanes);
        for (; p < k; p++) {
            float wp = w[wo + p];
            for (int i = 0; i < 8; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }

    // ---- f32 segments (same shape as the float[] kernels; only the loads of W differ) ---------------

    static void dotF1(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE), s1);
        }
        if (p + L <= k) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
            p += L;
        }
        float r = hsum(s0.add(s1), lanes);
        for (; p < k; p++) r = Math.fma(xs[p], w.get(WeightMatrix.F32_LE, wo + 4L * p), r);
        dots[0] = r;
    }

    static void dotF4(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            FloatVector v = FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
        }
        if (p + L <= k) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        for (; p < k; p++) {
            float wp = w.get(WeightMatrix.F32_LE, wo + 4L * p);
            for (int i = 0; i < 4; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }

    static void dotF8(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z,
                a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            FloatVector v = FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            b4 = FloatVector.fromArray(S, xs, 4 * k + p + L).fma(v, b4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            b5 = FloatVector.fromArray(S, xs, 5 * k + p + L).fma(v, b5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            b6 = FloatVector.fromArray(S, xs, 6 * k + p + L).fma(v, b6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            b7 = FloatVector.fromArray(S, xs, 7 * k + p + L).fma(v, b7);
        }
        if (p + L <= k) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        dots[4] = hsum(a4.add(b4), lanes);
        dots[5] = hsum(a5.add(b5), lanes);
        dots[6] = hsum(a6.add(b6), lanes);
        dots[7] = hsum(a7.add(b7), lanes);
        for (; p < k; p++) {
            float wp = w.get(WeightMatrix.F32_LE, wo + 4L * p);
            for (int i = 0; i < 8; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }

    // ---- bf16 segments --------------------------------------------------------------------------

    static void dotH1(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(bf16(w, wo + 2L * (p + L)), s1);
        }
        if (p + L <= k) {
            s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
            p += L;
        }
        float r = hsum(s0.add(s1), lanes);
        for (; p < k; p++) r = Math.fma(xs[p], bf16At(w, wo + 2L * p), r);
        dots[0] = r;
    }

    static void dotH4(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = bf16(w, wo + 2L * p), v = bf16(w, wo + 2L * (p + L));
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
        }
        if (p + L <= k) {
            FloatVector u = bf16(w, wo + 2L * p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        for (; p < k; p++) {
            float wp = bf16At(w, wo + 2L * p);
            for (int i = 0; i < 4; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }

    static void dotH8(int k, float[] xs, MemorySegment w, long wo, float[] lanes, float[] dots) {
        FloatVector z = FloatVector.zero(S), a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z,
                a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= k; p += 2 * L) {
            FloatVector u = bf16(w, wo + 2L * p), v = bf16(w, wo + 2L * (p + L));
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            b4 = FloatVector.fromArray(S, xs, 4 * k + p + L).fma(v, b4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            b5 = FloatVector.fromArray(S, xs, 5 * k + p + L).fma(v, b5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            b6 = FloatVector.fromArray(S, xs, 6 * k + p + L).fma(v, b6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            b7 = FloatVector.fromArray(S, xs, 7 * k + p + L).fma(v, b7);
        }
        if (p + L <= k) {
            FloatVector u = bf16(w, wo + 2L * p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
            p += L;
        }
        dots[0] = hsum(a0.add(b0), lanes);
        dots[1] = hsum(a1.add(b1), lanes);
        dots[2] = hsum(a2.add(b2), lanes);
        dots[3] = hsum(a3.add(b3), lanes);
        dots[4] = hsum(a4.add(b4), lanes);
        dots[5] = hsum(a5.add(b5), lanes);
        dots[6] = hsum(a6.add(b6), lanes);
        dots[7] = hsum(a7.add(b7), lanes);
        for (; p < k; p++) {
            float wp = bf16At(w, wo + 2L * p);
            for (int i = 0; i < 8; i++) dots[i] = Math.fma(xs[i * k + p], wp, dots[i]);
        }
    }
}
