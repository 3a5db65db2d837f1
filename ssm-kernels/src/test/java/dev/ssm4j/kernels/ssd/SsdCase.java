package dev.ssm4j.kernels.ssd;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

/**
 * One random SSD problem for the tests: dense inputs (the "logical" tensors), their copies laid
 * out with offsets and token strides as the kernels see them, a double-precision reference
 * recurrence, and helpers that run any {@link Ssd.Impl} and return dense results.
 */
final class SsdCase {
    final int b, l, h, p, g, n;
    final SsdConfig cfg;
    // dense logical tensors
    final float[] x;      // (b, l, h, p)
    final float[] dt;     // (b, l, h)
    final float[] bm;     // (b, l, g, n)
    final float[] cm;     // (b, l, g, n)
    final float[] a;      // (h)
    float[] d;            // (h) or null
    float[] dtBias;       // (h) or null
    float[] h0;           // (b, h, p, n) or null
    int[][] cu;           // or null
    boolean wantFinal = true;
    // layout: offset and token stride of each token-major tensor (same for the gradients)
    final int xOff, xS, dtOff, dtS, bOff, bS, cOff, cS, yOff, yS;

    /** Every option on or off by the flags; strided = pad rows and offsets. */
    SsdCase(long seed, int b, int l, int h, int p, int g, int n, int chunk, boolean withD, boolean withBias,
            boolean softplus, boolean clamp, boolean withH0, boolean strided) {
        this.b = b;
        this.l = l;
        this.h = h;
        this.p = p;
        this.g = g;
        this.n = n;
        SsdConfig c = new SsdConfig(h, p, g, n, chunk, softplus, 0f, Float.POSITIVE_INFINITY);
        if (clamp) c = c.withDtLimit(0.05f, 0.4f);
        this.cfg = c;
        SplittableRandom rng = new SplittableRandom(seed);
        x = TestArrays.normal(rng, b * l * h * p, 1.0);
        bm = TestArrays.normal(rng, b * l * g * n, 1.0 / Math.sqrt(Math.sqrt(n)));
        cm = TestArrays.normal(rng, b * l * g * n, 1.0 / Math.sqrt(Math.sqrt(n)));
        a = TestArrays.uniform(rng, h, -1.5, -0.1);
        d = withD ? TestArrays.normal(rng, h, 1.0) : null;
        dtBias = withBias ? TestArrays.uniform(rng, h, -0.5, 0.5) : null;
        h0 = withH0 ? TestArrays.normal(rng, b * h * p * n, 0.5) : null;
        dt = new float[b * l * h];
        for (int i = 0; i < dt.length; i++) {
            // keep Δ away from the clamp limits so that finite differences do not straddle a kink
            while (true) {
                float raw = softplus ? (float) (-3.5 + 3.0 * rng.nextDouble()) : (float) (0.55 + 0.5 * rng.nextDouble());
                float bias = dtBias == null ? 0f : dtBias[i % h];
                double v = effD(raw + bias, softplus, cfg.withDtLimit(0f, Float.POSITIVE_INFINITY)); // before the clamp
                if (!cfg.clampsDt() || Math.abs(v - cfg.dtMin()) > 2e-3 && Math.abs(v - cfg.dtMax()) > 2e-3) {
                    dt[i] = raw;
                    break;
                }
            }
        }
        int pad = strided ? 3 : 0;
        xOff = pad * 5;
        xS = h * p + pad;
        dtOff = pad * 2;
        dtS = h + pad;
        bOff = pad;
        bS = g * n + pad * 2;
        cOff = pad * 7;
        cS = g * n + pad;
        yOff = pad * 3;
        yS = h * p + pad * 2;
    }

    static double effD(double raw, boolean softplus, SsdConfig cfg) {
        double v = softplus ? Math.max(raw, 0) + Math.log1p(Math.exp(-Math.abs(raw))) : raw;
        if (cfg.clampsDt()) v = Math.min(Math.max(v, cfg.dtMin()), cfg.dtMax());
        return v;
    }

    // ---- layout helpers ----------------------------------------------------------------------

    static float[] spread(float[] dense, int rows, int width, int off, int stride, float fill) {
        float[] out = new float[off + Math.max(0, rows - 1) * stride + width + 2];
        java.util.Arrays.fill(out, fill);
        for (int r = 0; r < rows; r++) System.arraycopy(dense, r * width, out, off + r * stride, width);
        return out;
    }

    static float[] gather(float[] sparse, int rows, int width, int off, int stride) {
        float[] out = new float[rows * width];
        for (int r = 0; r < rows; r++) System.arraycopy(sparse, off + r * stride, out, r * width, width);
        return out;
    }

    record Out(float[] y, float[] fin) {}

    record Grads(float[] dx, float[] ddt, float[] dB, float[] dC, float[] dA, float[] dD, float[] dDtBias,
                 float[] dh0) {}

    Out forward(Ssd.Impl impl, SsdWorkspace ws, ForkJoinPool pool) {
        return forward(impl, cfg, ws, pool);
    }

    Out forward(Ssd.Impl impl, SsdConfig config, SsdWorkspace ws, ForkJoinPool pool) {
        int rows = b * l;
        float[] ys = spread(new float[rows * h * p], rows, h * p, yOff, yS, Float.NaN);
        float[] fin = wantFinal ? new float[b * h * p * n] : null;
        Ssd.forward(impl, ys, yOff, yS, fin,
                spread(x, rows, h * p, xOff, xS, Float.NaN), xOff, xS,
                spread(dt, rows, h, dtOff, dtS, Float.NaN), dtOff, dtS,
                spread(bm, rows, g * n, bOff, bS, Float.NaN), bOff, bS,
                spread(cm, rows, g * n, cOff, cS, Float.NaN), cOff, cS,
                h0 == null ? null : h0.clone(), cu, a, d, dtBias, b, l, config, ws, pool);
        // the padding between rows must be untouched
        for (int r = 0; r + 1 < rows; r++) {
            for (int k = h * p; k < yS; k++) {
                if (!Float.isNaN(ys[yOff + r * yS + k])) throw new AssertionError("y padding overwritten");
            }
        }
        return new Out(gather(ys, rows, h * p, yOff, yS), fin);
    }

    /** Gradients for the given dy (dense) and dFinal; every gradient array starts with 0.25 to check +=. */
    Grads backward(Ssd.Impl impl, float[] dy, float[] dfin, SsdWorkspace ws, ForkJoinPool pool) {
        int rows = b * l;
        float base = 0.25f;
        float[] dx = spread(filled(rows * h * p, base), rows, h * p, xOff, xS, Float.NaN);
        float[] ddt = spread(filled(rows * h, base), rows, h, dtOff, dtS, Float.NaN);
        float[] dB = spread(filled(rows * g * n, base), rows, g * n, bOff, bS, Float.NaN);
        float[] dC = spread(filled(rows * g * n, base), rows, g * n, cOff, cS, Float.NaN);
        float[] dA = filled(h, base), dD = filled(h, base), dBias = filled(h, base);
        float[] dh0 = filled(b * h * p * n, base);
        Ssd.backward(impl, dx, xOff, xS, ddt, dtOff, dtS, dB, bOff, bS, dC, cOff, cS, dA, dD, dBias, dh0,
                spread(dy, rows, h * p, yOff, yS, Float.NaN), yOff, yS, dfin,
                spread(x, rows, h * p, xOff, xS, Float.NaN), xOff, xS,
                spread(dt, rows, h, dtOff, dtS, Float.NaN), dtOff, dtS,
                spread(bm, rows, g * n, bOff, bS, Float.NaN), bOff, bS,
                spread(cm, rows, g * n, cOff, cS, Float.NaN), cOff, cS,
                h0, cu, a, d, dtBias, b, l, cfg, ws, pool);
        return new Grads(minus(gather(dx, rows, h * p, xOff, xS), base), minus(gather(ddt, rows, h, dtOff, dtS), base),
                minus(gather(dB, rows, g * n, bOff, bS), base), minus(gather(dC, rows, g * n, cOff, cS), base),
                minus(dA, base), minus(dD, base), minus(dBias, base), minus(dh0, base));
    }

    static float[] filled(int len, float v) {
        float[] a = new float[len];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static float[] minus(float[] a, float v) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i] - v;
        return o;
    }

    // ---- double-precision reference ----------------------------------------------------------

    /** All inputs in double, dense; null for absent optional ones. */
    record Inputs(double[] x, double[] dt, double[] a, double[] bm, double[] cm, double[] d, double[] bias,
                  double[] h0) {}

    Inputs inputs() {
        return new Inputs(TestArrays.toDouble(x), TestArrays.toDouble(dt), TestArrays.toDouble(a),
                TestArrays.toDouble(bm), TestArrays.toDouble(cm), d == null ? null : TestArrays.toDouble(d),
                dtBias == null ? null : TestArrays.toDouble(dtBias), h0 == null ? null : TestArrays.toDouble(h0));
    }

    /** The plain recurrence in double: returns {y (b,l,h,p), final state (b,h,p,n)}. */
    double[][] reference(Inputs in) {
        double[] y = new double[b * l * h * p], fin = new double[b * h * p * n];
        double[] st = new double[p * n];
        int hpg = h / g;
        for (int bi = 0; bi < b; bi++) {
            int[] cut = cu == null || cu[bi] == null ? new int[] {0, l} : cu[bi];
            for (int hh = 0; hh < h; hh++) {
                int gi = hh / hpg;
                for (int s = 0; s + 1 < cut.length; s++) {
                    for (int e = 0; e < p * n; e++) st[e] = s == 0 && in.h0 != null ? in.h0[(bi * h + hh) * p * n + e] : 0;
                    for (int t = cut[s]; t < cut[s + 1]; t++) {
                        int row = bi * l + t;
                        double delta = effD(in.dt[row * h + hh] + (in.bias == null ? 0 : in.bias[hh]),
                                cfg.dtSoftplus(), cfg);
                        double decay = Math.exp(delta * in.a[hh]);
                        for (int i = 0; i < p; i++) {
                            double xv = in.x[(row * h + hh) * p + i], acc = 0;
                            for (int k = 0; k < n; k++) {
                                double v = decay * st[i * n + k] + delta * xv * in.bm[(row * g + gi) * n + k];
                                st[i * n + k] = v;
                                acc += v * in.cm[(row * g + gi) * n + k];
                            }
                            y[(row * h + hh) * p + i] = acc + (in.d == null ? 0 : in.d[hh]) * xv;
                        }
                    }
                }
                System.arraycopy(st, 0, fin, (bi * h + hh) * p * n, p * n);
            }
        }
        return new double[][] {y, fin};
    }

    /** L = Σ y·dy + Σ final·dFinal in double. */
    double loss(Inputs in, double[] dy, double[] dfin) {
        double[][] r = reference(in);
        double s = 0;
        for (int i = 0; i < dy.length; i++) s += r[0][i] * dy[i];
        if (dfin != null) for (int i = 0; i < dfin.length; i++) s += r[1][i] * dfin[i];
        return s;
    }
}
