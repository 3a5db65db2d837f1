package dev.ssm4j.kernels.gemm;

import dev.ssm4j.kernels.KernelConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled micro-kernel of the packed GEMM and the update of C from its result.
 *
 * <h2>Micro-tile: MR × NR = 8 × 3 vectors</h2>
 * One call multiplies a packed MR × kc sliver of A by a packed kc × NR sliver of B and leaves the
 * MR × NR product in a small row-major tile. Per step p of the loop it loads NR/L = 3 vectors of
 * B (row p of the sliver), broadcasts each of the MR = 8 values of A's column p, and does
 * 8 × 3 = 24 independent FMAs into 24 accumulators. Registers: 24 accumulators + 3 B vectors +
 * 1 broadcast = 28 of the 32 vector registers of AVX-512 (zmm0–31; C2 also uses 32 ymm registers
 * when AVX-512VL is present). 24 independent chains hide the 4-cycle FMA latency at 2 FMAs per
 * cycle, and the 11 loads per 24 FMAs stay under the 2 loads per cycle the core can issue; the
 * broadcasts fold into {@code vbroadcastss zmm, [mem]}, which needs no shuffle port.
 *
 * <p>Measured alone on this machine (Zen 5, 16-lane species, panels in L1/L2): 8×3 ≈ 215 GFLOP/s,
 * within a few percent of the FMA peak (≈ 220 GFLOP/s); 6×4, 8×2 and 14×2 are as fast, 4×4 and
 * 5×3 a little slower. With 256-bit vectors (8 lanes) the same kernel reaches only ≈ 107 GFLOP/s:
 * Zen 5 executes 512-bit FMAs at full width, so the species is {@link KernelConfig#F} (512 bits
 * here) unless {@code -Dssm4j.gemm.bits=128|256|512} overrides it for GEMM alone.
 *
 * <h2>Why the product goes to a tile and not straight into C</h2>
 * C2 stops inlining once a method's node count passes its budget; with 24 live vectors plus the
 * α/β update of C for every one of them, it gave up on the update helpers and boxed all 24
 * accumulators into heap objects (≈ 6 GFLOP/s instead of 200). Storing them raw into a tile keeps
 * the kernel small enough to compile as one unit. The extra store and load of 24 vectors per call is
 * nothing next to the 24·kc FMAs of the call. It also gives edge tiles (m or n not a multiple of
 * MR or NR) exactly the same arithmetic as full tiles.
 */
final class GemmKernel {
    private GemmKernel() {}

    /** The GEMM species: {@code -Dssm4j.gemm.bits} if set, else {@link KernelConfig#F}. */
    static final VectorSpecies<Float> S = pickSpecies();
    static final int L = S.length();
    /** Rows of the micro-tile (values of A broadcast per step). */
    static final int MR = 5;
    /** Vectors across the micro-tile. */
    static final int NV = 4;
    /** Columns of the micro-tile. */
    static final int NR = NV * L;

    private static VectorSpecies<Float> pickSpecies() {
        String bits = System.getProperty("ssm4j.gemm.bits");
        if (bits == null || bits.isBlank()) return KernelConfig.F;
        try {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits.trim())));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("-Dssm4j.gemm.bits=" + bits + " is not a vector size (128, 256 or 512)", e);
        }
    }

    /**
     * tile (MR × NR, row-major) = Ap · Bp over kc steps, where Ap holds A's sliver as kc groups of MR
     * values ({@code ap[aOff + p·MR + i]} = A(i, p)) and Bp holds B's sliver as kc rows of NR values
     * ({@code bp[bOff + p·NR + j]} = B(p, j)).
     */
    static void kernel(int kc, float[] ap, int aOff, float[] bp, int bOff, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z,
                c10 = z, c11 = z, c12 = z, c13 = z,
                c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z,
                c40 = z, c41 = z, c42 = z, c43 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, bp, bi + 3 * L);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai]);
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01); c02 = a.fma(b2, c02); c03 = a.fma(b3, c03);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11); c12 = a.fma(b2, c12); c13 = a.fma(b3, c13);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21); c22 = a.fma(b2, c22); c23 = a.fma(b3, c23);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31); c32 = a.fma(b2, c32); c33 = a.fma(b3, c33);
            a = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a.fma(b0, c40); c41 = a.fma(b1, c41); c42 = a.fma(b2, c42); c43 = a.fma(b3, c43);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c02.intoArray(tile, 2 * L); c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L); c12.intoArray(tile, NR + 2 * L); c13.intoArray(tile, NR + 3 * L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L); c22.intoArray(tile, 2 * NR + 2 * L); c23.intoArray(tile, 2 * NR + 3 * L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L); c32.intoArray(tile, 3 * NR + 2 * L); c33.intoArray(tile, 3 * NR + 3 * L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L); c42.intoArray(tile, 4 * NR + 2 * L); c43.intoArray(tile, 4 * NR + 3 * L);
    }

    /**
     * C[0:mr, 0:nr] (at cOff, leading dimension ldc) = α·T + β·C with T the tile (row stride
     * {@code ldt}); β = 0 writes without reading C. Same arithmetic in the vector body and the scalar
     * tail ({@code fma(α, t, β·c)}, or {@code α·t} for β = 0), so the result of an element does not
     * depend on where its tile edge falls.
     */
    static void update(float[] t, int ldt, int mr, int nr, float alpha, float beta, float[] c, int cOff, int ldc) {
        int nv = nr - nr % L;
        FloatVector av = FloatVector.broadcast(S, alpha);
        if (beta == 0f) {
            for (int i = 0; i < mr; i++) {
                int ti = i * ldt, ci = cOff + i * ldc;
                int j = 0;
                for (; j < nv; j += L) av.mul(FloatVector.fromArray(S, t, ti + j)).intoArray(c, ci + j);
                for (; j < nr; j++) c[ci + j] = alpha * t[ti + j];
            }
        } else if (beta == 1f) {
            for (int i = 0; i < mr; i++) {
                int ti = i * ldt, ci = cOff + i * ldc;
                int j = 0;
                for (; j < nv; j += L) {
                    av.fma(FloatVector.fromArray(S, t, ti + j), FloatVector.fromArray(S, c, ci + j)).intoArray(c, ci + j);
                }
                for (; j < nr; j++) c[ci + j] = Math.fma(alpha, t[ti + j], c[ci + j]);
            }
        } else {
            for (int i = 0; i < mr; i++) {
                int ti = i * ldt, ci = cOff + i * ldc;
                int j = 0;
                for (; j < nv; j += L) {
                    FloatVector cv = FloatVector.fromArray(S, c, ci + j).mul(beta);
                    av.fma(FloatVector.fromArray(S, t, ti + j), cv).intoArray(c, ci + j);
                }
                for (; j < nr; j++) c[ci + j] = Math.fma(alpha, t[ti + j], beta * c[ci + j]);
            }
        }
    }
}
