package dev.ssm4j.kernels.scan;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A random selective-scan problem for tests: inputs in float, bound either densely or, with
 * {@code strided}, model-like (u and z interleaved as [pad | u | z | pad] rows, B and C as
 * [pad | B | C | pad] rows, every other tensor at a non-zero offset), plus a plain double-precision
 * forward over the same arrays for finite differences.
 */
final class ScanCase {
    /** Optional inputs. */
    static final int D = 1, Z = 2, BIAS = 4, SOFTPLUS = 8, H0 = 16, FINAL = 32, STRIDED = 64, ALL = 127;

    final ScanSpec spec;
    final int opts;
    final int b, l, d, n, g;
    // Inputs. u and z may share one array (strided), and so may B and C.
    final float[] uArr, zArr, deltaArr, bArr, cArr, aArr, dArr, biasArr, h0Arr;
    final int uOff, uStr, zOff, zStr, deltaOff, deltaStr, bOff, bStr, cOff, cStr, aOff, dOff, biasOff, h0Off;
    // Outputs' layout.
    final int yOff, yStr, finalOff;

    ScanCase(long seed, int b, int l, int d, int n, int g, int opts, int[] cu) {
        this.b = b; this.l = l; this.d = d; this.n = n; this.g = g; this.opts = opts;
        ScanSpec sp = ScanSpec.of(b, l, d, n).groups(g).deltaSoftplus(has(SOFTPLUS));
        if (cu != null) sp = sp.cuSeqlens(cu);
        spec = sp;
        SplittableRandom rng = new SplittableRandom(seed);
        boolean st = has(STRIDED);
        int tokens = b * l, gn = g * n;
        if (st) {
            uStr = zStr = 2 * d + 3; uOff = 1; zOff = 1 + d;
            uArr = TestArrays.normal(rng, 1 + tokens * uStr, 1.0);
            zArr = uArr;
            bStr = cStr = 3 + 2 * gn + 1; bOff = 3; cOff = 3 + gn;
            bArr = TestArrays.normal(rng, 3 + tokens * bStr, 1.0);
            cArr = bArr;
            deltaStr = d + 1; deltaOff = 2;
            yStr = d + 2; yOff = 1;
            aOff = 3; dOff = 2; biasOff = 1; h0Off = 4; finalOff = 3;
        } else {
            uStr = zStr = deltaStr = yStr = d; uOff = zOff = deltaOff = yOff = 0;
            bStr = cStr = gn; bOff = cOff = 0;
            uArr = TestArrays.normal(rng, tokens * d, 1.0);
            zArr = has(Z) ? TestArrays.normal(rng, tokens * d, 1.0) : null;
            bArr = TestArrays.normal(rng, tokens * gn, 1.0);
            cArr = TestArrays.normal(rng, tokens * gn, 1.0);
            aOff = dOff = biasOff = h0Off = finalOff = 0;
        }
        // Δ: around 0 before softplus (Δ' ≈ 0.3–1.3); small and positive without it.
        deltaArr = has(SOFTPLUS) ? TestArrays.normal(rng, deltaOff + tokens * deltaStr, 1.0)
                : TestArrays.uniform(rng, deltaOff + tokens * deltaStr, 0.02, 0.4);
        aArr = TestArrays.uniform(rng, aOff + d * n, -2.0, -0.1);
        dArr = TestArrays.normal(rng, dOff + d, 1.0);
        biasArr = has(SOFTPLUS) ? TestArrays.uniform(rng, biasOff + d, -1.0, 0.5)
                : TestArrays.uniform(rng, biasOff + d, 0.0, 0.1);
        h0Arr = TestArrays.normal(rng, h0Off + b * d * n, 1.0);
    }

    boolean has(int opt) {
        return (opts & opt) != 0;
    }

    int yLength() {
        return yOff + b * l * yStr;
    }

    int stateLength() {
        return finalOff + b * d * n;
    }

    /** Binds the inputs, y and (with FINAL) the final state. */
    ScanTensors bind(float[] y, float[] finalState) {
        ScanTensors io = new ScanTensors(spec)
                .u(uArr, uOff, uStr).delta(deltaArr, deltaOff, deltaStr)
                .B(bArr, bOff, bStr).C(cArr, cOff, cStr).A(aArr, aOff).y(y, yOff, yStr);
        if (has(D)) io.D(dArr, dOff);
        if (has(Z)) io.z(zArr, zOff, zStr);
        if (has(BIAS)) io.deltaBias(biasArr, biasOff);
        if (has(H0)) io.h0(h0Arr, h0Off);
        if (has(FINAL)) io.finalState(finalState, finalOff);
        return io;
    }

    /** The distinct input arrays (shared ones once), for finite differences. */
    List<float[]> inputArrays() {
        IdentityHashMap<float[], Boolean> seen = new IdentityHashMap<>();
        List<float[]> out = new java.util.ArrayList<>();
        for (float[] a : new float[][] {uArr, zArr, deltaArr, bArr, cArr, aArr, dArr, biasArr, h0Arr}) {
            if (a != null && seen.put(a, Boolean.TRUE) == null) out.add(a);
        }
        return out;
    }

    /**
     * Plain double-precision forward over the inputs, reading each array through {@code x} (the
     * double copy of each float input array). Writes y into yOut (same layout as y) and the final
     * state into hOut (dense, (b, d, n)).
     */
    void forwardDouble(Map<float[], double[]> x, double[] yOut, double[] hOut) {
        double[] u = x.get(uArr), z = zArr == null ? null : x.get(zArr), dl = x.get(deltaArr), bb = x.get(bArr),
                cc = x.get(cArr), aa = x.get(aArr), dd = x.get(dArr), bias = x.get(biasArr), h0 = x.get(h0Arr);
        boolean[] reset = spec.resets();
        double[] h = new double[n];
        int dg = d / g;
        for (int bi = 0; bi < b; bi++) {
            for (int c = 0; c < d; c++) {
                int gi = c / dg;
                for (int s = 0; s < n; s++) h[s] = has(H0) ? h0[h0Off + (bi * d + c) * n + s] : 0;
                for (int t = 0; t < l; t++) {
                    int row = bi * l + t;
                    if (reset != null && reset[t]) java.util.Arrays.fill(h, 0);
                    double dt = dl[deltaOff + row * deltaStr + c] + (has(BIAS) ? bias[biasOff + c] : 0);
                    if (has(SOFTPLUS)) dt = Math.max(dt, 0) + Math.log1p(Math.exp(-Math.abs(dt)));
                    double uu = u[uOff + row * uStr + c];
                    double y = 0;
                    for (int s = 0; s < n; s++) {
                        h[s] = Math.exp(dt * aa[aOff + c * n + s]) * h[s] + dt * bb[bOff + row * bStr + gi * n + s] * uu;
                        y += cc[cOff + row * cStr + gi * n + s] * h[s];
                    }
                    if (has(D)) y += dd[dOff + c] * uu;
                    if (has(Z)) {
                        double zz = z[zOff + row * zStr + c];
                        y *= zz / (1 + Math.exp(-zz));
                    }
                    yOut[yOff + row * yStr + c] = y;
                }
                for (int s = 0; s < n; s++) hOut[(bi * d + c) * n + s] = h[s];
            }
        }
    }

    /** Double copies of every input array, keyed by the float array. */
    Map<float[], double[]> doubles() {
        Map<float[], double[]> m = new IdentityHashMap<>();
        for (float[] a : inputArrays()) m.put(a, TestArrays.toDouble(a));
        return m;
    }
}
