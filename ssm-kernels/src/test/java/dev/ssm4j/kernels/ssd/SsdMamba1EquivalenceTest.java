package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.testing.TestArrays;
import org.junit.jupiter.api.Test;

/**
 * Mamba-2's SSD is Mamba-1's selective scan with a scalar A per head (paper §3.3 / §7): with
 * per-channel A = A[head] repeated over the p channels and the n states, Δ = dt[head] repeated
 * over p, and B, C shared by the channels of a group, the two recurrences coincide. The selective
 * scan kernel lives elsewhere, so this test writes a small independent Mamba-1-style recurrence in
 * double (channel-major, its own indexing) and checks every SSD implementation against it.
 */
class SsdMamba1EquivalenceTest {

    /**
     * Mamba-1 selective scan, double: u, delta (b, d, l) channel-major as in the reference CUDA
     * kernel, A (d, n), B, C (b, groups, n, l), D (d); delta already softplus'ed; returns y (b, d, l).
     */
    static double[] selectiveScan(int b, int d, int l, int n, int groups, double[] u, double[] delta, double[] a,
                                  double[] bm, double[] cm, double[] dSkip) {
        double[] y = new double[b * d * l];
        int channelsPerGroup = d / groups;
        for (int bi = 0; bi < b; bi++) {
            for (int ch = 0; ch < d; ch++) {
                int gi = ch / channelsPerGroup;
                double[] x = new double[n];
                for (int t = 0; t < l; t++) {
                    double dl = delta[(bi * d + ch) * l + t], uv = u[(bi * d + ch) * l + t], acc = 0;
                    for (int k = 0; k < n; k++) {
                        double bv = bm[((bi * groups + gi) * n + k) * l + t], cv = cm[((bi * groups + gi) * n + k) * l + t];
                        x[k] = Math.exp(dl * a[ch * n + k]) * x[k] + dl * bv * uv;
                        acc += x[k] * cv;
                    }
                    y[(bi * d + ch) * l + t] = acc + dSkip[ch] * uv;
                }
            }
        }
        return y;
    }

    @Test
    void ssdEqualsTheSelectiveScanWithAScalarDecayPerHead() {
        int b = 2, l = 29, h = 4, p = 3, g = 2, n = 5;
        SsdCase c = new SsdCase(2024, b, l, h, p, g, n, 8, true, true, true, false, false, false);
        int d = h * p;
        // lay the SSD inputs out the Mamba-1 way
        double[] u = new double[b * d * l], delta = new double[b * d * l], a = new double[d * n], dSkip = new double[d];
        double[] bm = new double[b * g * n * l], cm = new double[b * g * n * l];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < l; t++) {
                for (int hh = 0; hh < h; hh++) {
                    double dt = SsdCase.effD(c.dt[(bi * l + t) * h + hh] + c.dtBias[hh], true, c.cfg);
                    for (int i = 0; i < p; i++) {
                        int ch = hh * p + i;
                        u[(bi * d + ch) * l + t] = c.x[((bi * l + t) * h + hh) * p + i];
                        delta[(bi * d + ch) * l + t] = dt;
                    }
                }
                for (int gi = 0; gi < g; gi++) {
                    for (int k = 0; k < n; k++) {
                        bm[((bi * g + gi) * n + k) * l + t] = c.bm[((bi * l + t) * g + gi) * n + k];
                        cm[((bi * g + gi) * n + k) * l + t] = c.cm[((bi * l + t) * g + gi) * n + k];
                    }
                }
            }
        }
        for (int ch = 0; ch < d; ch++) {
            dSkip[ch] = c.d[ch / p];
            for (int k = 0; k < n; k++) a[ch * n + k] = c.a[ch / p];
        }
        double[] ym1 = selectiveScan(b, d, l, n, g, u, delta, a, bm, cm, dSkip);
        // back to SSD's (b, l, h, p)
        double[] expected = new double[b * l * d];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < l; t++) {
                for (int ch = 0; ch < d; ch++) expected[(bi * l + t) * d + ch] = ym1[(bi * d + ch) * l + t];
            }
        }
        for (Ssd.Impl impl : new Ssd.Impl[] {Ssd.Impl.SCALAR, Ssd.Impl.RECURRENT, Ssd.Impl.CHUNKED_SCALAR, Ssd.Impl.CHUNKED}) {
            TestArrays.assertClose(impl + " vs selective scan", expected, c.forward(impl, null, null).y(), 2e-4, 2e-3);
        }
    }
}
