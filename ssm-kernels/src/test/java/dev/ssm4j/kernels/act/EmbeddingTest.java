package dev.ssm4j.kernels.act;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class EmbeddingTest {

    @Test
    void forwardPicksRowsAndBackwardScatterAdds() {
        SplittableRandom rng = new SplittableRandom(51);
        for (int d : new int[] {1, 3, 17, 33, 100}) {
            int vocab = 37, n = 23, stride = d + 2;
            float[] table = TestArrays.uniform(rng, vocab * d, -1, 1);
            int[] ids = new int[n + 1];
            for (int i = 0; i <= n; i++) ids[i] = rng.nextInt(vocab);
            ids[5] = ids[6] = ids[9];                                   // repeated ids accumulate
            float[] out = new float[n * stride], outS = new float[n * stride];
            Embedding.forward(out, 0, stride, ids, 1, n, table, vocab, d);
            Embedding.forwardScalar(outS, 0, stride, ids, 1, n, table, d);
            assertArrayEquals(outS, out);
            for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) assertEquals(table[ids[1 + i] * d + c], out[i * stride + c]);
            float[] dout = TestArrays.uniform(rng, n * stride, -1, 1), start = TestArrays.uniform(rng, vocab * d, -1, 1);
            double[] want = TestArrays.toDouble(start);
            for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) want[ids[1 + i] * d + c] += dout[i * stride + c];
            float[] dt = start.clone(), dts = start.clone();
            Embedding.backward(dt, dout, 0, stride, ids, 1, n, vocab, d, null);
            Embedding.backwardScalar(dts, dout, 0, stride, ids, 1, n, d, 0, d);
            assertArrayEquals(dts, dt);
            TestArrays.assertClose("dtable d=" + d, want, dt, 1e-6, 1e-6);
        }
    }

    @Test
    void twoThreadsSplitColumns() {
        SplittableRandom rng = new SplittableRandom(52);
        int vocab = 50, d = 768, n = 200;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.nextInt(vocab);
        float[] dout = TestArrays.uniform(rng, n * d, -1, 1), a = new float[vocab * d], b = new float[vocab * d];
        ForkJoinPool pool = Parallel.pool(2);
        try {
            Embedding.backward(a, dout, 0, d, ids, 0, n, vocab, d, null);
            Embedding.backward(b, dout, 0, d, ids, 0, n, vocab, d, pool);
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(a, b);
    }

    @Test
    void outOfRangeIdIsNamedAndNothingIsWritten() {
        float[] table = new float[10 * 4], out = new float[3 * 4];
        java.util.Arrays.fill(out, 9f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.forward(out, 0, 4, new int[] {1, 2, 10}, 0, 3, table, 10, 4));
        assertTrue(e.getMessage().contains("token id 10") && e.getMessage().contains("position 2")
                && e.getMessage().contains("vocab size 10"), e.getMessage());
        for (float v : out) assertEquals(9f, v);
        e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.backward(table, out, 0, 4, new int[] {-1, 2, 3}, 0, 3, 10, 4, null));
        assertTrue(e.getMessage().contains("token id -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Embedding.forward(out, 0, 4, new int[] {1, 2, 3}, 0, 3, new float[39], 10, 4));
        assertTrue(e.getMessage().contains("table"), e.getMessage());
    }
}
