package dev.ssm4j.kernels.gemm;

import dev.ssm4j.kernels.KernelConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled micro-kernel of the packed GEMM and the update of C from its result.
 *
 * <h2>Micro-tile: MR × NR = 5 rows × 4 vectors (32 registers) or 3 × 3 (16 registers)</h2>
 * One call multiplies an MR × kc sliver of A (five row offsets into an array: A in place, or a
 * packed block) by a packed kc × NR sliver of B and leaves the MR × NR product in a small
 * row-major tile. Per step p it loads the NR/L = 4 vectors of row p of B's sliver, broadcasts
 * A(r, p) for each of the 5 rows, and does 5 × 4 = 20 independent FMAs into 20 accumulators:
 * 9 loads per 20 FMAs (the core issues 2 of each per cycle), 20 chains to cover the 4-cycle FMA
 * latency at 2 per cycle. The broadcasts fold into {@code vbroadcastss zmm, [mem]} (no shuffle port).
 *
 * <p>Registers: 20 accumulators + 4 B vectors + up to 5 broadcasts = 29 ≤ 32 (AVX-512; C2 also has
 * 32 ymm registers with AVX-512VL). The bound matters: C2's scheduler may hoist all broadcasts of
 * a step to its top, and an 8 × 3 tile (24 + 3 + 8 = 35) then spilled two accumulators to the stack
 * and ran at ~140 instead of ~200 GFLOP/s (seen in the disassembly). An AVX2-only CPU has 16 vector
 * registers, where this tile spills too (≈ 30–50 GFLOP/s under {@code -XX:UseAVX=2} here); there
 * the 3 × 3 tile ({@link #kernel3x3}: 9 + 3 + 3 = 15 registers) is used instead — measured with
 * {@code -XX:UseAVX=2} on this machine: 3×3 ≈ 97, 2×4 ≈ 91, 4×2 ≈ 80, while 4×3, 6×2, 5×2 and 3×4
 * (17–20 registers) spill and run at 40–50 GFLOP/s (256-bit FMA peak ≈ 111).
 *
 * <p>Species: {@link KernelConfig#F} (512 bits on this Zen 5, which runs 512-bit FMAs at full
 * width: ≈ 215 GFLOP/s for this kernel vs ≈ 107 with 256-bit vectors), unless
 * {@code -Dssm4j.gemm.bits=128|256|512} overrides it for GEMM alone.
 *
 * <h2>Why the product goes to a tile and not straight into C</h2>
 * C2 stops inlining once a method's node count passes its budget; with the α/β update of C for each
 * of the accumulators inline, it gave up on the update helpers and boxed every accumulator into a
 * heap object (≈ 6 GFLOP/s instead of 200). Storing them raw into a tile keeps the kernel small
 * enough to compile as one unit. The extra store and load of 20 vectors per call is nothing next to
 * the 20·kc FMAs of the call. It also gives edge tiles (m or n not a multiple of MR or NR) exactly
 * the same arithmetic as full tiles.
 */
final class GemmKernel {
    private GemmKernel() {}

    /** The GEMM species: {@code -Dssm4j.gemm.bits} if set, else {@link KernelConfig#F}. */
    static final VectorSpecies<Float> S = pickSpecies();
    static final int L = S.length();
    /**
     * Micro-tile shape: "5x4" (5 rows × 4 vectors, for 32 vector registers: AVX-512, AArch64) or
     * "3x3" (for the 16 registers of an AVX2-only x86 CPU). {@code -Dssm4j.gemm.tile} overrides.
     */
    static final String TILE = pickTile();
    /** Rows of the micro-tile (values of A broadcast per step); the kernel takes this many row offsets. */
    static final int MR = TILE.equals("3x3") ? 3 : 5;
    /** Vectors across the micro-tile. */
    static final int NV = TILE.equals("3x3") ? 3 : 4;
    /** Columns of the micro-tile. */
    static final int NR = NV * L;

    /**
     * 16 vector registers on x86 without AVX-512 (the preferred species is then at most 256 bits),
     * 32 otherwise. A tile needs MR·NV accumulators + NV vectors of B + up to MR broadcasts.
     */
    private static String pickTile() {
        String t = System.getProperty("ssm4j.gemm.tile");
        if (t != null && !t.isBlank()) {
            t = t.trim();
            if (!t.equals("5x4") && !t.equals("3x3")) {
                throw new IllegalArgumentException("-Dssm4j.gemm.tile=" + t + ": expected 5x4 or 3x3");
            }
            return t;
        }
        String arch = System.getProperty("os.arch", "");
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
        return x86 && FloatVector.SPECIES_PREFERRED.vectorBitSize() < 512 ? "3x3" : "5x4";
    }

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
     * The 5 × 4-vector tile (requires MR = 5, NV = 4).
     * tile (MR × NR, row-major) = A · Bp over kc steps: row r of A's sliver is {@code a[a_r + p]}
     * (p &lt; kc; rows in place in the caller's matrix, or in a packed block), and Bp holds B's
     * sliver as kc rows of NR values ({@code bp[bOff + p·NR + j]} = B(p, j)).
     */
    static void kernel5x4(int kc, float[] a, int a0, int a1, int a2, int a3, int a4, float[] bp, int bOff, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z,
                c10 = z, c11 = z, c12 = z, c13 = z,
                c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z,
                c40 = z, c41 = z, c42 = z, c43 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, bp, bi + 3 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, a[a4 + p]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42); c43 = x.fma(b3, c43);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c02.intoArray(tile, 2 * L); c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L); c12.intoArray(tile, NR + 2 * L); c13.intoArray(tile, NR + 3 * L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L); c22.intoArray(tile, 2 * NR + 2 * L); c23.intoArray(tile, 2 * NR + 3 * L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L); c32.intoArray(tile, 3 * NR + 2 * L); c33.intoArray(tile, 3 * NR + 3 * L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L); c42.intoArray(tile, 4 * NR + 2 * L); c43.intoArray(tile, 4 * NR + 3 * L);
    }

    /** The 3 × 3-vector tile for 16 vector registers (9 + 3 + 3 = 15); same contract as {@link #kernel5x4}. */
    static void kernel3x3(int kc, float[] a, int a0, int a1, int a2, float[] bp, int bOff, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c02.intoArray(tile, 2 * L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L); c12.intoArray(tile, NR + 2 * L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L); c22.intoArray(tile, 2 * NR + 2 * L);
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
