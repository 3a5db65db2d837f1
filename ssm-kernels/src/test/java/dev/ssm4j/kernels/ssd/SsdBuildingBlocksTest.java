package dev.ssm4j.kernels.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The register-tiled products, the decay matrix and the in-register transposes against plain loops, on ragged shapes. */
class SsdBuildingBlocksTest {
    static final int L = KernelConfig.LANES;

    @Test
    void productsMatchTheNaiveLoop() {
        SplittableRandom rng = new SplittableRandom(3);
        int[][] shapes = {{1, 1, 1}, {4, 1, 4}, {6, 4, 16}, {7, 5, 3}, {13, 6, 64}, {64, 4, 128}, {3, 9, 0}, {25, 3, 33}};
        for (int[] sh : shapes) {
            int rows = sh[0], w = sh[1] * L, k = sh[2];
            for (float beta : new float[] {0f, 1f, 0.5f}) {
                for (int trans = 0; trans < 4; trans++) {
                    // trans 2, 3: the same with the rows scaled as they are stored (sc, from offset 3)
                    boolean scaled = trans >= 2;
                    float[] sc = TestArrays.normal(rng, 3 + rows, 1.0);
                    // a as row-major (rows, k) with padding, or column-major (k, rows)
                    int aRs = trans % 2 == 0 ? k + 3 : 1, aKs = trans % 2 == 0 ? 1 : rows + 2;
                    float[] a = TestArrays.normal(rng, rows * (k + 3) + (k + 1) * (rows + 2) + 8, 1.0);
                    float[] bm = TestArrays.normal(rng, 5 + k * (w + L) + w, 1.0);
                    float[] in = TestArrays.normal(rng, 2 + rows * (w + 2 * L), 1.0);
                    float[] out = TestArrays.normal(rng, 1 + rows * (w + L), 1.0);
                    float[] expected = out.clone();
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < w; c++) {
                            double s = beta == 0f ? 0 : beta * in[2 + r * (w + 2 * L) + c];
                            for (int kk = 0; kk < k; kk++) s += (double) a[4 + r * aRs + kk * aKs] * bm[5 + kk * (w + L) + c];
                            expected[1 + r * (w + L) + c] = (float) (scaled ? s * sc[3 + r] : s);
                        }
                    }
                    if (scaled) {
                        SsdGemm.mm(out, 1, w + L, beta, in, 2, w + 2 * L, a, 4, aRs, aKs, bm, 5, w + L, rows, w, 0, k, sc, 3);
                    } else {
                        SsdGemm.mm(out, 1, w + L, beta, in, 2, w + 2 * L, a, 4, aRs, aKs, bm, 5, w + L, rows, w, 0, k);
                    }
                    TestArrays.assertClose("mm " + java.util.Arrays.toString(sh) + " beta " + beta + " trans " + trans,
                            expected, out, 1e-4, 1e-4);
                }
            }
        }
        // accumulate in place over a K sub-range
        float[] a = TestArrays.normal(rng, 8 * 9, 1.0), bm = TestArrays.normal(rng, 9 * 2 * L, 1.0);
        float[] out = TestArrays.normal(rng, 8 * 2 * L, 1.0), expected = out.clone();
        for (int r = 0; r < 8; r++) {
            for (int c = 0; c < 2 * L; c++) {
                for (int kk = 3; kk < 7; kk++) expected[r * 2 * L + c] += a[r * 9 + kk] * bm[kk * 2 * L + c];
            }
        }
        SsdGemm.mm(out, 0, 2 * L, 1f, out, 0, 2 * L, a, 0, 9, 1, bm, 0, 2 * L, 8, 2 * L, 3, 7);
        TestArrays.assertClose("mm in place, k in [3, 7)", expected, out, 1e-5, 1e-5);
    }

    /**
     * L (running product of the decays, 1 on the diagonal, 0 above, entries below 1e−30 flushed),
     * M = CB ∘ L ∘ Δ_j and the last row, against the same products taken with scalars in the same
     * order (so bit for bit), for lengths around the vector length and mild to strong decay.
     */
    @Test
    void decayMatrixMatchesTheScalarRunningProduct() {
        SplittableRandom rng = new SplittableRandom(5);
        // up to 4 vectors the running row is kept in registers, longer rows take the general loop
        for (int len : new int[] {1, 2, 7, L, L + 1, 37, 64, 4 * L - 1, 4 * L, 4 * L + 1, 5 * L + 3}) {
            for (double rate : new double[] {0.05, 3.0}) {
                int lp = SsdChunkOps.roundUp(len), ld = lp + L;
                float[] cb = TestArrays.normal(rng, len * ld, 1.0), delta = new float[lp], decay = new float[lp];
                for (int j = 0; j < len; j++) {
                    delta[j] = (float) (0.1 + rng.nextDouble());
                    decay[j] = (float) Math.exp(-rate * rng.nextDouble());
                }
                float[] m = new float[len * ld], e = new float[len * ld], row = new float[lp];
                java.util.Arrays.fill(m, Float.NaN);
                java.util.Arrays.fill(e, Float.NaN);
                SsdChunkOps.decayMatrix(m, cb, ld, e, row, decay, delta, len);
                float[] ref = new float[lp];
                for (int i = 0; i < len; i++) {
                    for (int j = 0; j < lp; j++) {
                        float r = ref[j] * decay[i];
                        ref[j] = r < 1e-30f ? 0f : r;
                    }
                    ref[i] = 1f;
                    for (int j = 0; j < lp; j++) {
                        float lij = j <= i ? ref[j] : 0f;
                        String at = "len " + len + " rate " + rate + " [" + i + "][" + j + "]";
                        assertEquals(lij, e[i * ld + j], 0f, "L" + at);
                        assertEquals(cb[i * ld + j] * lij * delta[j], m[i * ld + j], 0f, "M" + at);
                    }
                }
                for (int j = 0; j < len; j++) assertEquals(ref[j], row[j], 0f, "last row, len " + len + " [" + j + "]");
            }
        }
    }

    @Test
    void transposesMatchTheNaiveLoop() {
        SplittableRandom rng = new SplittableRandom(4);
        int[][] shapes = {{1, 1}, {L, L}, {2 * L, 3 * L}, {L + 3, 2 * L + 1}, {5, 37}, {64, 64}, {128, 64}, {3 * L - 1, 7}};
        for (int[] sh : shapes) {
            int width = sh[0], len = sh[1], stride = width + 5, ld = SsdChunkOps.roundUp(len) + L, dOff = 3;
            float[] src = TestArrays.normal(rng, 7 + len * stride, 1.0);
            float[] dst = TestArrays.normal(rng, dOff + width * ld, 1.0), expected = dst.clone();
            for (int k = 0; k < width; k++) {
                for (int j = 0; j < SsdChunkOps.roundUp(len); j++) {
                    expected[dOff + k * ld + j] = j < len ? src[7 + j * stride + k] : 0f;
                }
            }
            SsdTranspose.transpose(src, 7, stride, width, len, dst, dOff, ld);
            for (int i = 0; i < dst.length; i++) {
                assertEquals(expected[i], dst[i], 0f, "transpose " + width + "x" + len + " at " + i);
            }
        }
    }
}
