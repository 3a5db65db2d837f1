package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import dev.ssm4j.train.data.Batch;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Fused softmax cross-entropy: loss against a double softmax, dlogits against finite differences. */
class CrossEntropyTest {
    /** Mean CE in double over rows with a target. */
    private static double meanLoss(double[] z, int[] y, int rows, int V) {
        double total = 0;
        int n = 0;
        for (int t = 0; t < rows; t++) {
            if (y[t] == Batch.IGNORE) continue;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int v = 0; v < V; v++) max = Math.max(max, z[t * V + v]);
            for (int v = 0; v < V; v++) sum += Math.exp(z[t * V + v] - max);
            total += Math.log(sum) + max - z[t * V + y[t]];
            n++;
        }
        return total / n;
    }

    @Test
    void lossAndGradientMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int V : new int[] {1, 3, 17, 37}) {
            int rows = 7;
            float[] z = TestArrays.uniform(rng, rows * V, -3, 3);
            int[] y = new int[rows];
            for (int t = 0; t < rows; t++) y[t] = t % 3 == 1 ? Batch.IGNORE : rng.nextInt(V);
            int n = CrossEntropy.countTargets(y, 0, rows);
            float[] dz = new float[rows * V];
            long[] stats = new long[2];
            double sum = CrossEntropy.forwardBackward(dz, z, y, 0, rows, V, 1f / n, stats);
            assertEquals(n, stats[CrossEntropy.COUNT]);
            assertEquals(meanLoss(TestArrays.toDouble(z), y, rows, V), sum / n, 1e-6, "V=" + V);
            double[] fd = FiniteDifference.gradient(TestArrays.toDouble(z), 1e-5, zz -> meanLoss(zz, y, rows, V));
            TestArrays.assertClose("dlogits V=" + V, fd, dz, 1e-6, 1e-5);
            float[] inPlace = z.clone();
            CrossEntropy.forwardBackward(inPlace, inPlace, y, 0, rows, V, 1f / n, null);
            TestArrays.assertClose("in place", dz, inPlace, 0, 0);
        }
    }

    @Test
    void accuracyCountsArgmaxHitsAndBadTargetsAreRefused() {
        float[] z = {0, 5, 1, /* row 1 */ 2, 0, 0, /* row 2 */ 0, 0, 9};
        long[] stats = new long[2];
        CrossEntropy.forwardBackward(null, z, new int[] {1, 1, Batch.IGNORE}, 0, 3, 3, 1f, stats);
        assertEquals(2, stats[CrossEntropy.COUNT]);
        assertEquals(1, stats[CrossEntropy.CORRECT]);
        assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forwardBackward(null, z, new int[] {3, 0, 0}, 0, 3, 3, 1f, null));
        assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.forwardBackward(null, z, new int[] {0, 0}, 0, 3, 3, 1f, null));
    }
}
