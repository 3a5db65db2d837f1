package dev.ssm4j.train.backward;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * SIMD twin of {@link Matmul#mulAdd}: C (m, n) (+)= A·B.
 *
 * <p>Register tile: 4 rows of C × 2 vectors of columns (8 accumulators). Per step p of the inner
 * loop it loads two vectors of row p of B, broadcasts A(i..i+3, p) and issues 8 independent FMAs —
 * enough independent chains to hide the FMA latency, and 2 loads per 8 FMAs. The k loop is cut in
 * blocks of {@link #KC} so the (KC × 2 vectors) panel of B stays in L1 while every row tile of the
 * task's rows passes over it. Columns that do not fill the two vectors use a masked tile; rows that
 * do not fill four use a one-row tile. The order of additions into every C element is p ascending
 * (k block by k block), independent of the thread split.
 */
final class MatmulSimd {
    private MatmulSimd() {}

    private static final int L = F.length();
    /** k block: KC rows of a 2-vector panel of B = KC·2·L floats (32 KiB at L = 16). */
    static final int KC = 256;
    /** Rows of C per task: at least this many multiply-adds per task before splitting. */
    private static final long GRAIN_FLOPS = 1 << 18;

    static void mulAdd(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                       int ldb, int m, int n, int k, boolean accumulate, ForkJoinPool pool) {
        if (m == 0 || n == 0) return;
        int tiles = (m + 3) / 4;
        long perTile = 4L * n * Math.max(1, k);
        int grain = (int) Math.max(1, GRAIN_FLOPS / perTile);
        Parallel.forRange(pool, tiles, grain, (t0, t1) -> {
            int i0 = t0 * 4, i1 = Math.min(m, t1 * 4);
            if (!accumulate) {
                for (int i = i0; i < i1; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            rows(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, i0, i1, n, k);
        });
    }

    /** C rows [i0, i1) += A rows [i0, i1) · B. */
    private static void rows(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                             int bOff, int ldb, int i0, int i1, int n, int k) {
        for (int j = 0; j < n; j += 2 * L) {
            boolean full = j + 2 * L <= n;
            for (int p0 = 0; p0 < k; p0 += KC) {
                int p1 = Math.min(k, p0 + KC);
                int i = i0;
                if (full) {
                    for (; i + 4 <= i1; i += 4) tile4(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, i, j, p0, p1);
                    for (; i < i1; i++) tile1(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, i, j, p0, p1);
                } else {
                    VectorMask<Float> m0 = F.indexInRange(j, n), m1 = F.indexInRange(j + L, n);
                    for (; i + 4 <= i1; i += 4) {
                        tile4Masked(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, i, j, p0, p1, m0, m1);
                    }
                    for (; i < i1; i++) tile1Masked(c, cOff, ldc, a, aOff, aRow, aCol, b, bOff, ldb, i, j, p0, p1, m0, m1);
                }
            }
        }
    }

    private static void tile4(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                              int bOff, int ldb, int i, int j, int p0, int p1) {
        int r0 = cOff + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        FloatVector c00 = FloatVector.fromArray(F, c, r0), c01 = FloatVector.fromArray(F, c, r0 + L);
        FloatVector c10 = FloatVector.fromArray(F, c, r1), c11 = FloatVector.fromArray(F, c, r1 + L);
        FloatVector c20 = FloatVector.fromArray(F, c, r2), c21 = FloatVector.fromArray(F, c, r2 + L);
        FloatVector c30 = FloatVector.fromArray(F, c, r3), c31 = FloatVector.fromArray(F, c, r3 + L);
        int ai = aOff + i * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bOff + p * ldb + j, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp), b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
    }

    private static void tile1(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                              int bOff, int ldb, int i, int j, int p0, int p1) {
        int r0 = cOff + i * ldc + j;
        FloatVector c00 = FloatVector.fromArray(F, c, r0), c01 = FloatVector.fromArray(F, c, r0 + L);
        int ai = aOff + i * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bOff + p * ldb + j;
            FloatVector a0 = FloatVector.broadcast(F, a[ai + p * aCol]);
            c00 = a0.fma(FloatVector.fromArray(F, b, bp), c00);
            c01 = a0.fma(FloatVector.fromArray(F, b, bp + L), c01);
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
    }

    private static void tile4Masked(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                                    int bOff, int ldb, int i, int j, int p0, int p1, VectorMask<Float> m0,
                                    VectorMask<Float> m1) {
        int r0 = cOff + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        FloatVector c00 = FloatVector.fromArray(F, c, r0, m0), c01 = FloatVector.fromArray(F, c, r0 + L, m1);
        FloatVector c10 = FloatVector.fromArray(F, c, r1, m0), c11 = FloatVector.fromArray(F, c, r1 + L, m1);
        FloatVector c20 = FloatVector.fromArray(F, c, r2, m0), c21 = FloatVector.fromArray(F, c, r2 + L, m1);
        FloatVector c30 = FloatVector.fromArray(F, c, r3, m0), c31 = FloatVector.fromArray(F, c, r3 + L, m1);
        int ai = aOff + i * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bOff + p * ldb + j, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp, m0), b1 = FloatVector.fromArray(F, b, bp + L, m1);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, r0, m0);
        c01.intoArray(c, r0 + L, m1);
        c10.intoArray(c, r1, m0);
        c11.intoArray(c, r1 + L, m1);
        c20.intoArray(c, r2, m0);
        c21.intoArray(c, r2 + L, m1);
        c30.intoArray(c, r3, m0);
        c31.intoArray(c, r3 + L, m1);
    }

    private static void tile1Masked(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                                    int bOff, int ldb, int i, int j, int p0, int p1, VectorMask<Float> m0,
                                    VectorMask<Float> m1) {
        int r0 = cOff + i * ldc + j;
        FloatVector c00 = FloatVector.fromArray(F, c, r0, m0), c01 = FloatVector.fromArray(F, c, r0 + L, m1);
        int ai = aOff + i * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bOff + p * ldb + j;
            FloatVector a0 = FloatVector.broadcast(F, a[ai + p * aCol]);
            c00 = a0.fma(FloatVector.fromArray(F, b, bp, m0), c00);
            c01 = a0.fma(FloatVector.fromArray(F, b, bp + L, m1), c01);
        }
        c00.intoArray(c, r0, m0);
        c01.intoArray(c, r0 + L, m1);
    }
}
