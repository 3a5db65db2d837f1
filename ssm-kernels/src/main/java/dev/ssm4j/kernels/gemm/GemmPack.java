package dev.ssm4j.kernels.gemm;

import static dev.ssm4j.kernels.gemm.GemmKernel.L;
import static dev.ssm4j.kernels.gemm.GemmKernel.MR;
import static dev.ssm4j.kernels.gemm.GemmKernel.NR;
import static dev.ssm4j.kernels.gemm.GemmKernel.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Packing: copies a block of op(A) or op(B) into the order the micro-kernel reads it, so that the
 * kernel's loads are unit-stride whatever the transposes and leading dimensions, and edge slivers
 * are zero-padded to full MR / NR (the kernel never needs a remainder case).
 *
 * <pre>
 * packed A block (mc × kc), sliver s = rows [s·MR, s·MR+MR):  ap[s·MR·kc + p·MR + i] = op(A)(i0 + s·MR + i, p0 + p)
 * packed B block (kc × nc), sliver s = cols [s·NR, s·NR+NR):  bp[s·NR·kc + p·NR + j] = op(B)(p0 + p, j0 + s·NR + j)
 * </pre>
 * Rows of A beyond m and columns of B beyond n are written as 0.
 */
final class GemmPack {
    private GemmPack() {}

    /** Packs op(A)[i0 : i0+mc, p0 : p0+kc] into {@code ap} (mc rounded up to MR, zero rows). */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] ap) {
        for (int s = 0; s * MR < mc; s++) {
            int mr = Math.min(MR, mc - s * MR), base = s * MR * kc, row0 = i0 + s * MR;
            if (!transA) {
                // Row i of op(A) is contiguous along p: read rows, write every MR-th slot.
                for (int i = 0; i < mr; i++) {
                    int src = aOff + (row0 + i) * lda + p0;
                    for (int p = 0; p < kc; p++) ap[base + p * MR + i] = a[src + p];
                }
            } else {
                // op(A)(i, p) = a[p·lda + i]: for each p the mr values are contiguous.
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (p0 + p) * lda + row0, dst = base + p * MR;
                    for (int i = 0; i < mr; i++) ap[dst + i] = a[src + i];
                }
            }
            if (mr < MR) {
                for (int p = 0; p < kc; p++) {
                    for (int i = mr; i < MR; i++) ap[base + p * MR + i] = 0f;
                }
            }
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
