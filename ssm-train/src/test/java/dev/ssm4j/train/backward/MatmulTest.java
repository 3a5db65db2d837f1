package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The backward GEMM facade (NN, TN against each other) and the bias column sums. */
class MatmulTest {
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
        assertThrows(IllegalArgumentException.class,
                () -> Matmul.nn(c, 0, 4, a, 0, 4, b, 0, 4, 4, 4, 4, false, null));
        assertThrows(IllegalArgumentException.class,
                () -> Matmul.tn(c, 0, 2, a, 0, 2, b, 0, 1, 2, 2, 2, false, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Matmul.colSum(c, 0, a, 0, 4, 3, 4));
        assertTrue(e.getMessage().contains("colSum src"), e.getMessage());
    }
}
