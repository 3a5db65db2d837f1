package dev.ssm4j.kernels.act;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class SiluGateTest {

    @Test
    void twinsAgreeAndMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(71);
        for (int n : new int[] {1, 3, 7, 17, 33, 37, 100}) {
            float[] x = TestArrays.uniform(rng, n, -3, 3), z = TestArrays.uniform(rng, n, -6, 6), dy = TestArrays.uniform(rng, n, -1, 1);
            float[] ys = new float[n], yv = new float[n];
            SiluGate.forwardScalar(ys, 0, x, 0, z, 0, n);
            SiluGate.forwardSimd(yv, 0, x, 0, z, 0, n);
            TestArrays.assertClose("y n=" + n, ys, yv, 1e-7, 3e-6);
            float[] sx = TestArrays.uniform(rng, n, -1, 1), sz = TestArrays.uniform(rng, n, -1, 1);
            float[] dxs = sx.clone(), dzs = sz.clone(), dxv = sx.clone(), dzv = sz.clone();
            SiluGate.backwardScalar(dxs, 0, dzs, 0, dy, 0, x, 0, z, 0, n);
            SiluGate.backwardSimd(dxv, 0, dzv, 0, dy, 0, x, 0, z, 0, n);
            TestArrays.assertClose("dx n=" + n, dxs, dxv, 1e-6, 1e-5);
            TestArrays.assertClose("dz n=" + n, dzs, dzv, 1e-6, 1e-5);
            if (n > 40) continue;
            double[] p = new double[2 * n];                       // [x | z]
            for (int i = 0; i < n; i++) { p[i] = x[i]; p[n + i] = z[i]; }
            double[] fd = FiniteDifference.gradient(p, 1e-6, q -> {
                double s = 0;
                for (int i = 0; i < n; i++) s += q[i] * q[n + i] / (1 + Math.exp(-q[n + i])) * dy[i];
                return s;
            });
            for (int i = 0; i < n; i++) { fd[i] += sx[i]; fd[n + i] += sz[i]; }
            TestArrays.assertClose("dx vs finite differences n=" + n, Arrays.copyOf(fd, n), dxv, 1e-5, 1e-4);
            TestArrays.assertClose("dz vs finite differences n=" + n, Arrays.copyOfRange(fd, n, 2 * n), dzv, 1e-5, 1e-4);
        }
    }

    @Test
    void stridedSlicesInPlaceNullGradientsAndThreads() {
        SplittableRandom rng = new SplittableRandom(72);
        int rows = 37, cols = 33, stride = 2 * cols;                  // x in columns [0, 33), z in [33, 66)
        float[] xz = TestArrays.uniform(rng, rows * stride, -3, 3), y = new float[rows * cols];
        SiluGate.forward(y, 0, cols, xz, 0, stride, xz, cols, stride, rows, cols, null);
        for (int r = 0; r < rows; r++) {
            float[] want = new float[cols];
            SiluGate.forwardScalar(want, 0, xz, r * stride, xz, r * stride + cols, cols);
            TestArrays.assertClose("row " + r, want, Arrays.copyOfRange(y, r * cols, (r + 1) * cols), 1e-7, 3e-6);
        }
        float[] inPlace = xz.clone();
        SiluGate.forward(inPlace, 0, stride, inPlace, 0, stride, inPlace, cols, stride, rows, cols, null);   // y over x
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(y[r * cols + c], inPlace[r * stride + c]);
        float[] dy = TestArrays.uniform(rng, rows * cols, -1, 1), dz1 = new float[rows * stride], dz2 = new float[rows * stride];
        SiluGate.backward(null, 0, 0, dz1, cols, stride, dy, 0, cols, xz, 0, stride, xz, cols, stride, rows, cols, null);
        ForkJoinPool pool = Parallel.pool(2);
        try {
            SiluGate.backward(null, 0, 0, dz2, cols, stride, dy, 0, cols, xz, 0, stride, xz, cols, stride, rows, cols, pool);
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(dz1, dz2);
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(0f, dz1[r * stride + c], "x columns untouched");
    }
}
