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
 * hidden even for one row; the kernels leave their sum, one unreduced vector per (row of X, row of
 * W), in a scratch block. Rows of W are taken L at a time, and the L vectors of a group are summed
 * across lanes all at once by {@link #reduce}: a transposing tree of two-vector permutes
 * ({@code selectFrom}, vpermt2ps) and adds, about 3 vector operations per row instead of ~15 dependent
 * scalar adds. The tree adds lane i to lane i + L/2, then i + L/4, … — the fixed pairwise order,
 * not {@code reduceLanes}, whose order is unspecified and may differ between the interpreter and
 * compiled code. The k mod L tail is then added with scalar FMAs. The result for a row therefore
 * depends neither on mp nor on the group or thread that computes it.
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

    /** Number of lanes-sum levels: log2(L). */
    private static final int LEVELS = Integer.numberOfTrailingZeros(L);
    /** Per level, the permute indexes that gather the low and the high half of every segment (see {@link #reduce}). */
    private static final float[][] LO_IDX = new float[LEVELS][L], HI_IDX = new float[LEVELS][L];
    /** After the last level, lane q holds the sum of input vector ROW_OF_LANE[q]. */
    private static final int[] ROW_OF_LANE = new int[L];

    static {
        // At level t every vector holds 2^t rows, each in a segment of s = L >> t lanes. Two vectors a, b
        // become one with segments of s/2: for segment g, the first half gets a's pairwise sums
        // a[g·s + o] + a[g·s + s/2 + o], the second half b's. Indexes ≥ L select from b.
        for (int t = 0; t < LEVELS; t++) {
            int seg = L >> t, half = seg / 2;
            for (int q = 0; q < L; q++) {
                int g = q / seg * seg, o = q % seg;
                LO_IDX[t][q] = o < half ? g + o : L + g + (o - half);
                HI_IDX[t][q] = o < half ? g + half + o : L + g + o;
            }
        }
        int[][] rowOf = new int[L][L];
        for (int r = 0; r < L; r++) java.util.Arrays.fill(rowOf[r], r);
        for (int t = 0, count = L; t < LEVELS; t++, count /= 2) {
            int seg = L >> t, half = seg / 2;
            int[][] next = new int[count / 2][L];
            for (int v = 0; v < count / 2; v++) {
                for (int q = 0; q < L; q++) {
                    int g = q / seg * seg, o = q % seg;
                    next[v][q] = o < half ? rowOf[2 * v][g + o] : rowOf[2 * v + 1][g + o - half];
                }
            }
            rowOf = next;
        }
        System.arraycopy(rowOf[0], 0, ROW_OF_LANE, 0, L);
    }

    /**
     * sums[r] = Σ_lanes part[off + r·L …+L) for r &lt; L, in the fixed order described in the class
     * comment (equal, bit for bit, to adding lane i + w into lane i for w = L/2, L/4, …, 1).
     * {@code tmp} needs L·L/2 floats.
     */
    static void reduce(float[] part, int off, float[] sums, float[] tmp) {
        if (L == 1) {
            sums[0] = part[off];
            return;
        }
        float[] src = part;
        int base = off;
        for (int t = 0, count = L; t < LEVELS; t++, count /= 2) {
            FloatVector lo = FloatVector.fromArray(S, LO_IDX[t], 0), hi = FloatVector.fromArray(S, HI_IDX[t], 0);
            for (int v = 0; v < count / 2; v++) {
                FloatVector a = FloatVector.fromArray(S, src, base + 2 * v * L);
                FloatVector b = FloatVector.fromArray(S, src, base + (2 * v + 1) * L);
                lo.selectFrom(a, b).add(hi.selectFrom(a, b)).intoArray(tmp, v * L);
            }
            src = tmp;
            base = 0;
        }
        for (int q = 0; q < L; q++) sums[ROW_OF_LANE[q]] = tmp[q];
    }

    /**
     * C[0:m, j] for j in [j0, j1): C(i, j) = α·dot + bias[j] + β'·C(i, j), with β' = β (β = 0: C not
     * read). xs holds mp rows (rows m..mp zero).
     */
    static void rows(Source src, float[] xs, int mp, int m, int k, int j0, int j1, float alpha, float[] bias,
            float beta, float[] c, int cOff, int ldc) {
        GemmScratch sc = GemmScratch.local();
        float[] part = sc.part, sums = sc.sums, tmp = sc.reduceTmp;
        int kv = k - k % L, stride = L * L;
        for (int g = j0; g < j1; g += L) {
            int rows = Math.min(L, j1 - g);
            for (int r = 0; r < rows; r++) {
                int j = g + r, po = r * L;
                switch (src.kind) {
                    case ARRAY -> {
                        int wo = (int) (src.off + j * src.ld);
                        if (mp == 1) dotA1(kv, xs, src.array, wo, part, po);
                        else if (mp == 4) dotA4(kv, k, xs, src.array, wo, part, po, stride);
                        else dotA8(kv, k, xs, src.array, wo, part, po, stride);
                    }
                    case F32 -> {
                        long wo = src.byteOff + j * src.ld * 4;
                        if (mp == 1) dotF1(kv, xs, src.seg, wo, part, po);
                        else if (mp == 4) dotF4(kv, k, xs, src.seg, wo, part, po, stride);
                        else dotF8(kv, k, xs, src.seg, wo, part, po, stride);
                    }
                    default -> {
                        long wo = src.byteOff + j * src.ld * 2;
                        if (mp == 1) dotH1(kv, xs, src.seg, wo, part, po);
                        else if (mp == 4) dotH4(kv, k, xs, src.seg, wo, part, po, stride);
                        else dotH8(kv, k, xs, src.seg, wo, part, po, stride);
                    }
                }
            }
            if (rows < L) {
                for (int i = 0; i < m; i++) java.util.Arrays.fill(part, i * stride + rows * L, (i + 1) * stride, 0f);
            }
            for (int i = 0; i < m; i++) {
                reduce(part, i * stride, sums, tmp);
                for (int r = 0; r < rows; r++) {
                    int j = g + r;
                    float d = sums[r];
                    for (int p = kv; p < k; p++) d = Math.fma(xs[i * k + p], weightAt(src, j, p), d);
                    int ci = cOff + i * ldc + j;
                    float v = alpha * d + (bias == null ? 0f : bias[j]);
                    c[ci] = beta == 0f ? v : beta == 1f ? v + c[ci] : Math.fma(beta, c[ci], v);
                }
            }
        }
    }

    /** W[j][p] as float, scalar (the k mod L tail). */
    private static float weightAt(Source src, int j, int p) {
        return switch (src.kind) {
            case ARRAY -> src.array[(int) (src.off + j * src.ld + p)];
            case F32 -> src.seg.get(WeightMatrix.F32_LE, src.byteOff + (j * src.ld + p) * 4);
            default -> bf16At(src.seg, src.byteOff + (j * src.ld + p) * 2);
        };
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

    /*
     * The kernels: part[po + i·stride …+L) = Σ over the first kv (a multiple of L) elements of
     * X(i, ·) ⊙ w, as one unreduced vector (even-vector and odd-vector accumulators added). X row i
     * starts at xs[i·k]. Three storage kinds × mp ∈ {1, 4, 8}; only the loads of w differ.
     */

    // ---- float[] weights ---------------------------------------------------------------------------

    static void dotA1(int kv, float[] xs, float[] w, int wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromArray(S, w, wo + p + L), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
        s0.add(s1).intoArray(part, po);
    }

    static void dotA4(int kv, int k, float[] xs, float[] w, int wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
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
        if (p < kv) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
    }

    static void dotA8(int kv, int k, float[] xs, float[] w, int wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
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
        if (p < kv) {
            FloatVector u = FloatVector.fromArray(S, w, wo + p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
        a4.add(b4).intoArray(part, po + 4 * stride);
        a5.add(b5).intoArray(part, po + 5 * stride);
        a6.add(b6).intoArray(part, po + 6 * stride);
        a7.add(b7).intoArray(part, po + 7 * stride);
    }

    // ---- f32 segments ------------------------------------------------------------------------------

    static void dotF1(int kv, float[] xs, MemorySegment w, long wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
        s0.add(s1).intoArray(part, po);
    }

    static void dotF4(int kv, int k, float[] xs, MemorySegment w, long wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), v = FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            b0 = FloatVector.fromArray(S, xs, p + L).fma(v, b0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            b1 = FloatVector.fromArray(S, xs, k + p + L).fma(v, b1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            b2 = FloatVector.fromArray(S, xs, 2 * k + p + L).fma(v, b2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            b3 = FloatVector.fromArray(S, xs, 3 * k + p + L).fma(v, b3);
        }
        if (p < kv) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
    }

    static void dotF8(int kv, int k, float[] xs, MemorySegment w, long wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), v = FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE);
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
        if (p < kv) {
            FloatVector u = FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
        a4.add(b4).intoArray(part, po + 4 * stride);
        a5.add(b5).intoArray(part, po + 5 * stride);
        a6.add(b6).intoArray(part, po + 6 * stride);
        a7.add(b7).intoArray(part, po + 7 * stride);
    }

    // ---- bf16 segments -----------------------------------------------------------------------------

    static void dotH1(int kv, float[] xs, MemorySegment w, long wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(bf16(w, wo + 2L * (p + L)), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
        s0.add(s1).intoArray(part, po);
    }

    static void dotH4(int kv, int k, float[] xs, MemorySegment w, long wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
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
        if (p < kv) {
            FloatVector u = bf16(w, wo + 2L * p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
    }

    static void dotH8(int kv, int k, float[] xs, MemorySegment w, long wo, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        int p = 0;
        for (; p + 2 * L <= kv; p += 2 * L) {
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
        if (p < kv) {
            FloatVector u = bf16(w, wo + 2L * p);
            a0 = FloatVector.fromArray(S, xs, p).fma(u, a0);
            a1 = FloatVector.fromArray(S, xs, k + p).fma(u, a1);
            a2 = FloatVector.fromArray(S, xs, 2 * k + p).fma(u, a2);
            a3 = FloatVector.fromArray(S, xs, 3 * k + p).fma(u, a3);
            a4 = FloatVector.fromArray(S, xs, 4 * k + p).fma(u, a4);
            a5 = FloatVector.fromArray(S, xs, 5 * k + p).fma(u, a5);
            a6 = FloatVector.fromArray(S, xs, 6 * k + p).fma(u, a6);
            a7 = FloatVector.fromArray(S, xs, 7 * k + p).fma(u, a7);
        }
        a0.add(b0).intoArray(part, po);
        a1.add(b1).intoArray(part, po + stride);
        a2.add(b2).intoArray(part, po + 2 * stride);
        a3.add(b3).intoArray(part, po + 3 * stride);
        a4.add(b4).intoArray(part, po + 4 * stride);
        a5.add(b5).intoArray(part, po + 5 * stride);
        a6.add(b6).intoArray(part, po + 6 * stride);
        a7.add(b7).intoArray(part, po + 7 * stride);
    }
}
