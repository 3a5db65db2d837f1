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
 * <p>With one row of X (mp = 1) the kernel keeps two accumulators (even and odd vectors along k)
 * so that the FMA latency is hidden; with mp = 4 (8) it takes 4 (2) rows of W at a time, one
 * accumulator per (row of X, row of W) — 16 independent chains, and each loaded vector of X serves
 * 4 (2) FMAs, which keeps the loads (not the FMAs) from being the limit. The kernels leave one
 * unreduced vector per (row of X, row of W) in a scratch block. Rows of W are taken L at a time, and the L vectors of a group are summed
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

    /*
     * Rows of W are passed as (kind, array, seg, off, ld): w_j starts at {@code array[off + j·ld]}
     * (ARRAY) or at byte {@code off + j·ld·bytes} of {@code seg} (F32, BF16) — plain arguments, not
     * a holder object, so that a decode step allocates nothing (a holder built per call escapes
     * into the non-inlined rows(), and into the task lambda when a pool splits the work).
     */

    static int kindOf(WeightMatrix w) {
        return w.array != null ? ARRAY : w.format == WeightMatrix.Format.F32 ? F32 : BF16;
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
    static void rows(int kind, float[] wArr, MemorySegment wSeg, long wOff, long ld, float[] xs, int mp, int m, int k,
            int j0, int j1, float alpha, float[] bias, float beta, float[] c, int cOff, int ldc) {
        GemmScratch sc = GemmScratch.local();
        float[] part = sc.part, sums = sc.sums, tmp = sc.reduceTmp;
        int kv = k - k % L, stride = L * L;
        for (int g = j0; g < j1; g += L) {
            int rows = Math.min(L, j1 - g);
            // mp = 1: one row of W per call; mp = 4: four; mp = 8: two (16 accumulators each). A
            // group's missing rows repeat its last row (computed, then overwritten with zeros below).
            int step = mp == 1 ? 1 : mp == 4 ? 4 : 2;
            for (int r = 0; r < rows; r += step) {
                int last = g + rows - 1, ja = g + r, jb = Math.min(ja + 1, last), jc = Math.min(ja + 2, last),
                        jd = Math.min(ja + 3, last), po = r * L;
                switch (kind) {
                    case ARRAY -> {
                        int wa = (int) (wOff + ja * ld);
                        if (mp == 1) dotA1(kv, xs, wArr, wa, part, po);
                        else if (mp == 4) dotA4(kv, k, xs, wArr, wa, (int) (wOff + jb * ld),
                                (int) (wOff + jc * ld), (int) (wOff + jd * ld), part, po, stride);
                        else dotA8(kv, k, xs, wArr, wa, (int) (wOff + jb * ld), part, po, stride);
                    }
                    case F32 -> {
                        long wa = wOff + ja * ld * 4, rs = ld * 4;
                        if (mp == 1) dotF1(kv, xs, wSeg, wa, part, po);
                        else if (mp == 4) dotF4(kv, k, xs, wSeg, wa, wOff + jb * rs, wOff + jc * rs,
                                wOff + jd * rs, part, po, stride);
                        else dotF8(kv, k, xs, wSeg, wa, wOff + jb * rs, part, po, stride);
                    }
                    default -> {
                        long wa = wOff + ja * ld * 2, rs = ld * 2;
                        if (mp == 1) dotH1(kv, xs, wSeg, wa, part, po);
                        else if (mp == 4) dotH4(kv, k, xs, wSeg, wa, wOff + jb * rs, wOff + jc * rs,
                                wOff + jd * rs, part, po, stride);
                        else dotH8(kv, k, xs, wSeg, wa, wOff + jb * rs, part, po, stride);
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
                    for (int p = kv; p < k; p++) d = Math.fma(xs[i * k + p], weightAt(kind, wArr, wSeg, wOff, ld, j, p), d);
                    int ci = cOff + i * ldc + j;
                    float v = alpha * d + (bias == null ? 0f : bias[j]);
                    c[ci] = beta == 0f ? v : beta == 1f ? v + c[ci] : Math.fma(beta, c[ci], v);
                }
            }
        }
    }

    /** W[j][p] as float, scalar (the k mod L tail). */
    private static float weightAt(int kind, float[] wArr, MemorySegment wSeg, long wOff, long ld, int j, int p) {
        return switch (kind) {
            case ARRAY -> wArr[(int) (wOff + j * ld + p)];
            case F32 -> wSeg.get(WeightMatrix.F32_LE, wOff + (j * ld + p) * 4);
            default -> bf16At(wSeg, wOff + (j * ld + p) * 2);
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
     * The kernels: part[po + q·L + i·stride …+L) = Σ over the first kv (a multiple of L) elements of
     * X(i, ·) ⊙ w_q, as one unreduced vector, for the q-th row of W passed in. X row i starts at
     * xs[i·k]. Three storage kinds × mp ∈ {1, 4, 8}; only the loads of w differ.
     */

    // ---- float[] weights ---------------------------------------------------------------------------

    static void dotA1(int kv, float[] xs, float[] w, int wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p <= kv - 2 * L; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromArray(S, w, wo + (p + L)), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromArray(S, w, wo + p), s0);
        s0.add(s1).intoArray(part, po);
    }

    /** 4 rows of W (at wa, wb, wc, wd) × 4 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotA4(int kv, int k, float[] xs, float[] w, int wa, int wb, int wc, int wd, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = FloatVector.fromArray(S, w, wa + p);
            FloatVector u1 = FloatVector.fromArray(S, w, wb + p);
            FloatVector u2 = FloatVector.fromArray(S, w, wc + p);
            FloatVector u3 = FloatVector.fromArray(S, w, wd + p);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01); a02 = x.fma(u2, a02); a03 = x.fma(u3, a03);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11); a12 = x.fma(u2, a12); a13 = x.fma(u3, a13);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21); a22 = x.fma(u2, a22); a23 = x.fma(u3, a23);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31); a32 = x.fma(u2, a32); a33 = x.fma(u3, a33);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L); a02.intoArray(part, po + 2 * L); a03.intoArray(part, po + 3 * L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride); a12.intoArray(part, po + 2 * L + stride); a13.intoArray(part, po + 3 * L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride); a22.intoArray(part, po + 2 * L + 2 * stride); a23.intoArray(part, po + 3 * L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride); a32.intoArray(part, po + 2 * L + 3 * stride); a33.intoArray(part, po + 3 * L + 3 * stride);
    }

    /** 2 rows of W (at wa, wb) × 8 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotA8(int kv, int k, float[] xs, float[] w, int wa, int wb, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z,
                a40 = z, a41 = z, a50 = z, a51 = z, a60 = z, a61 = z, a70 = z, a71 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = FloatVector.fromArray(S, w, wa + p);
            FloatVector u1 = FloatVector.fromArray(S, w, wb + p);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31);
            x = FloatVector.fromArray(S, xs, 4 * k + p);
            a40 = x.fma(u0, a40); a41 = x.fma(u1, a41);
            x = FloatVector.fromArray(S, xs, 5 * k + p);
            a50 = x.fma(u0, a50); a51 = x.fma(u1, a51);
            x = FloatVector.fromArray(S, xs, 6 * k + p);
            a60 = x.fma(u0, a60); a61 = x.fma(u1, a61);
            x = FloatVector.fromArray(S, xs, 7 * k + p);
            a70 = x.fma(u0, a70); a71 = x.fma(u1, a71);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride);
        a40.intoArray(part, po + 4 * stride); a41.intoArray(part, po + L + 4 * stride);
        a50.intoArray(part, po + 5 * stride); a51.intoArray(part, po + L + 5 * stride);
        a60.intoArray(part, po + 6 * stride); a61.intoArray(part, po + L + 6 * stride);
        a70.intoArray(part, po + 7 * stride); a71.intoArray(part, po + L + 7 * stride);
    }

    // ---- f32 segments ------------------------------------------------------------------------------

    static void dotF1(int kv, float[] xs, MemorySegment w, long wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p <= kv - 2 * L; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * (p + L), LE), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(FloatVector.fromMemorySegment(S, w, wo + 4L * p, LE), s0);
        s0.add(s1).intoArray(part, po);
    }

    /** 4 rows of W (at wa, wb, wc, wd) × 4 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotF4(int kv, int k, float[] xs, MemorySegment w, long wa, long wb, long wc, long wd, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = FloatVector.fromMemorySegment(S, w, wa + 4L * p, LE);
            FloatVector u1 = FloatVector.fromMemorySegment(S, w, wb + 4L * p, LE);
            FloatVector u2 = FloatVector.fromMemorySegment(S, w, wc + 4L * p, LE);
            FloatVector u3 = FloatVector.fromMemorySegment(S, w, wd + 4L * p, LE);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01); a02 = x.fma(u2, a02); a03 = x.fma(u3, a03);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11); a12 = x.fma(u2, a12); a13 = x.fma(u3, a13);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21); a22 = x.fma(u2, a22); a23 = x.fma(u3, a23);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31); a32 = x.fma(u2, a32); a33 = x.fma(u3, a33);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L); a02.intoArray(part, po + 2 * L); a03.intoArray(part, po + 3 * L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride); a12.intoArray(part, po + 2 * L + stride); a13.intoArray(part, po + 3 * L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride); a22.intoArray(part, po + 2 * L + 2 * stride); a23.intoArray(part, po + 3 * L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride); a32.intoArray(part, po + 2 * L + 3 * stride); a33.intoArray(part, po + 3 * L + 3 * stride);
    }

    /** 2 rows of W (at wa, wb) × 8 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotF8(int kv, int k, float[] xs, MemorySegment w, long wa, long wb, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z,
                a40 = z, a41 = z, a50 = z, a51 = z, a60 = z, a61 = z, a70 = z, a71 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = FloatVector.fromMemorySegment(S, w, wa + 4L * p, LE);
            FloatVector u1 = FloatVector.fromMemorySegment(S, w, wb + 4L * p, LE);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31);
            x = FloatVector.fromArray(S, xs, 4 * k + p);
            a40 = x.fma(u0, a40); a41 = x.fma(u1, a41);
            x = FloatVector.fromArray(S, xs, 5 * k + p);
            a50 = x.fma(u0, a50); a51 = x.fma(u1, a51);
            x = FloatVector.fromArray(S, xs, 6 * k + p);
            a60 = x.fma(u0, a60); a61 = x.fma(u1, a61);
            x = FloatVector.fromArray(S, xs, 7 * k + p);
            a70 = x.fma(u0, a70); a71 = x.fma(u1, a71);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride);
        a40.intoArray(part, po + 4 * stride); a41.intoArray(part, po + L + 4 * stride);
        a50.intoArray(part, po + 5 * stride); a51.intoArray(part, po + L + 5 * stride);
        a60.intoArray(part, po + 6 * stride); a61.intoArray(part, po + L + 6 * stride);
        a70.intoArray(part, po + 7 * stride); a71.intoArray(part, po + L + 7 * stride);
    }

    // ---- bf16 segments -----------------------------------------------------------------------------

    static void dotH1(int kv, float[] xs, MemorySegment w, long wo, float[] part, int po) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int p = 0;
        for (; p <= kv - 2 * L; p += 2 * L) {
            s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
            s1 = FloatVector.fromArray(S, xs, p + L).fma(bf16(w, wo + 2L * (p + L)), s1);
        }
        if (p < kv) s0 = FloatVector.fromArray(S, xs, p).fma(bf16(w, wo + 2L * p), s0);
        s0.add(s1).intoArray(part, po);
    }

    /** 4 rows of W (at wa, wb, wc, wd) × 4 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotH4(int kv, int k, float[] xs, MemorySegment w, long wa, long wb, long wc, long wd, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = bf16(w, wa + 2L * p);
            FloatVector u1 = bf16(w, wb + 2L * p);
            FloatVector u2 = bf16(w, wc + 2L * p);
            FloatVector u3 = bf16(w, wd + 2L * p);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01); a02 = x.fma(u2, a02); a03 = x.fma(u3, a03);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11); a12 = x.fma(u2, a12); a13 = x.fma(u3, a13);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21); a22 = x.fma(u2, a22); a23 = x.fma(u3, a23);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31); a32 = x.fma(u2, a32); a33 = x.fma(u3, a33);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L); a02.intoArray(part, po + 2 * L); a03.intoArray(part, po + 3 * L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride); a12.intoArray(part, po + 2 * L + stride); a13.intoArray(part, po + 3 * L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride); a22.intoArray(part, po + 2 * L + 2 * stride); a23.intoArray(part, po + 3 * L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride); a32.intoArray(part, po + 2 * L + 3 * stride); a33.intoArray(part, po + 3 * L + 3 * stride);
    }

    /** 2 rows of W (at wa, wb) × 8 rows of X: 16 accumulators, one per (row of X, row of W). */
    static void dotH8(int kv, int k, float[] xs, MemorySegment w, long wa, long wb, float[] part, int po, int stride) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z,
                a40 = z, a41 = z, a50 = z, a51 = z, a60 = z, a61 = z, a70 = z, a71 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector u0 = bf16(w, wa + 2L * p);
            FloatVector u1 = bf16(w, wb + 2L * p);
            FloatVector x;
            x = FloatVector.fromArray(S, xs, p);
            a00 = x.fma(u0, a00); a01 = x.fma(u1, a01);
            x = FloatVector.fromArray(S, xs, k + p);
            a10 = x.fma(u0, a10); a11 = x.fma(u1, a11);
            x = FloatVector.fromArray(S, xs, 2 * k + p);
            a20 = x.fma(u0, a20); a21 = x.fma(u1, a21);
            x = FloatVector.fromArray(S, xs, 3 * k + p);
            a30 = x.fma(u0, a30); a31 = x.fma(u1, a31);
            x = FloatVector.fromArray(S, xs, 4 * k + p);
            a40 = x.fma(u0, a40); a41 = x.fma(u1, a41);
            x = FloatVector.fromArray(S, xs, 5 * k + p);
            a50 = x.fma(u0, a50); a51 = x.fma(u1, a51);
            x = FloatVector.fromArray(S, xs, 6 * k + p);
            a60 = x.fma(u0, a60); a61 = x.fma(u1, a61);
            x = FloatVector.fromArray(S, xs, 7 * k + p);
            a70 = x.fma(u0, a70); a71 = x.fma(u1, a71);
        }
        a00.intoArray(part, po); a01.intoArray(part, po + L);
        a10.intoArray(part, po + stride); a11.intoArray(part, po + L + stride);
        a20.intoArray(part, po + 2 * stride); a21.intoArray(part, po + L + 2 * stride);
        a30.intoArray(part, po + 3 * stride); a31.intoArray(part, po + L + 3 * stride);
        a40.intoArray(part, po + 4 * stride); a41.intoArray(part, po + L + 4 * stride);
        a50.intoArray(part, po + 5 * stride); a51.intoArray(part, po + L + 5 * stride);
        a60.intoArray(part, po + 6 * stride); a61.intoArray(part, po + L + 6 * stride);
        a70.intoArray(part, po + 7 * stride); a71.intoArray(part, po + L + 7 * stride);
    }
}
