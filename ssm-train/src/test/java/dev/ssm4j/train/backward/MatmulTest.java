package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** The backward GEMMs: SIMD and scalar twins against a double-precision reference, odd shapes, strides. */
class MatmulTest {
    private static final int[] SIZES = {1, 3, 7, 17, 33, 37};

    /** C (m, n) += A(m, k)·B(k, n) in double, A(i, p) = a[aOff + i·aRow + p·aCol]. */
    private static double[] reference(float[] c0, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b,
                                      int bOff, int ldb, int m, int n, int k, boolean acc) {
        double[] c = TestArrays.toDouble(c0);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = acc ? c[cOff + i * ldc + j] : 0;
                for (int p = 0; p < k; p++) s += (double) a[aOff + i * aRow + p * aCol] * b[bOff + p * ldb + j];
                c[cOff + i * ldc + j] = s;
            }
        }
        return c;
    }

    @Test
    void nnAndTnMatchReferenceOnOddShapesWithStrides() {
        SplittableRandom rng = new SplittableRandom(1);
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : new int[] {1, 5, 40, 300}) {
                        for (boolean tn : new boolean[] {false, true}) {
                            for (boolean acc : new boolean[] {false, true}) {
                                int lda = (tn ? m : k) + 2, ldb = n + 3, ldc = n + 1;
                                float[] a = TestArrays.uniform(rng, 5 + (tn ? k : m) * lda, -1, 1);
                                float[] b = TestArrays.uniform(rng, 2 + k * ldb, -1, 1);
                                float[] c = TestArrays.uniform(rng, 4 + m * ldc, -1, 1);
                                int aRow = tn ? 1 : lda, aCol = tn ? lda : 1;
                                double[] want = reference(c, 4, ldc, a, 5, aRow, aCol, b, 2, ldb, m, n, k, acc);
                                float[] simd = c.clone(), scalar = c.clone(), par = c.clone();
                                MatmulSimd.mulAdd(simd, 4, ldc, a, 5, aRow, aCol, b, 2, ldb, m, n, k, acc, null);
                                MatmulScalar.mulAdd(scalar, 4, ldc, a, 5, aRow, aCol, b, 2, ldb, m, n, k, acc);
                                MatmulSimd.mulAdd(par, 4, ldc, a, 5, aRow, aCol, b, 2, ldb, m, n, k, acc, pool);
                                String what = (tn ? "TN" : "NN") + " m=" + m + " n=" + n + " k=" + k + " acc=" + acc;
                                double tol = 1e-6 * k + 1e-6;
                                TestArrays.assertClose(what + " simd", want, simd, tol, 1e-5);
                                TestArrays.assertClose(what + " scalar", want, scalar, tol, 1e-5);
                                assertArrayEquals(simd, par, what + ": threads change nothing (bitwise)");
                            }
                        }
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void entryPointsAndColumnSums() {
        SplittableRandom rng = new SplittableRandom(2);
        int m = 9, n = 21, k = 13;
        float[] a = TestArrays.uniform(rng, m * k, -1, 1), at = new float[k * m];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
        float[] b = TestArrays.uniform(rng, k * n, -1, 1);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Matmul.nn(c1, 0, n, a, 0, k, b, 0, n, m, n, k, false, null);
        Matmul.tn(c2, 0, n, at, 0, m, b, 0, n, m, n, k, false, null);
        TestArrays.assertClose("Aᵀᵀ·B = A·B", c1, c2, 1e-6, 1e-6);
        float[] sums = {1f, 2f, 3f};
        float[] src = {1, 2, 3, 9, 4, 5, 6, 9};  // (2 rows, 3 cols) with ld 4
        Matmul.colSum(sums, 0, src, 0, 4, 2, 3);
        assertArrayEquals(new float[] {6f, 9f, 12f}, sums);
    }

    @Test
    void badShapesNameTheOperand() {
        float[] a = new float[10], b = new float[10], c = new float[10];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Matmul.nn(c, 0, 4, a, 0, 4, b, 0, 4, 4, 4, 4, false, null));
        assertTrue(e.getMessage().contains("C (4, 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Matmul.nn(c, 0, 2, a, 0, 2, b, 0, 1, 2, 2, 2, false, null));
        assertTrue(e.getMessage().contains("ldb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Matmul.nn(c, 0, 2, a, 0, 2, b, 0, 2, 2, 2, -1, false, null));
        assertTrue(e.getMessage().contains("(m, n, k)"), e.getMessage());
    }
}
