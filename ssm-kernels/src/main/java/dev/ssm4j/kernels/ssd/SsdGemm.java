package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.KernelConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small matrix products of the chunked SSD kernels, register-tiled with the Vector API:
 * <pre>
 *   out[r][0..w) = β · in[r][0..w) + Σ_{k0 ≤ k &lt; k1} a(r, k) · bm[k][0..w)        r = 0 … rows−1
 *   a(r, k)   = a[aOff + r·aRs + k·aKs]     any strides: a row-major, column-major or strided operand
 *   bm[k][·]  = bm[bOff + k·bRs + ·]        rows of w floats, w a multiple of the vector length
 * </pre>
 * β = 0 ignores {@code in}; {@code in} may be {@code out} itself (accumulate in place): the
 * accumulators start from β·in, the classic C = βC + A·B.
 *
 * <p>Why this shape: every product of the SSD forward and backward has one operand whose rows
 * are contiguous in the output's fast dimension (bm — the caller's rows or packed copies with
 * zero padding) and another read one scalar at a time (a — often a strided slice of the caller's
 * arrays, read in place). The main micro-kernel keeps a 6 × 4-vector block of out in 24
 * registers and, for each k, loads 4 vectors of bm and broadcasts 6 scalars of a: 24 FMAs for 10
 * loads, which keeps both FMA pipes of a Zen 5 core busy (measured 10–20 % faster than a 4 × 4
 * tile on this machine; see docs/ssd.md). Row and column remainders use 4 × 4, 4 × 1, 1 × 4
 * and 1 × 1 kernels. Vectors are never passed to another method: one that C2 does
 * not inline would box them on the heap.
 *
 * <p>These calls are the seam where a general GEMM kernel can later replace them: each is one
 * (rows × K) · (K × w) product with a scaled accumulate and arbitrary strides.
 */
final class SsdGemm {
    private SsdGemm() {}

    private static final VectorSpecies<Float> F = KernelConfig.F;
    private static final int L = KernelConfig.LANES;
    /**
     * 6 × 4-vector tiles (24 accumulators) need 32 vector registers: AVX-512 has them, also for
     * 256-bit vectors (AVX-512VL); an AVX2-only machine (preferred width 256) has 16 and gets the
     * 4 × 4 tile, which spills a little there (not measured: this machine has AVX-512).
     */
    private static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    /** The general entry: see the class comment. {@code w % LANES == 0}. */
    static void mm(float[] out, int oOff, int oRs, float beta, float[] in, int iOff, int iRs,
                   float[] a, int aOff, int aRs, int aKs,
                   float[] bm, int bOff, int bRs,
                   int rows, int w, int k0, int k1) {
        mm(out, oOff, oRs, beta, in, iOff, iRs, a, aOff, aRs, aKs, bm, bOff, bRs, rows, w, k0, k1, null, 0);
    }

    /**
     * {@link #mm} with the rows of the result scaled before they are stored: out row r =
     * sc[scOff + r] · (β·in row r + Σ_k a(r, k)·bm row k) — a row scaling fused into the
     * product's last step instead of a pass of its own ({@code sc} null: no scaling).
     */
    static void mm(float[] out, int oOff, int oRs, float beta, float[] in, int iOff, int iRs,
                   float[] a, int aOff, int aRs, int aKs,
                   float[] bm, int bOff, int bRs,
                   int rows, int w, int k0, int k1, float[] sc, int scOff) {
        int r = 0;
        if (WIDE && w % (4 * L) == 0) {
            // 6-row tiles, but a remainder of 2 or 3 rows is taken as 8 or 9 = 4 + 4 (+ 1): two 4-row
            // tiles beat one 6-row tile and two or three 1-row kernels, which are load-bound
            // (e.g. n = 128 = 20·6 + 2·4 rows in the chunk state)
            int rem = rows % 6, sixEnd = rows - rem - ((rem == 2 || rem == 3) && rows >= 6 ? 6 : 0);
            for (; r < sixEnd; r += 6) {
                for (int c = 0; c < w; c += 4 * L) {
                    k6x4(out, oOff + r * oRs + c, oRs, beta, in, iOff + r * iRs + c, iRs,
                            a, aOff + r * aRs, aRs, aKs, bm, bOff + c, bRs, k0, k1, sc, scOff + r);
                }
            }
        }
        for (; r <= rows - 4; r += 4) {
            int c = 0;
            for (; c <= w - 4 * L; c += 4 * L) {
                k4x4(out, oOff + r * oRs + c, oRs, beta, in, iOff + r * iRs + c, iRs,
                        a, aOff + r * aRs, aRs, aKs, bm, bOff + c, bRs, k0, k1, sc, scOff + r);
            }
            for (; c < w; c += L) {
                k4x1(out, oOff + r * oRs + c, oRs, beta, in, iOff + r * iRs + c, iRs,
                        a, aOff + r * aRs, aRs, aKs, bm, bOff + c, bRs, k0, k1, sc, scOff + r);
            }
        }
        for (; r < rows; r++) {
            int c = 0;
            for (; c <= w - 4 * L; c += 4 * L) {
                k1x4(out, oOff + r * oRs + c, beta, in, iOff + r * iRs + c, a, aOff + r * aRs, aKs, bm, bOff + c, bRs,
                        k0, k1, sc, scOff + r);
            }
            for (; c < w; c += L) {
                k1x1(out, oOff + r * oRs + c, beta, in, iOff + r * iRs + c, a, aOff + r * aRs, aKs, bm, bOff + c, bRs,
                        k0, k1, sc, scOff + r);
            }
        }
    }

    private static void k6x4(float[] out, int o, int oRs, float beta, float[] in, int io, int iRs,
                             float[] a, int a0, int aRs, int aKs, float[] bm, int b0, int bRs, int k0, int k1, float[] sc, int sco) {
        FloatVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33, s40, s41, s42, s43, s50, s51, s52, s53;
        if (beta == 0f) {
            FloatVector z = FloatVector.zero(F);
            s00 = s01 = s02 = s03 = z;
            s10 = s11 = s12 = s13 = z;
            s20 = s21 = s22 = s23 = z;
            s30 = s31 = s32 = s33 = z;
            s40 = s41 = s42 = s43 = z;
            s50 = s51 = s52 = s53 = z;
        } else {
            FloatVector bv = FloatVector.broadcast(F, beta);
            s00 = FloatVector.fromArray(F, in, io).mul(bv);
            s01 = FloatVector.fromArray(F, in, io + L).mul(bv);
            s02 = FloatVector.fromArray(F, in, io + 2 * L).mul(bv);
            s03 = FloatVector.fromArray(F, in, io + 3 * L).mul(bv);
            s10 = FloatVector.fromArray(F, in, io + iRs).mul(bv);
            s11 = FloatVector.fromArray(F, in, io + iRs + L).mul(bv);
            s12 = FloatVector.fromArray(F, in, io + iRs + 2 * L).mul(bv);
            s13 = FloatVector.fromArray(F, in, io + iRs + 3 * L).mul(bv);
            s20 = FloatVector.fromArray(F, in, io + 2 * iRs).mul(bv);
            s21 = FloatVector.fromArray(F, in, io + 2 * iRs + L).mul(bv);
            s22 = FloatVector.fromArray(F, in, io + 2 * iRs + 2 * L).mul(bv);
            s23 = FloatVector.fromArray(F, in, io + 2 * iRs + 3 * L).mul(bv);
            s30 = FloatVector.fromArray(F, in, io + 3 * iRs).mul(bv);
            s31 = FloatVector.fromArray(F, in, io + 3 * iRs + L).mul(bv);
            s32 = FloatVector.fromArray(F, in, io + 3 * iRs + 2 * L).mul(bv);
            s33 = FloatVector.fromArray(F, in, io + 3 * iRs + 3 * L).mul(bv);
            s40 = FloatVector.fromArray(F, in, io + 4 * iRs).mul(bv);
            s41 = FloatVector.fromArray(F, in, io + 4 * iRs + L).mul(bv);
            s42 = FloatVector.fromArray(F, in, io + 4 * iRs + 2 * L).mul(bv);
            s43 = FloatVector.fromArray(F, in, io + 4 * iRs + 3 * L).mul(bv);
            s50 = FloatVector.fromArray(F, in, io + 5 * iRs).mul(bv);
            s51 = FloatVector.fromArray(F, in, io + 5 * iRs + L).mul(bv);
            s52 = FloatVector.fromArray(F, in, io + 5 * iRs + 2 * L).mul(bv);
            s53 = FloatVector.fromArray(F, in, io + 5 * iRs + 3 * L).mul(bv);
        }
        int a1 = a0 + aRs, a2 = a1 + aRs, a3 = a2 + aRs, a4 = a3 + aRs, a5 = a4 + aRs;
        for (int k = k0; k < k1; k++) {
            int bo = b0 + k * bRs, ak = k * aKs;
            FloatVector b0v = FloatVector.fromArray(F, bm, bo);
            FloatVector b1v = FloatVector.fromArray(F, bm, bo + L);
            FloatVector b2v = FloatVector.fromArray(F, bm, bo + 2 * L);
            FloatVector b3v = FloatVector.fromArray(F, bm, bo + 3 * L);
            FloatVector v = FloatVector.broadcast(F, a[a0 + ak]);
            s00 = v.fma(b0v, s00);
            s01 = v.fma(b1v, s01);
            s02 = v.fma(b2v, s02);
            s03 = v.fma(b3v, s03);
            v = FloatVector.broadcast(F, a[a1 + ak]);
            s10 = v.fma(b0v, s10);
            s11 = v.fma(b1v, s11);
            s12 = v.fma(b2v, s12);
            s13 = v.fma(b3v, s13);
            v = FloatVector.broadcast(F, a[a2 + ak]);
            s20 = v.fma(b0v, s20);
            s21 = v.fma(b1v, s21);
            s22 = v.fma(b2v, s22);
            s23 = v.fma(b3v, s23);
            v = FloatVector.broadcast(F, a[a3 + ak]);
            s30 = v.fma(b0v, s30);
            s31 = v.fma(b1v, s31);
            s32 = v.fma(b2v, s32);
            s33 = v.fma(b3v, s33);
            v = FloatVector.broadcast(F, a[a4 + ak]);
            s40 = v.fma(b0v, s40);
            s41 = v.fma(b1v, s41);
            s42 = v.fma(b2v, s42);
            s43 = v.fma(b3v, s43);
            v = FloatVector.broadcast(F, a[a5 + ak]);
            s50 = v.fma(b0v, s50);
            s51 = v.fma(b1v, s51);
            s52 = v.fma(b2v, s52);
            s53 = v.fma(b3v, s53);
        }
        if (sc != null) {
            FloatVector f0 = FloatVector.broadcast(F, sc[sco + 0]);
            s00 = s00.mul(f0);
            s01 = s01.mul(f0);
            s02 = s02.mul(f0);
            s03 = s03.mul(f0);
            FloatVector f1 = FloatVector.broadcast(F, sc[sco + 1]);
            s10 = s10.mul(f1);
            s11 = s11.mul(f1);
            s12 = s12.mul(f1);
            s13 = s13.mul(f1);
            FloatVector f2 = FloatVector.broadcast(F, sc[sco + 2]);
            s20 = s20.mul(f2);
            s21 = s21.mul(f2);
            s22 = s22.mul(f2);
            s23 = s23.mul(f2);
            FloatVector f3 = FloatVector.broadcast(F, sc[sco + 3]);
            s30 = s30.mul(f3);
            s31 = s31.mul(f3);
            s32 = s32.mul(f3);
            s33 = s33.mul(f3);
            FloatVector f4 = FloatVector.broadcast(F, sc[sco + 4]);
            s40 = s40.mul(f4);
            s41 = s41.mul(f4);
            s42 = s42.mul(f4);
            s43 = s43.mul(f4);
            FloatVector f5 = FloatVector.broadcast(F, sc[sco + 5]);
            s50 = s50.mul(f5);
            s51 = s51.mul(f5);
            s52 = s52.mul(f5);
            s53 = s53.mul(f5);
        }
        s00.intoArray(out, o);
        s01.intoArray(out, o + L);
        s02.intoArray(out, o + 2 * L);
        s03.intoArray(out, o + 3 * L);
        s10.intoArray(out, o + oRs);
        s11.intoArray(out, o + oRs + L);
        s12.intoArray(out, o + oRs + 2 * L);
        s13.intoArray(out, o + oRs + 3 * L);
        s20.intoArray(out, o + 2 * oRs);
        s21.intoArray(out, o + 2 * oRs + L);
        s22.intoArray(out, o + 2 * oRs + 2 * L);
        s23.intoArray(out, o + 2 * oRs + 3 * L);
        s30.intoArray(out, o + 3 * oRs);
        s31.intoArray(out, o + 3 * oRs + L);
        s32.intoArray(out, o + 3 * oRs + 2 * L);
        s33.intoArray(out, o + 3 * oRs + 3 * L);
        s40.intoArray(out, o + 4 * oRs);
        s41.intoArray(out, o + 4 * oRs + L);
        s42.intoArray(out, o + 4 * oRs + 2 * L);
        s43.intoArray(out, o + 4 * oRs + 3 * L);
        s50.intoArray(out, o + 5 * oRs);
        s51.intoArray(out, o + 5 * oRs + L);
        s52.intoArray(out, o + 5 * oRs + 2 * L);
        s53.intoArray(out, o + 5 * oRs + 3 * L);
    }

    private static void k4x4(float[] out, int o, int oRs, float beta, float[] in, int io, int iRs,
                             float[] a, int a0, int aRs, int aKs, float[] bm, int b0, int bRs, int k0, int k1, float[] sc, int sco) {
        FloatVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33;
        if (beta == 0f) {
            FloatVector z = FloatVector.zero(F);
            s00 = s01 = s02 = s03 = z;
            s10 = s11 = s12 = s13 = z;
            s20 = s21 = s22 = s23 = z;
            s30 = s31 = s32 = s33 = z;
        } else {
            FloatVector bv = FloatVector.broadcast(F, beta);
            s00 = FloatVector.fromArray(F, in, io).mul(bv);
            s01 = FloatVector.fromArray(F, in, io + L).mul(bv);
            s02 = FloatVector.fromArray(F, in, io + 2 * L).mul(bv);
            s03 = FloatVector.fromArray(F, in, io + 3 * L).mul(bv);
            s10 = FloatVector.fromArray(F, in, io + iRs).mul(bv);
            s11 = FloatVector.fromArray(F, in, io + iRs + L).mul(bv);
            s12 = FloatVector.fromArray(F, in, io + iRs + 2 * L).mul(bv);
            s13 = FloatVector.fromArray(F, in, io + iRs + 3 * L).mul(bv);
            s20 = FloatVector.fromArray(F, in, io + 2 * iRs).mul(bv);
            s21 = FloatVector.fromArray(F, in, io + 2 * iRs + L).mul(bv);
            s22 = FloatVector.fromArray(F, in, io + 2 * iRs + 2 * L).mul(bv);
            s23 = FloatVector.fromArray(F, in, io + 2 * iRs + 3 * L).mul(bv);
            s30 = FloatVector.fromArray(F, in, io + 3 * iRs).mul(bv);
            s31 = FloatVector.fromArray(F, in, io + 3 * iRs + L).mul(bv);
            s32 = FloatVector.fromArray(F, in, io + 3 * iRs + 2 * L).mul(bv);
            s33 = FloatVector.fromArray(F, in, io + 3 * iRs + 3 * L).mul(bv);
        }
        int a1 = a0 + aRs, a2 = a1 + aRs, a3 = a2 + aRs;
        for (int k = k0; k < k1; k++) {
            int bo = b0 + k * bRs, ak = k * aKs;
            FloatVector b0v = FloatVector.fromArray(F, bm, bo);
            FloatVector b1v = FloatVector.fromArray(F, bm, bo + L);
            FloatVector b2v = FloatVector.fromArray(F, bm, bo + 2 * L);
            FloatVector b3v = FloatVector.fromArray(F, bm, bo + 3 * L);
            FloatVector v = FloatVector.broadcast(F, a[a0 + ak]);
            s00 = v.fma(b0v, s00);
            s01 = v.fma(b1v, s01);
            s02 = v.fma(b2v, s02);
            s03 = v.fma(b3v, s03);
            v = FloatVector.broadcast(F, a[a1 + ak]);
            s10 = v.fma(b0v, s10);
            s11 = v.fma(b1v, s11);
            s12 = v.fma(b2v, s12);
            s13 = v.fma(b3v, s13);
            v = FloatVector.broadcast(F, a[a2 + ak]);
            s20 = v.fma(b0v, s20);
            s21 = v.fma(b1v, s21);
            s22 = v.fma(b2v, s22);
            s23 = v.fma(b3v, s23);
            v = FloatVector.broadcast(F, a[a3 + ak]);
            s30 = v.fma(b0v, s30);
            s31 = v.fma(b1v, s31);
            s32 = v.fma(b2v, s32);
            s33 = v.fma(b3v, s33);
        }
        if (sc != null) {
            FloatVector f0 = FloatVector.broadcast(F, sc[sco + 0]);
            s00 = s00.mul(f0);
            s01 = s01.mul(f0);
            s02 = s02.mul(f0);
            s03 = s03.mul(f0);
            FloatVector f1 = FloatVector.broadcast(F, sc[sco + 1]);
            s10 = s10.mul(f1);
            s11 = s11.mul(f1);
            s12 = s12.mul(f1);
            s13 = s13.mul(f1);
            FloatVector f2 = FloatVector.broadcast(F, sc[sco + 2]);
            s20 = s20.mul(f2);
            s21 = s21.mul(f2);
            s22 = s22.mul(f2);
            s23 = s23.mul(f2);
            FloatVector f3 = FloatVector.broadcast(F, sc[sco + 3]);
            s30 = s30.mul(f3);
            s31 = s31.mul(f3);
            s32 = s32.mul(f3);
            s33 = s33.mul(f3);
        }
        int o1 = o + oRs, o2 = o1 + oRs, o3 = o2 + oRs;
        s00.intoArray(out, o);
        s01.intoArray(out, o + L);
        s02.intoArray(out, o + 2 * L);
        s03.intoArray(out, o + 3 * L);
        s10.intoArray(out, o1);
        s11.intoArray(out, o1 + L);
        s12.intoArray(out, o1 + 2 * L);
        s13.intoArray(out, o1 + 3 * L);
        s20.intoArray(out, o2);
        s21.intoArray(out, o2 + L);
        s22.intoArray(out, o2 + 2 * L);
        s23.intoArray(out, o2 + 3 * L);
        s30.intoArray(out, o3);
        s31.intoArray(out, o3 + L);
        s32.intoArray(out, o3 + 2 * L);
        s33.intoArray(out, o3 + 3 * L);
    }

    private static void k4x1(float[] out, int o, int oRs, float beta, float[] in, int io, int iRs,
                             float[] a, int a0, int aRs, int aKs, float[] bm, int b0, int bRs, int k0, int k1, float[] sc, int sco) {
        FloatVector s0, s1, s2, s3;
        if (beta == 0f) {
            s0 = s1 = s2 = s3 = FloatVector.zero(F);
        } else {
            FloatVector bv = FloatVector.broadcast(F, beta);
            s0 = FloatVector.fromArray(F, in, io).mul(bv);
            s1 = FloatVector.fromArray(F, in, io + iRs).mul(bv);
            s2 = FloatVector.fromArray(F, in, io + 2 * iRs).mul(bv);
            s3 = FloatVector.fromArray(F, in, io + 3 * iRs).mul(bv);
        }
        int a1 = a0 + aRs, a2 = a1 + aRs, a3 = a2 + aRs;
        for (int k = k0; k < k1; k++) {
            FloatVector bv = FloatVector.fromArray(F, bm, b0 + k * bRs);
            int ak = k * aKs;
            s0 = FloatVector.broadcast(F, a[a0 + ak]).fma(bv, s0);
            s1 = FloatVector.broadcast(F, a[a1 + ak]).fma(bv, s1);
            s2 = FloatVector.broadcast(F, a[a2 + ak]).fma(bv, s2);
            s3 = FloatVector.broadcast(F, a[a3 + ak]).fma(bv, s3);
        }
        if (sc != null) {
            FloatVector f0 = FloatVector.broadcast(F, sc[sco + 0]);
            s0 = s0.mul(f0);
            FloatVector f1 = FloatVector.broadcast(F, sc[sco + 1]);
            s1 = s1.mul(f1);
            FloatVector f2 = FloatVector.broadcast(F, sc[sco + 2]);
            s2 = s2.mul(f2);
            FloatVector f3 = FloatVector.broadcast(F, sc[sco + 3]);
            s3 = s3.mul(f3);
        }
        s0.intoArray(out, o);
        s1.intoArray(out, o + oRs);
        s2.intoArray(out, o + 2 * oRs);
        s3.intoArray(out, o + 3 * oRs);
    }

    private static void k1x4(float[] out, int o, float beta, float[] in, int io,
                             float[] a, int a0, int aKs, float[] bm, int b0, int bRs, int k0, int k1, float[] sc, int sco) {
        FloatVector s0, s1, s2, s3;
        if (beta == 0f) {
            s0 = s1 = s2 = s3 = FloatVector.zero(F);
        } else {
            FloatVector bv = FloatVector.broadcast(F, beta);
            s0 = FloatVector.fromArray(F, in, io).mul(bv);
            s1 = FloatVector.fromArray(F, in, io + L).mul(bv);
            s2 = FloatVector.fromArray(F, in, io + 2 * L).mul(bv);
            s3 = FloatVector.fromArray(F, in, io + 3 * L).mul(bv);
        }
        for (int k = k0; k < k1; k++) {
            int bo = b0 + k * bRs;
            FloatVector v = FloatVector.broadcast(F, a[a0 + k * aKs]);
            s0 = v.fma(FloatVector.fromArray(F, bm, bo), s0);
            s1 = v.fma(FloatVector.fromArray(F, bm, bo + L), s1);
            s2 = v.fma(FloatVector.fromArray(F, bm, bo + 2 * L), s2);
            s3 = v.fma(FloatVector.fromArray(F, bm, bo + 3 * L), s3);
        }
        if (sc != null) {
            FloatVector f0 = FloatVector.broadcast(F, sc[sco]);
            s0 = s0.mul(f0);
            s1 = s1.mul(f0);
            s2 = s2.mul(f0);
            s3 = s3.mul(f0);
        }
        s0.intoArray(out, o);
        s1.intoArray(out, o + L);
        s2.intoArray(out, o + 2 * L);
        s3.intoArray(out, o + 3 * L);
    }

    private static void k1x1(float[] out, int o, float beta, float[] in, int io,
                             float[] a, int a0, int aKs, float[] bm, int b0, int bRs, int k0, int k1, float[] sc, int sco) {
        FloatVector s0 = beta == 0f ? FloatVector.zero(F) : FloatVector.fromArray(F, in, io).mul(beta);
        FloatVector s1 = FloatVector.zero(F); // two chains hide the FMA latency
        int k = k0;
        for (; k < k1 - 1; k += 2) {
            s0 = FloatVector.broadcast(F, a[a0 + k * aKs]).fma(FloatVector.fromArray(F, bm, b0 + k * bRs), s0);
            s1 = FloatVector.broadcast(F, a[a0 + (k + 1) * aKs]).fma(FloatVector.fromArray(F, bm, b0 + (k + 1) * bRs), s1);
        }
        if (k < k1) s0 = FloatVector.broadcast(F, a[a0 + k * aKs]).fma(FloatVector.fromArray(F, bm, b0 + k * bRs), s0);
        s0 = s0.add(s1);
        if (sc != null) s0 = s0.mul(sc[sco]);
        s0.intoArray(out, o);
    }
}
