package dev.ssm4j.train.backward;

/**
 * Scalar twin of {@link Matmul#mulAdd}: the textbook triple loop, in the order (i, p, j) so that
 * the innermost loop walks a row of B and a row of C (the same order of additions per element as
 * the SIMD twin: p ascending).
 */
final class MatmulScalar {
    private MatmulScalar() {}

    static void mulAdd(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                       int ldb, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
            for (int p = 0; p < k; p++) {
                float aip = a[aOff + i * aRow + p * aCol];
                int bp = bOff + p * ldb;
                for (int j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
            }
        }
    }
}
