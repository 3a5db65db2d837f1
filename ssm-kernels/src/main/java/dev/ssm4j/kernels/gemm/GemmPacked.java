package dev.ssm4j.kernels.gemm;

import static dev.ssm4j.kernels.gemm.GemmKernel.MR;
import static dev.ssm4j.kernels.gemm.GemmKernel.NR;

import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;

/**
 * The cache-blocked GEMM (the Goto/BLIS loop nest) around {@link GemmKernel#kernel5x4} (or
 * {@link GemmKernel#kernel3x3} with 16 vector registers):
 *
 * <pre>
 * for jc in [0, n) step NC                      B block kc × NC: packed once, shared by all threads (L3)
 *   for pc in [0, k) step kc                    k cut into equal slabs of at most KC
 *     pack op(B)[pc:pc+kc, jc:jc+nc] → Bp       (in parallel over NR-slivers)
 *     parallel over tasks = (ic block, range of B slivers):
 *       A block op(A)[ic:ic+MC, pc:pc+kc]       in place if transA = false, else packed row-major (L2)
 *       for each B sliver jr (kc × NR, from L2)
 *         for each MR-row sliver ir of the A block
 *           tile = A[ir] · Bp[jr];  C[ir, jr] = α·tile + β'·C[ir, jr]   (β' = β on the first slab, then 1)
 * </pre>
 *
 * Blocking (16-lane vectors: MR = 5, NR = 64): KC = 768 so C, which for the model's shapes comes
 * from memory, is read and written once per 768 steps of k (deeper slabs measured faster up to
 * 512–768); a B sliver is then 192 KB and lives in L2. MC = 100 makes the A block 300 KB, which
 * fits the 1 MB L2 next to the B sliver in use. NC = 3072 makes the shared B block up to 9.4 MB
 * (L3) and covers the model's widths in one block. Measurements in docs/gemm.md.
 *
 * <p>Threads: a task is a contiguous run of (ic block, sliver range) pairs; with transA it packs its
 * A block into its thread's scratch when its ic block changes. Every element of C is computed by
 * exactly one task with the same operations in the same order whatever the thread count, so results
 * are bitwise identical for any pool.
 */
final class GemmPacked {
    private GemmPacked() {}

    /** Depth of a packed block (steps of k per pass over C); {@code -Dssm4j.gemm.kc} overrides (for tuning). */
    static final int KC = Math.max(1, Integer.getInteger("ssm4j.gemm.kc", 768));
    /** Rows of op(A) per packed block, a multiple of MR; {@code -Dssm4j.gemm.mc} overrides. */
    static final int MC = roundUp(Math.max(1, Integer.getInteger("ssm4j.gemm.mc", 100)), MR);
    /** Columns of op(B) per packed block, a multiple of NR; {@code -Dssm4j.gemm.nc} overrides. */
    static final int NC = roundUp(Math.max(1, Integer.getInteger("ssm4j.gemm.nc", 3072)), NR);

    /**
     * C = α·op(A)·op(B) + β·C for m, n, k ≥ 1 and α ≠ 0 (the caller handled the trivial cases);
     * arguments already checked.
     */
    static void gemm(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
            GemmPack.BSource b, float beta, float[] c, int cOff, int ldc, ForkJoinPool pool) {
        int threads = Parallel.threads(pool);
        GemmScratch owner = GemmScratch.local();
        // k is cut into equal slabs of at most KC (k = 1000 → 2 × 500, not 768 + 232).
        int kSlabs = (k + KC - 1) / KC, kcMax = (k + kSlabs - 1) / kSlabs;
        float[] bp = owner.takeShared(kcMax * roundUp(Math.min(NC, n), NR));
        try {
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc);
                int slivers = (nc + NR - 1) / NR;
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    float betaNow = pc == 0 ? beta : 1f;
                    final int jcF = jc, pcF = pc;
                    Parallel.forRange(pool, slivers, 4, (s0, s1) -> {
                        for (int s = s0; s < s1; s++) {
                            b.packSliver(pcF, kc, jcF + s * NR, Math.min(NR, nc - s * NR), bp, s * NR * kc);
                        }
                    });
                    int icBlocks = (m + MC - 1) / MC;
                    // Enough tasks for every thread (≈ 4 each); split B's slivers when A has too few blocks.
                    int sliverRuns = threads == 1 ? 1 : Math.min(slivers, Math.max(1, (4 * threads + icBlocks - 1) / icBlocks));
                    Parallel.forRange(pool, icBlocks * sliverRuns, 1, (t0, t1) -> {
                        GemmScratch sc = GemmScratch.local();
                        float[] ap = transA ? sc.packA(MC * kc) : null;
                        int packed = -1;
                        for (int t = t0; t < t1; t++) {
                            int ib = t / sliverRuns, run = t % sliverRuns;
                            int ic = ib * MC, mc = Math.min(MC, m - ic);
                            int sFrom = (int) ((long) slivers * run / sliverRuns);
                            int sTo = (int) ((long) slivers * (run + 1) / sliverRuns);
                            if (transA) {
                                if (ib != packed) {
                                    GemmPack.packATransposed(a, aOff, lda, ic, mc, pcF, kc, ap);
                                    packed = ib;
                                }
                                macroKernel(kc, mc, ap, 0, kc, bp, sFrom, sTo, nc, alpha, betaNow, c,
                                        cOff + ic * ldc + jcF, ldc, sc.tile);
                            } else {
                                macroKernel(kc, mc, a, aOff + ic * lda + pcF, lda, bp, sFrom, sTo, nc, alpha, betaNow, c,
                                        cOff + ic * ldc + jcF, ldc, sc.tile);
                            }
                        }
                    });
                }
            }
        } finally {
            owner.releaseShared(bp);
        }
    }

    /**
     * All micro-tiles of one block of A (mc rows; row i at {@code a[aBase + i·ldA …]}) against B
     * slivers [sFrom, sTo). cOff points at C(ic, jc). An edge sliver of A (mr &lt; MR rows) repeats
     * its last row in the missing ones: they are computed and not stored.
     */
    private static void macroKernel(int kc, int mc, float[] a, int aBase, int ldA, float[] bp, int sFrom, int sTo, int nc,
            float alpha, float beta, float[] c, int cOff, int ldc, float[] tile) {
        for (int s = sFrom; s < sTo; s++) {
            int jr = s * NR, nr = Math.min(NR, nc - jr), bOff = s * NR * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir), r0 = aBase + ir * ldA;
                if (MR == 5) {
                    GemmKernel.kernel5x4(kc, a, r0, r0 + Math.min(1, mr - 1) * ldA, r0 + Math.min(2, mr - 1) * ldA,
                            r0 + Math.min(3, mr - 1) * ldA, r0 + Math.min(4, mr - 1) * ldA, bp, bOff, tile);
                } else {
                    GemmKernel.kernel3x3(kc, a, r0, r0 + Math.min(1, mr - 1) * ldA, r0 + Math.min(2, mr - 1) * ldA,
                            bp, bOff, tile);
                }
                GemmKernel.update(tile, NR, mr, nr, alpha, beta, c, cOff + ir * ldc + jr, ldc);
            }
        }
    }

    static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }
}
