package dev.ssm4j.kernels.conv;

import dev.ssm4j.kernels.testing.FiniteDifference;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Both backward twins vs central finite differences of the double-precision forward. */
class CausalConv1dGradTest {

    @Test
    void backwardMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int w : new int[] {2, 3, 4, 8}) {
            for (int o = 0; o < 32; o++) {
                if ((o & 8) != 0) continue;                 // strides are covered by the twin comparison
                check(new ConvCase(rng, 2, 7, 3, w, o), true);
                check(new ConvCase(rng, 2, 7, 3, w, o), false);
            }
        }
        // w = 4 with full channel vectors (d = 17, 33 > 16 lanes) and l = 12, 20: the SIMD register-ring
        // interior (blocks of 8 tokens, a block boundary inside the row), every option but strides
        for (int o = 0; o < 32; o++) {
            if ((o & 8) != 0) continue;
            check(new ConvCase(rng, 1, 12, 17, 4, o), false);
        }
        check(new ConvCase(rng, 2, 20, 33, 4, 1 | 2 | 4), false);
        check(new ConvCase(rng, 1, 2, 5, 4, 1 | 2 | 4), false); // l < w−1: the final state reaches into the initial one
        check(new ConvCase(rng, 1, 1, 17, 8, 2 | 4), false);
    }

    private static void check(ConvCase k, boolean scalar) {
        int b = k.b, l = k.l, d = k.d, w = k.w;
        int nx = b * l * d, ni = k.state ? b * (w - 1) * d : 0, nw = d * w, nb = k.bias ? d : 0;
        double[] p = new double[nx + ni + nw + nb];
        copy(k.xC, p, 0);
        if (k.state) copy(k.init, p, nx);
        copy(k.weight, p, nx + ni);
        if (k.bias) copy(k.biasV, p, nx + ni + nw);
        double[] dy = TestArrays.toDouble(k.dyC), dFin = k.state ? TestArrays.toDouble(k.dFinal) : null;
        double[] fd = FiniteDifference.gradient(p, 1e-5, q -> {
            double[] fin = k.state ? new double[ni] : null;
            double[] y = ConvRef.forward(Arrays.copyOfRange(q, 0, nx), k.state ? Arrays.copyOfRange(q, nx, nx + ni) : null,
                    Arrays.copyOfRange(q, nx + ni, nx + ni + nw), k.bias ? Arrays.copyOfRange(q, nx + ni + nw, q.length) : null,
                    k.silu, k.cu, b, l, d, w, fin);
            return FiniteDifference.dot(y, dy) + (k.state ? FiniteDifference.dot(fin, dFin) : 0);
        });
        float[][] zero = {ConvRef.spread(new float[nx], b * l, d, k.xOff, k.xStride, 0f), k.state ? new float[ni] : null,
                new float[nw], k.bias ? new float[nb] : null};
        float[][] g = k.backward(scalar, zero, null);
        String what = (scalar ? "scalar " : "simd ") + k.describe();
        TestArrays.assertClose("dx " + what, Arrays.copyOfRange(fd, 0, nx), ConvRef.gather(g[0], b * l, d, k.xOff, k.xStride),
                1e-4, 1e-3);
        if (k.state) TestArrays.assertClose("dInitialState " + what, Arrays.copyOfRange(fd, nx, nx + ni), g[1], 1e-4, 1e-3);
        TestArrays.assertClose("dweight " + what, Arrays.copyOfRange(fd, nx + ni, nx + ni + nw), g[2], 1e-4, 1e-3);
        if (k.bias) TestArrays.assertClose("dbias " + what, Arrays.copyOfRange(fd, nx + ni + nw, p.length), g[3], 1e-4, 1e-3);
    }

    private static void copy(float[] a, double[] p, int at) {
        for (int i = 0; i < a.length; i++) p[at + i] = a[i];
    }
}
