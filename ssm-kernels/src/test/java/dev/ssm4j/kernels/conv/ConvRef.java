package dev.ssm4j.kernels.conv;

import java.util.SplittableRandom;

/** Plain double-precision causal conv1d (contiguous layouts), the reference for the tests. */
final class ConvRef {
    private ConvRef() {}

    /**
     * y (b, l, d) and, when {@code fin != null}, the final state (b, w−1, d) into fin.
     * init (b, w−1, d) or null, bias (d) or null, cu packed boundaries or null.
     */
    static double[] forward(double[] x, double[] init, double[] weight, double[] bias, boolean silu, int[] cu,
                            int b, int l, int d, int w, double[] fin) {
        double[] y = new double[b * l * d];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < l; t++) {
                int seg = segStart(cu, bi, l, t);
                for (int c = 0; c < d; c++) {
                    double s = bias == null ? 0 : bias[c];
                    for (int j = 0; j < w; j++) s += weight[c * w + j] * in(x, init, bi, l, d, w, seg, t - w + 1 + j, c);
                    y[(bi * l + t) * d + c] = silu ? s / (1 + Math.exp(-s)) : s;
                }
            }
            if (fin != null) {
                int last = l == 0 ? 0 : segStart(cu, bi, l, l - 1);
                for (int k = 0; k < w - 1; k++) {
                    for (int c = 0; c < d; c++) {
                        fin[(bi * (w - 1) + k) * d + c] = in(x, init, bi, l, d, w, last, l - (w - 1) + k, c);
                    }
                }
            }
        }
        return y;
    }

    static double in(double[] x, double[] init, int bi, int l, int d, int w, int seg, int p, int c) {
        if (p >= seg) return x[(bi * l + p) * d + c];
        if (p < 0 && seg == 0 && init != null) return init[(bi * (w - 1) + w - 1 + p) * d + c];
        return 0;
    }

    /** Start of the segment holding token t of row bi: the largest boundary ≤ the flat index, clipped to the row. */
    static int segStart(int[] cu, int bi, int l, int t) {
        if (cu == null) return 0;
        int g = bi * l + t, best = 0;
        for (int v : cu) if (v <= g) best = Math.max(best, v);
        return Math.max(0, best - bi * l);
    }

    /** Random packed boundaries over b·l tokens (0 and b·l included, duplicates possible). */
    static int[] randomCu(SplittableRandom rng, int b, int l) {
        int n = 1 + rng.nextInt(4);
        int[] cu = new int[n + 2];
        cu[n + 1] = b * l;
        for (int i = 1; i <= n; i++) cu[i] = rng.nextInt(b * l + 1);
        java.util.Arrays.sort(cu);
        return cu;
    }

    /** Copies a contiguous (rows, cols) block into a new array at {@code off} with row stride {@code stride}, the rest filled with {@code fill}. */
    static float[] spread(float[] a, int rows, int cols, int off, int stride, float fill) {
        float[] out = new float[off + Math.max(0, rows - 1) * stride + cols + 3];
        java.util.Arrays.fill(out, fill);
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * cols, out, off + r * stride, cols);
        return out;
    }

    /** The (rows, cols) block at off/stride as a contiguous array. */
    static float[] gather(float[] a, int rows, int cols, int off, int stride) {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) System.arraycopy(a, off + r * stride, out, r * cols, cols);
        return out;
    }
}
