package dev.ssm4j.kernels.ssd;

import static dev.ssm4j.kernels.ssd.SsdChunkOps.F;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Matrix transposes for the chunked kernels: dst[k][j] = src[off + j·stride + k].
 *
 * <p>Full L × L tiles (L = lanes, 16 or 8) are transposed in registers: L row loads, then log₂ L
 * stages of two-vector permutes ({@code selectFrom}, one vpermt2ps each on AVX-512) that swap ever
 * smaller off-diagonal sub-blocks (Eklundh's butterfly), then L stores — measured about six times
 * faster than the scalar double loop and four times faster than gathers for a 64 × 64 block.
 * Ragged edges and other vector widths use the scalar loop.
 */
final class SsdTranspose {
    private SsdTranspose() {}

    /** Index vectors of the butterfly: stage s (block size L/2, L/4, …, 1) has a "low" and a "high" one. */
    private static final float[] IDX = indexes();

    private static float[] indexes() {
        int stages = Integer.numberOfTrailingZeros(L);
        float[] idx = new float[2 * Math.max(stages, 1) * L];
        int st = 0;
        for (int s = L / 2; s >= 1; s /= 2, st++) {
            for (int j = 0; j < L; j++) {
                idx[2 * st * L + j] = (j & s) == 0 ? j : L + j - s;
                idx[(2 * st + 1) * L + j] = (j & s) == 0 ? j + s : L + j;
            }
        }
        return idx;
    }

    /**
     * dst[k·ld + j] = src[off + j·stride + k] for k &lt; width, j &lt; len; each dst row is zeroed from
     * len to len rounded up to the vector length.
     */
    static void transpose(float[] src, int off, int stride, int width, int len, float[] dst, int ld) {
        transpose(src, off, stride, width, len, dst, 0, ld);
    }

    /** As above with dst rows at dOff + k·ld. */
    static void transpose(float[] src, int off, int stride, int width, int len, float[] dst, int dOff, int ld) {
        transpose(src, off, stride, width, len, dst, dOff, ld, true);
    }

    /** As above; with {@code pad} false nothing past column len is written (dense destinations). */
    static void transpose(float[] src, int off, int stride, int width, int len, float[] dst, int dOff, int ld,
                          boolean pad) {
        int lp = SsdChunkOps.roundUp(len);
        int jt = (L == 16 || L == 8) ? len / L * L : 0, kt = (L == 16 || L == 8) ? width / L * L : 0;
        for (int j = 0; j < jt; j += L) {
            for (int k = 0; k < kt; k += L) {
                if (L == 16) block16(src, off + j * stride + k, stride, dst, dOff + k * ld + j, ld);
                else block8(src, off + j * stride + k, stride, dst, dOff + k * ld + j, ld);
            }
        }
        // ragged edges: columns k ≥ kt for the tiled rows, then rows j ≥ jt for every column
        for (int j = 0; j < jt; j++) {
            int s = off + j * stride;
            for (int k = kt; k < width; k++) dst[dOff + k * ld + j] = src[s + k];
        }
        for (int j = jt; j < len; j++) {
            int s = off + j * stride;
            for (int k = 0; k < width; k++) dst[dOff + k * ld + j] = src[s + k];
        }
        if (pad && lp > len) {
            for (int k = 0; k < width; k++) Arrays.fill(dst, dOff + k * ld + len, dOff + k * ld + lp, 0f);
        }
    }

    /** One 16 × 16 tile in registers (only called when LANES == 16). */
    private static void block16(float[] src, int so, int ss, float[] dst, int d, int ld) {
        FloatVector r0 = FloatVector.fromArray(F, src, so);
        FloatVector r1 = FloatVector.fromArray(F, src, so + ss);
        FloatVector r2 = FloatVector.fromArray(F, src, so + 2 * ss);
        FloatVector r3 = FloatVector.fromArray(F, src, so + 3 * ss);
        FloatVector r4 = FloatVector.fromArray(F, src, so + 4 * ss);
        FloatVector r5 = FloatVector.fromArray(F, src, so + 5 * ss);
        FloatVector r6 = FloatVector.fromArray(F, src, so + 6 * ss);
        FloatVector r7 = FloatVector.fromArray(F, src, so + 7 * ss);
        FloatVector r8 = FloatVector.fromArray(F, src, so + 8 * ss);
        FloatVector r9 = FloatVector.fromArray(F, src, so + 9 * ss);
        FloatVector r10 = FloatVector.fromArray(F, src, so + 10 * ss);
        FloatVector r11 = FloatVector.fromArray(F, src, so + 11 * ss);
        FloatVector r12 = FloatVector.fromArray(F, src, so + 12 * ss);
        FloatVector r13 = FloatVector.fromArray(F, src, so + 13 * ss);
        FloatVector r14 = FloatVector.fromArray(F, src, so + 14 * ss);
        FloatVector r15 = FloatVector.fromArray(F, src, so + 15 * ss);
        FloatVector lo, hi, t0, t1;
        lo = FloatVector.fromArray(F, IDX, 0);
        hi = FloatVector.fromArray(F, IDX, 1 * L);
        t0 = lo.selectFrom(r0, r8);
        t1 = hi.selectFrom(r0, r8);
        r0 = t0;
        r8 = t1;
        t0 = lo.selectFrom(r1, r9);
        t1 = hi.selectFrom(r1, r9);
        r1 = t0;
        r9 = t1;
        t0 = lo.selectFrom(r2, r10);
        t1 = hi.selectFrom(r2, r10);
        r2 = t0;
        r10 = t1;
        t0 = lo.selectFrom(r3, r11);
        t1 = hi.selectFrom(r3, r11);
        r3 = t0;
        r11 = t1;
        t0 = lo.selectFrom(r4, r12);
        t1 = hi.selectFrom(r4, r12);
        r4 = t0;
        r12 = t1;
        t0 = lo.selectFrom(r5, r13);
        t1 = hi.selectFrom(r5, r13);
        r5 = t0;
        r13 = t1;
        t0 = lo.selectFrom(r6, r14);
        t1 = hi.selectFrom(r6, r14);
        r6 = t0;
        r14 = t1;
        t0 = lo.selectFrom(r7, r15);
        t1 = hi.selectFrom(r7, r15);
        r7 = t0;
        r15 = t1;
        lo = FloatVector.fromArray(F, IDX, 2 * L);
        hi = FloatVector.fromArray(F, IDX, 3 * L);
        t0 = lo.selectFrom(r0, r4);
        t1 = hi.selectFrom(r0, r4);
        r0 = t0;
        r4 = t1;
        t0 = lo.selectFrom(r1, r5);
        t1 = hi.selectFrom(r1, r5);
        r1 = t0;
        r5 = t1;
        t0 = lo.selectFrom(r2, r6);
        t1 = hi.selectFrom(r2, r6);
        r2 = t0;
        r6 = t1;
        t0 = lo.selectFrom(r3, r7);
        t1 = hi.selectFrom(r3, r7);
        r3 = t0;
        r7 = t1;
        t0 = lo.selectFrom(r8, r12);
        t1 = hi.selectFrom(r8, r12);
        r8 = t0;
        r12 = t1;
        t0 = lo.selectFrom(r9, r13);
        t1 = hi.selectFrom(r9, r13);
        r9 = t0;
        r13 = t1;
        t0 = lo.selectFrom(r10, r14);
        t1 = hi.selectFrom(r10, r14);
        r10 = t0;
        r14 = t1;
        t0 = lo.selectFrom(r11, r15);
        t1 = hi.selectFrom(r11, r15);
        r11 = t0;
        r15 = t1;
        lo = FloatVector.fromArray(F, IDX, 4 * L);
        hi = FloatVector.fromArray(F, IDX, 5 * L);
        t0 = lo.selectFrom(r0, r2);
        t1 = hi.selectFrom(r0, r2);
        r0 = t0;
        r2 = t1;
        t0 = lo.selectFrom(r1, r3);
        t1 = hi.selectFrom(r1, r3);
        r1 = t0;
        r3 = t1;
        t0 = lo.selectFrom(r4, r6);
        t1 = hi.selectFrom(r4, r6);
        r4 = t0;
        r6 = t1;
        t0 = lo.selectFrom(r5, r7);
        t1 = hi.selectFrom(r5, r7);
        r5 = t0;
        r7 = t1;
        t0 = lo.selectFrom(r8, r10);
        t1 = hi.selectFrom(r8, r10);
        r8 = t0;
        r10 = t1;
        t0 = lo.selectFrom(r9, r11);
        t1 = hi.selectFrom(r9, r11);
        r9 = t0;
        r11 = t1;
        t0 = lo.selectFrom(r12, r14);
        t1 = hi.selectFrom(r12, r14);
        r12 = t0;
        r14 = t1;
        t0 = lo.selectFrom(r13, r15);
        t1 = hi.selectFrom(r13, r15);
        r13 = t0;
        r15 = t1;
        lo = FloatVector.fromArray(F, IDX, 6 * L);
        hi = FloatVector.fromArray(F, IDX, 7 * L);
        t0 = lo.selectFrom(r0, r1);
        t1 = hi.selectFrom(r0, r1);
        r0 = t0;
        r1 = t1;
        t0 = lo.selectFrom(r2, r3);
        t1 = hi.selectFrom(r2, r3);
        r2 = t0;
        r3 = t1;
        t0 = lo.selectFrom(r4, r5);
        t1 = hi.selectFrom(r4, r5);
        r4 = t0;
        r5 = t1;
        t0 = lo.selectFrom(r6, r7);
        t1 = hi.selectFrom(r6, r7);
        r6 = t0;
        r7 = t1;
        t0 = lo.selectFrom(r8, r9);
        t1 = hi.selectFrom(r8, r9);
        r8 = t0;
        r9 = t1;
        t0 = lo.selectFrom(r10, r11);
        t1 = hi.selectFrom(r10, r11);
        r10 = t0;
        r11 = t1;
        t0 = lo.selectFrom(r12, r13);
        t1 = hi.selectFrom(r12, r13);
        r12 = t0;
        r13 = t1;
        t0 = lo.selectFrom(r14, r15);
        t1 = hi.selectFrom(r14, r15);
        r14 = t0;
        r15 = t1;
        r0.intoArray(dst, d);
        r1.intoArray(dst, d + ld);
        r2.intoArray(dst, d + 2 * ld);
        r3.intoArray(dst, d + 3 * ld);
        r4.intoArray(dst, d + 4 * ld);
        r5.intoArray(dst, d + 5 * ld);
        r6.intoArray(dst, d + 6 * ld);
        r7.intoArray(dst, d + 7 * ld);
        r8.intoArray(dst, d + 8 * ld);
        r9.intoArray(dst, d + 9 * ld);
        r10.intoArray(dst, d + 10 * ld);
        r11.intoArray(dst, d + 11 * ld);
        r12.intoArray(dst, d + 12 * ld);
        r13.intoArray(dst, d + 13 * ld);
        r14.intoArray(dst, d + 14 * ld);
        r15.intoArray(dst, d + 15 * ld);
    }

    /** One 8 × 8 tile in registers (only called when LANES == 8). */
    private static void block8(float[] src, int so, int ss, float[] dst, int d, int ld) {
        FloatVector r0 = FloatVector.fromArray(F, src, so);
        FloatVector r1 = FloatVector.fromArray(F, src, so + ss);
        FloatVector r2 = FloatVector.fromArray(F, src, so + 2 * ss);
        FloatVector r3 = FloatVector.fromArray(F, src, so + 3 * ss);
        FloatVector r4 = FloatVector.fromArray(F, src, so + 4 * ss);
        FloatVector r5 = FloatVector.fromArray(F, src, so + 5 * ss);
        FloatVector r6 = FloatVector.fromArray(F, src, so + 6 * ss);
        FloatVector r7 = FloatVector.fromArray(F, src, so + 7 * ss);
        FloatVector lo, hi, t0, t1;
        lo = FloatVector.fromArray(F, IDX, 0);
        hi = FloatVector.fromArray(F, IDX, 1 * L);
        t0 = lo.selectFrom(r0, r4);
        t1 = hi.selectFrom(r0, r4);
        r0 = t0;
        r4 = t1;
        t0 = lo.selectFrom(r1, r5);
        t1 = hi.selectFrom(r1, r5);
        r1 = t0;
        r5 = t1;
        t0 = lo.selectFrom(r2, r6);
        t1 = hi.selectFrom(r2, r6);
        r2 = t0;
        r6 = t1;
        t0 = lo.selectFrom(r3, r7);
        t1 = hi.selectFrom(r3, r7);
        r3 = t0;
        r7 = t1;
        lo = FloatVector.fromArray(F, IDX, 2 * L);
        hi = FloatVector.fromArray(F, IDX, 3 * L);
        t0 = lo.selectFrom(r0, r2);
        t1 = hi.selectFrom(r0, r2);
        r0 = t0;
        r2 = t1;
        t0 = lo.selectFrom(r1, r3);
        t1 = hi.selectFrom(r1, r3);
        r1 = t0;
        r3 = t1;
        t0 = lo.selectFrom(r4, r6);
        t1 = hi.selectFrom(r4, r6);
        r4 = t0;
        r6 = t1;
        t0 = lo.selectFrom(r5, r7);
        t1 = hi.selectFrom(r5, r7);
        r5 = t0;
        r7 = t1;
        lo = FloatVector.fromArray(F, IDX, 4 * L);
        hi = FloatVector.fromArray(F, IDX, 5 * L);
        t0 = lo.selectFrom(r0, r1);
        t1 = hi.selectFrom(r0, r1);
        r0 = t0;
        r1 = t1;
        t0 = lo.selectFrom(r2, r3);
        t1 = hi.selectFrom(r2, r3);
        r2 = t0;
        r3 = t1;
        t0 = lo.selectFrom(r4, r5);
        t1 = hi.selectFrom(r4, r5);
        r4 = t0;
        r5 = t1;
        t0 = lo.selectFrom(r6, r7);
        t1 = hi.selectFrom(r6, r7);
        r6 = t0;
        r7 = t1;
        r0.intoArray(dst, d);
        r1.intoArray(dst, d + ld);
        r2.intoArray(dst, d + 2 * ld);
        r3.intoArray(dst, d + 3 * ld);
        r4.intoArray(dst, d + 4 * ld);
        r5.intoArray(dst, d + 5 * ld);
        r6.intoArray(dst, d + 6 * ld);
        r7.intoArray(dst, d + 7 * ld);
    }
}
