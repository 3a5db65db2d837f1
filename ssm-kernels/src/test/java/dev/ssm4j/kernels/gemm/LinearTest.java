package dev.ssm4j.kernels.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssm4j.kernels.testing.TestArrays;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemm.linear (y = x·Wᵀ + bias) with every kind of {@link WeightMatrix}: float[], f32 and bf16 in
 * heap, native and memory-mapped segments, at m = 1..9 (decode path) and larger m (packed path),
 * with and without bias, against a double-precision reference on the exact stored weight values.
 */
class LinearTest {
    static ForkJoinPool pool2;
    static Arena arena;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void setUp() {
        pool2 = new ForkJoinPool(2);
        arena = Arena.ofShared();
    }

    @AfterAll
    static void tearDown() {
        pool2.shutdownNow();
        arena.close();
    }

    /** Little-endian bytes of W (n × k, row stride ld ≥ k) in the given format, after {@code pad} bytes. */
    static byte[] bytes(float[] w, int n, int k, int ld, WeightMatrix.Format f, int pad) {
        byte[] out = new byte[pad + n * ld * f.bytes];
        MemorySegment s = MemorySegment.ofArray(out);
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) {
                long at = pad + (long) (j * ld + p) * f.bytes;
                if (f == WeightMatrix.Format.F32) s.set(WeightMatrix.F32_LE, at, w[j * k + p]);
                else s.set(WeightMatrix.BF16_LE, at, WeightMatrix.floatToBf16(w[j * k + p]));
            }
        }
        return out;
    }

    /** The same weights as WeightMatrix instances of every storage kind. */
    static List<WeightMatrix> variants(float[] w, int n, int k) throws IOException {
        List<WeightMatrix> list = new ArrayList<>();
        list.add(WeightMatrix.of(w, 0, n, k));
        float[] padded = new float[3 + n * (k + 2)];
        for (int j = 0; j < n; j++) System.arraycopy(w, j * k, padded, 3 + j * (k + 2), k);
        list.add(WeightMatrix.of(padded, 3, n, k, k + 2));
        for (WeightMatrix.Format f : WeightMatrix.Format.values()) {
            byte[] plain = bytes(w, n, k, k, f, 0);
            list.add(WeightMatrix.ofSegment(f, MemorySegment.ofArray(plain), 0, n, k, k));
            byte[] strided = bytes(w, n, k, k + 3, f, 6);
            MemorySegment nat = arena.allocate(strided.length + 16, 64).asSlice(2, strided.length);
            nat.copyFrom(MemorySegment.ofArray(strided));
            list.add(WeightMatrix.ofSegment(f, nat, 6, n, k, k + 3));
            Path file = tmp.resolve("w-" + f + "-" + n + "x" + k + ".bin");
            Files.write(file, plain);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, plain.length, arena);
                list.add(f == WeightMatrix.Format.F32 ? WeightMatrix.f32(mapped, 0, n, k) : WeightMatrix.bf16(mapped, 0, n, k));
            }
        }
        return list;
    }

    static void checkAgainstDouble(String what, float[] y, float[] x, int m, int k, WeightMatrix w, float[] bias) {
        int n = w.rows();
        double u = Math.ulp(1f) / 2;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = bias == null ? 0 : bias[j], abs = Math.abs(exact);
                for (int p = 0; p < k; p++) {
                    double t = (double) x[i * k + p] * w.get(j, p);
                    exact += t;
                    abs += Math.abs(t);
                }
                double bound = 2 * (k + 2) * u * abs + 1e-30;
                double err = Math.abs(y[i * n + j] - exact);
                if (!(err <= bound)) {
                    fail(String.format("%s: y(%d,%d) = %.9g, exact %.9g, |err| %.3g > %.3g", what, i, j, y[i * n + j], exact, err, bound));
                }
            }
        }
    }

    @Test
    void everyWeightKindAtDecodeAndPrefillSizes() throws IOException {
        SplittableRandom rng = new SplittableRandom(11);
        int[][] nk = {{45, 67}, {33, 16}, {19, 129}, {70, 1}};
        int[] ms = {1, 2, 3, 4, 5, 6, 7, 8, 9, 37, 130};
        for (int[] s : nk) {
            int n = s[0], k = s[1];
            float[] w = TestArrays.uniform(rng, n * k, -1, 1);
            float[] bias = TestArrays.uniform(rng, n, -1, 1);
            for (WeightMatrix wm : variants(w, n, k)) {
                for (int m : ms) {
                    float[] x = TestArrays.uniform(rng, m * k, -1, 1);
                    for (float[] bs : new float[][] {null, bias}) {
                        String what = wm + " m=" + m + " bias=" + (bs != null);
                        float[] ySimd = new float[m * n];
                        java.util.Arrays.fill(ySimd, Float.NaN);
                        GemmSimd.linear(ySimd, 0, x, 0, m, k, wm, bs, null);
                        checkAgainstDouble("simd " + what, ySimd, x, m, k, wm, bs);
                        float[] yScalar = new float[m * n];
                        GemmScalar.linear(yScalar, 0, x, 0, m, k, wm, bs);
                        checkAgainstDouble("scalar " + what, yScalar, x, m, k, wm, bs);
                    }
                }
            }
        }
    }

    @Test
    void threadsGiveBitwiseIdenticalResults() throws IOException {
        SplittableRandom rng = new SplittableRandom(12);
        int n = 300, k = 200;
        float[] w = TestArrays.uniform(rng, n * k, -1, 1);
        float[] bias = TestArrays.uniform(rng, n, -1, 1);
        for (WeightMatrix wm : variants(w, n, k)) {
            for (int m : new int[] {1, 3, 8, 40}) {
                float[] x = TestArrays.uniform(rng, m * k, -1, 1);
                float[] one = new float[m * n], two = new float[m * n];
                GemmSimd.linear(one, 0, x, 0, m, k, wm, bias, null);
                GemmSimd.linear(two, 0, x, 0, m, k, wm, bias, pool2);
                assertArrayEquals(one, two, wm + " m=" + m);
            }
        }
    }

    /**
     * The decode path (m ≤ 8) with n large enough that a pool really splits the rows of W into
     * tasks (n ≥ 2 · grain): the split path and the one-thread path (which calls the kernel
     * directly) agree bit for bit, for every storage kind, offset and row stride.
     */
    @Test
    void decodeSplitAcrossTasksMatchesOneThread() throws IOException {
        SplittableRandom rng = new SplittableRandom(13);
        int n = 4001, k = 33;   // grain = 65536 / 33 = 1985 rows: two or more tasks
        float[] w = TestArrays.uniform(rng, n * k, -1, 1);
        float[] bias = TestArrays.uniform(rng, n, -1, 1);
        for (WeightMatrix wm : variants(w, n, k)) {
            for (int m : new int[] {1, 3, 8}) {
                float[] x = TestArrays.uniform(rng, m * k, -1, 1);
                float[] one = new float[m * n], two = new float[m * n];
                GemmSimd.linear(one, 0, x, 0, m, k, wm, bias, null);
                checkAgainstDouble(wm + " m=" + m, one, x, m, k, wm, bias);
                GemmSimd.linear(two, 0, x, 0, m, k, wm, bias, pool2);
                assertArrayEquals(one, two, wm + " m=" + m);
            }
        }
    }

    @Test
    void offsetsAndRowSlices() {
        SplittableRandom rng = new SplittableRandom(13);
        int n = 40, k = 33, m = 5;
        float[] w = TestArrays.uniform(rng, n * k, -1, 1);
        byte[] raw = bytes(w, n, k, k, WeightMatrix.Format.BF16, 0);
        WeightMatrix all = WeightMatrix.bf16(MemorySegment.ofArray(raw), 0, n, k);
        WeightMatrix part = all.rows(10, 17);
        assertEquals(17, part.rows());
        assertEquals(all.get(12, 5), part.get(2, 5));
        for (int mm : new int[] {m, 20}) {
            float[] x = TestArrays.uniform(rng, 4 + mm * k, -1, 1);
            float[] y = new float[7 + mm * 17 + 3];
            java.util.Arrays.fill(y, 99f);
            GemmSimd.linear(y, 7, x, 4, mm, k, part, null, null);
            float[] xs = java.util.Arrays.copyOfRange(x, 4, 4 + mm * k);
            checkAgainstDouble("slice m=" + mm, java.util.Arrays.copyOfRange(y, 7, 7 + mm * 17), xs, mm, k, part, null);
            for (int i = 0; i < 7; i++) assertEquals(99f, y[i]);
            for (int i = 7 + mm * 17; i < y.length; i++) assertEquals(99f, y[i]);
        }
    }

    @Test
    void rowStridesOfXAndY() {
        // y is a column block of a wider buffer (ldy > n), x a column block of another (ldx > k).
        SplittableRandom rng = new SplittableRandom(15);
        int n = 21, k = 35, ldx = 50, ldy = 40;
        float[] w = TestArrays.uniform(rng, n * k, -1, 1);
        byte[] raw = bytes(w, n, k, k, WeightMatrix.Format.BF16, 0);
        float[] bias = TestArrays.uniform(rng, n, -1, 1);
        for (WeightMatrix wm : new WeightMatrix[] {WeightMatrix.of(w, 0, n, k), WeightMatrix.bf16(MemorySegment.ofArray(raw), 0, n, k)}) {
            for (int m : new int[] {1, 7, 19}) {
                float[] x = TestArrays.uniform(rng, 5 + m * ldx, -1, 1);
                float[] y = new float[3 + m * ldy], yScalar = new float[y.length];
                java.util.Arrays.fill(y, 42f);
                java.util.Arrays.fill(yScalar, 42f);
                Gemm.linear(y, 3, ldy, x, 5, ldx, m, k, wm, bias, pool2);
                GemmScalar.linear(yScalar, 3, ldy, x, 5, ldx, m, k, wm, bias);
                TestArrays.assertClose(wm + " m=" + m, yScalar, y, 1e-5, 1e-5);
                for (int i = 0; i < y.length; i++) {
                    int rel = i - 3;
                    if (rel < 0 || rel % ldy >= n || rel / ldy >= m) assertEquals(42f, y[i], "outside y at " + i);
                }
            }
        }
    }

    @Test
    void linearMatchesSgemmWithTransposedB() {
        SplittableRandom rng = new SplittableRandom(14);
        int n = 50, k = 70;
        float[] w = TestArrays.uniform(rng, n * k, -1, 1);
        for (int m : new int[] {1, 6, 33}) {
            float[] x = TestArrays.uniform(rng, m * k, -1, 1);
            float[] y = new float[m * n], c = new float[m * n];
            GemmSimd.linear(y, 0, x, 0, m, k, WeightMatrix.of(w, 0, n, k), null, null);
            GemmSimd.sgemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, c, 0, n, null);
            assertArrayEquals(c, y, "m=" + m);
        }
    }

    @Test
    void bf16Conversion() {
        assertEquals(1f, WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(1f)));
        assertEquals(-2.5f, WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(-2.5f)));
        // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties to even → 1.
        assertEquals(1f, WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(1f + 0x1p-8f)));
        assertEquals(1f + 0x1p-7f, WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(1f + 0x1p-8f + 0x1p-20f)));
        assertTrue(Float.isNaN(WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, WeightMatrix.bf16ToFloat(WeightMatrix.floatToBf16(Float.POSITIVE_INFINITY)));
        // Raw bits straight from a segment.
        MemorySegment s = MemorySegment.ofArray(new byte[] {(byte) 0x80, 0x3f});
        assertEquals(1f, WeightMatrix.bf16(s, 0, 1, 1).get(0, 0));
        assertEquals(ByteOrder.LITTLE_ENDIAN, WeightMatrix.BF16_LE.order());
        assertEquals(2, ValueLayout.JAVA_SHORT.byteSize());
    }

    private static void assertIae(String mustContain, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(mustContain), "message '" + e.getMessage() + "' should mention '" + mustContain + "'");
    }

    @Test
    void badArgumentsAreNamed() {
        WeightMatrix w = WeightMatrix.of(new float[12], 0, 3, 4);
        assertIae("k=5", () -> Gemm.linear(new float[6], 0, new float[10], 0, 2, 5, w, null, null));
        assertIae("need y.length >= 6", () -> Gemm.linear(new float[5], 0, new float[8], 0, 2, 4, w, null, null));
        assertIae("need x.length >= 8", () -> Gemm.linear(new float[6], 0, new float[7], 0, 2, 4, w, null, null));
        assertIae("bias too short", () -> Gemm.linear(new float[6], 0, new float[8], 0, 2, 4, w, new float[2], null));
        assertIae("m must be >= 0", () -> Gemm.linear(new float[6], 0, new float[8], 0, -2, 4, w, null, null));
        assertIae("w is null", () -> Gemm.linear(new float[6], 0, new float[8], 0, 2, 4, null, null, null));
        assertIae("need length >= 12", () -> WeightMatrix.of(new float[11], 0, 3, 4));
        assertIae("need byteSize >= 24", () -> WeightMatrix.bf16(MemorySegment.ofArray(new byte[23]), 0, 3, 4));
        assertIae("need byteSize >= 52", () -> WeightMatrix.f32(MemorySegment.ofArray(new byte[51]), 4, 3, 4));
        assertIae("rowStride must be >= max(1, cols) = 4", () -> WeightMatrix.of(new float[12], 0, 3, 4, 3));
        assertIae("rows [2, 2+2)", () -> w.rows(2, 2));
        assertIae("ldx must be >= 4", () -> Gemm.linear(new float[6], 0, 3, new float[8], 0, 3, 2, 4, w, null, null));
        assertIae("ldy must be >= 3", () -> Gemm.linear(new float[6], 0, 2, new float[8], 0, 4, 2, 4, w, null, null));
        assertIae("w is null", () -> GemmScalar.linear(new float[6], 0, new float[8], 0, 2, 4, null, null));
        float[] shared = new float[20];
        assertIae("overlap", () -> Gemm.linear(shared, 4, shared, 0, 2, 4, w, null, null));
    }
}
