package dev.ssm4j.kernels.act;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class ActivationsTest {
    static final int[] NS = {1, 3, 7, 17, 33, 37, 100, 1000};

    static DoubleUnaryOperator ref(Activation f) {
        return switch (f) {
            case SILU -> v -> v / (1 + Math.exp(-v));
            case SOFTPLUS -> v -> Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
            case SIGMOID -> v -> 1 / (1 + Math.exp(-v));
            case EXP -> Math::exp;
        };
    }

    static float[] inputs(SplittableRandom rng, Activation f, int n) {
        float[] x = TestArrays.uniform(rng, n, f == Activation.EXP ? -20 : -30, f == Activation.EXP ? 20 : 30);
        if (n > 5) { x[0] = 0f; x[1] = -0f; x[2] = 1e-7f; x[3] = -85f; x[4] = f == Activation.EXP ? 80f : 85f; }
        return x;
    }

    @Test
    void forwardTwinsMatchTheMath() {
        SplittableRandom rng = new SplittableRandom(41);
        for (Activation f : Activation.values()) {
            for (int n : NS) {
                float[] x = inputs(rng, f, n), ys = new float[n + 2], yv = new float[n + 2];
                ActivationsScalar.forward(f, ys, 1, x, 0, n);
                ActivationsSimd.forward(f, yv, 1, x, 0, n);
                double[] want = new double[n + 2];
                for (int i = 0; i < n; i++) want[i + 1] = ref(f).applyAsDouble(x[i]);
                TestArrays.assertClose(f + " scalar n=" + n, want, ys, 1e-30, 1e-6);
                TestArrays.assertClose(f + " simd n=" + n, want, yv, 1e-30, 3e-6);
                assertEquals(0f, yv[0]);
                assertEquals(0f, yv[n + 1]);
            }
        }
    }

    @Test
    void backwardTwinsMatchEachOtherAndFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(42);
        for (Activation f : Activation.values()) {
            for (int n : NS) {
                float[] x = TestArrays.uniform(rng, n, -6, 6), dy = TestArrays.uniform(rng, n, -1, 1);
                float[] start = TestArrays.uniform(rng, n, -1, 1), ds = start.clone(), dv = start.clone();
                ActivationsScalar.backward(f, ds, 0, dy, 0, x, 0, n);
                ActivationsSimd.backward(f, dv, 0, dy, 0, x, 0, n);
                TestArrays.assertClose(f + " backward simd vs scalar n=" + n, ds, dv, 1e-6, 1e-5);
                if (n > 40) continue;
                double[] xd = TestArrays.toDouble(x), dyd = TestArrays.toDouble(dy);
                DoubleUnaryOperator g = ref(f);
                double[] fd = FiniteDifference.gradient(xd, 1e-6, q -> {
                    double s = 0;
                    for (int i = 0; i < q.length; i++) s += g.applyAsDouble(q[i]) * dyd[i];
                    return s;
                });
                for (int i = 0; i < n; i++) fd[i] += start[i];                 // the backward accumulates
                TestArrays.assertClose(f + " scalar vs finite differences n=" + n, fd, ds, 1e-5, 1e-4);
                TestArrays.assertClose(f + " simd vs finite differences n=" + n, fd, dv, 1e-5, 1e-4);
            }
        }
    }

    @Test
    void stridedViewsInPlaceAndThreads() {
        SplittableRandom rng = new SplittableRandom(43);
        int rows = 37, cols = 17, stride = 24;
        ForkJoinPool pool = Parallel.pool(2);
        try {
            for (Activation f : Activation.values()) {
                float[] x = TestArrays.uniform(rng, rows * stride, -5, 5), y = new float[rows * stride];
                Activations.forward(f, y, 0, stride, x, 0, stride, rows, cols, null);
                for (int r = 0; r < rows; r++) {
                    float[] row = new float[cols];
                    ActivationsScalar.forward(f, row, 0, x, r * stride, cols);
                    TestArrays.assertClose(f + " row " + r, row, java.util.Arrays.copyOfRange(y, r * stride, r * stride + cols),
                            1e-30, 3e-6);
                    for (int c = cols; c < stride; c++) assertEquals(0f, y[r * stride + c], "gap untouched");
                }
                float[] xi = x.clone();
                Activations.forward(f, xi, 0, stride, xi, 0, stride, rows, cols, null);       // in place
                for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(y[r * stride + c], xi[r * stride + c]);
                // a long flat run split over two threads equals one thread
                float[] big = TestArrays.uniform(rng, 100_003, -5, 5), y1 = new float[big.length], y2 = new float[big.length];
                Activations.forward(f, y1, 0, big, 0, big.length, null);
                Activations.forward(f, y2, 0, big, 0, big.length, pool);
                assertArrayEquals(y1, y2);
                float[] d1 = new float[big.length], d2 = new float[big.length];
                Activations.backward(f, d1, 0, big, 0, big, 0, big.length, null);
                Activations.backward(f, d2, 0, big, 0, big, 0, big.length, pool);
                assertArrayEquals(d1, d2);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void residualAdd() {
        SplittableRandom rng = new SplittableRandom(44);
        for (int n : NS) {
            float[] a = TestArrays.uniform(rng, n, -1, 1), b = TestArrays.uniform(rng, n, -1, 1);
            float[] ys = new float[n], yv = new float[n];
            Residual.addScalar(ys, 0, a, 0, b, 0, n);
            Residual.addSimd(yv, 0, a, 0, b, 0, n);
            assertArrayEquals(ys, yv);
            for (int i = 0; i < n; i++) assertEquals(a[i] + b[i], ys[i]);
            float[] x = a.clone();
            Residual.addInPlace(x, 0, b, 0, n, null);
            assertArrayEquals(ys, x);
        }
        assertThrows(IllegalArgumentException.class, () -> Residual.add(new float[4], 0, new float[4], 0, new float[3], 0, 4, null));
    }

    @Test
    void badShapesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Activations.forward(Activation.SILU, new float[10], 0, 5, new float[10], 0, 4, 3, 4, null));
        assertTrue(e.getMessage().startsWith("y:"), e.getMessage());
    }
}
