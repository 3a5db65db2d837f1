package dev.ssm4j.kernels.gemm;

import static dev.ssm4j.kernels.gemm.GemmKernel.L;
import static dev.ssm4j.kernels.gemm.GemmKernel.MR;
import static dev.ssm4j.kernels.gemm.GemmKernel.NR;
import static dev.ssm4j.kernels.gemm.GemmKernel.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Packing: copies a block of op(B) (and, for transA, of op(A)) into the order the micro-kernel
 * reads it, so that the kernel's loads are unit-stride whatever the transposes and leading
 * dimensions.
 *
 * <pre>
 * packed B block (kc × nc), sliver s = cols [s·NR, s·NR+NR):  bp[s·NR·kc + p·NR + j] = op(B)(p0 + p, j0 + s·NR + j)
 * packed A block (transA only, mc × kc):                       ap[i·kc + p]            = op(A)(i0 + i, p0 + p)
 * </pre>
 * Columns of B beyond n are written as 0, so the kernel never needs a remainder case in n. A is
 * read by rows (MR row pointers), in place when transA = false: its rows are already contiguous
 * along k, and a block of them stays in L2 while B's slivers pass.
 */
final class GemmPack {
    private GemmPack() {}

    /**
     * transA only: copies op(A)[i0 : i0+mc, p0 : p0+kc] (op(A)(i, p) = a[aOff + p·lda + i]) into
     * {@code ap} as mc rows of kc ({@code ap[i·kc + p]}), so the kernel reads it like an untransposed A.
     * Each step p reads mc contiguous values of A and writes them kc apart.
     */
    static void packATransposed(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] ap) {
        int p = 0;
        // Four steps of p at a time: four read streams, and each row of ap gets 4 adjacent values per visit.
        for (; p <= kc - 4; p += 4) {
            int s0 = aOff + (p0 + p) * lda + i0, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
            for (int i = 0; i < mc; i++) {
                int d = i * kc + p;
                ap[d] = a[s0 + i];
                ap[d + 1] = a[s1 + i];
                ap[d + 2] = a[s2 + i];
                ap[d + 3] = a[s3 + i];
            }
        }
        for (; p < kc; p++) {
            int src = aOff + (p0 + p) * lda + i0;
            for (int i = 0; i < mc; i++) ap[i * kc + p] = a[src + i];
        }
    }

    /** Where op(B) comes from: a float[] (either transpose) or a {@link WeightMatrix} (as Wᵀ). */
    abstract static sealed class BSource permits ArrayB, WeightB {
        /**
         * Packs the sliver op(B)[p0 : p0+kc, j0 : j0+nr] (nr ≤ NR) into {@code bp[dst …]} as kc rows of
         * NR values, zero-padding columns nr..NR.
         */
        abstract void packSliver(int p0, int kc, int j0, int nr, float[] bp, int dst);
    }

    /** op(B) from an array: B is k × n (transB=false) or n × k (transB=true), leading dimension ldb. */
    static final class ArrayB extends BSource {
        final float[] b;
        final int bOff, ldb;
        final boolean transB;

        ArrayB(float[] b, int bOff, int ldb, boolean transB) {
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.transB = transB;
        }

        @Override
        void packSliver(int p0, int kc, int j0, int nr, float[] bp, int dst) {
            if (!transB) {
                // Row p of op(B) is contiguous: copy nr values per row (whole vectors when the sliver is full).
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (p0 + p) * ldb + j0, d = dst + p * NR;
                    if (nr == NR) {
                        for (int j = 0; j < NR; j += L) FloatVector.fromArray(S, b, src + j).intoArray(bp, d + j);
                    } else {
                        for (int j = 0; j < nr; j++) bp[d + j] = b[src + j];
                        for (int j = nr; j < NR; j++) bp[d + j] = 0f;
                    }
                }
            } else {
                // op(B)(p, j) = b[j·ldb + p]: read each of the nr rows of B along p, write every NR-th slot.
                for (int j = 0; j < nr; j++) {
                    int src = bOff + (j0 + j) * ldb + p0;
                    for (int p = 0; p < kc; p++) bp[dst + p * NR + j] = b[src + p];
                }
                zeroColumns(kc, nr, bp, dst);
            }
        }
    }

    /** op(B) = Wᵀ for a linear layer's weight W (n × k): op(B)(p, j) = W[j][p], bf16 widened here. */
    static final class WeightB extends BSource {
        final WeightMatrix w;

        WeightB(WeightMatrix w) {
            this.w = w;
        }

        @Override
        void packSliver(int p0, int kc, int j0, int nr, float[] bp, int dst) {
            if (w.array != null) {
                float[] a = w.array;
                for (int j = 0; j < nr; j++) {
                    int src = (int) (w.arrayOffset + (j0 + j) * w.rowStride + p0);
                    for (int p = 0; p < kc; p++) bp[dst + p * NR + j] = a[src + p];
                }
            } else if (w.format == WeightMatrix.Format.F32) {
                MemorySegment seg = w.segment;
                for (int j = 0; j < nr; j++) {
                    long src = w.byteOffset + ((j0 + j) * w.rowStride + p0) * 4;
                    for (int p = 0; p < kc; p++) bp[dst + p * NR + j] = seg.get(WeightMatrix.F32_LE, src + 4L * p);
                }
            } else {
                MemorySegment seg = w.segment;
                for (int j = 0; j < nr; j++) {
                    long src = w.byteOffset + ((j0 + j) * w.rowStride + p0) * 2;
                    for (int p = 0; p < kc; p++) {
                        bp[dst + p * NR + j] = Float.intBitsToFloat((seg.get(WeightMatrix.BF16_LE, src + 2L * p) & 0xffff) << 16);
                    }
                }
            }
            zeroColumns(kc, nr, bp, dst);
        }
    }

    private static void zeroColumns(int kc, int nr, float[] bp, int dst) {
        if (nr == NR) return;
        for (int p = 0; p < kc; p++) {
            for (int j = nr; j < NR; j++) bp[dst + p * NR + j] = 0f;
        }
    }
}
