package dev.ssm4j.kernels.conv;

import dev.ssm4j.kernels.testing.TestArrays;
import java.util.SplittableRandom;

/**
 * One randomly filled conv1d problem with a given set of optional inputs. Token tensors live in
 * strided buffers (offset 3, stride d + 5) when {@code strided}, padded with a sentinel value.
 */
final class ConvCase {
    static final float SENTINEL = 7.25f;

    final int b, l, d, w, xOff, xStride, yOff, yStride;
    final boolean bias, silu, state, strided, varlen;
    final float[] x, xC, init, weight, biasV, dy, dyC, dFinal;   // xC, dyC: contiguous copies
    final int[] cu;

    ConvCase(SplittableRandom rng, int b, int l, int d, int w, int opts) {
        this.b = b; this.l = l; this.d = d; this.w = w;
        bias = (opts & 1) != 0;
        silu = (opts & 2) != 0;
        state = (opts & 4) != 0;
        strided = (opts & 8) != 0;
        varlen = (opts & 16) != 0;
        xOff = strided ? 3 : 0;
        xStride = strided ? d + 5 : d;
        yOff = strided ? 2 : 0;
        yStride = strided ? d + 3 : d;
        xC = TestArrays.uniform(rng, b * l * d, -1.5, 1.5);
        x = ConvRef.spread(xC, b * l, d, xOff, xStride, SENTINEL);
        init = state ? TestArrays.uniform(rng, b * (w - 1) * d, -1, 1) : null;
        weight = TestArrays.uniform(rng, d * w, -0.8, 0.8);
        biasV = bias ? TestArrays.uniform(rng, d, -0.5, 0.5) : null;
        dyC = TestArrays.uniform(rng, b * l * d, -1, 1);
        dy = ConvRef.spread(dyC, b * l, d, yOff, yStride, SENTINEL);
        dFinal = state ? TestArrays.uniform(rng, b * (w - 1) * d, -1, 1) : null;
        cu = varlen ? ConvRef.randomCu(rng, b, l) : null;
    }

    String describe() {
        return "b=" + b + " l=" + l + " d=" + d + " w=" + w + (bias ? " bias" : "") + (silu ? " silu" : "")
                + (state ? " state" : "") + (strided ? " strided" : "") + (varlen ? " cu=" + java.util.Arrays.toString(cu) : "");
    }

    float[] newY() {
        return ConvRef.spread(new float[b * l * d], b * l, d, yOff, yStride, SENTINEL);
    }

    float[] newFinal() {
        return state ? new float[b * (w - 1) * d] : null;
    }

    /** Runs the forward of the given twin (true = scalar); returns {y, finalState}. */
    float[][] forward(boolean scalar, java.util.concurrent.ForkJoinPool pool) {
        float[] y = newY(), fin = newFinal();
        if (scalar) {
            CausalConv1dScalar.forward(y, yOff, yStride, fin, 0, x, xOff, xStride, init, 0, cu, weight, biasV, silu,
                    b, l, d, w);
        } else {
            CausalConv1dSimd.forward(y, yOff, yStride, fin, 0, x, xOff, xStride, init, 0, cu, weight, biasV, silu,
                    b, l, d, w, pool);
        }
        return new float[][] {y, fin};
    }

    /** Runs the backward of the given twin on gradients pre-filled with {@code start}: {dx, dInit, dweight, dbias}. */
    float[][] backward(boolean scalar, float[][] start, java.util.concurrent.ForkJoinPool pool) {
        float[] dx = start[0].clone();
        float[] dInit = start[1] == null ? null : start[1].clone();
        float[] dw = start[2].clone();
        float[] db = start[3] == null ? null : start[3].clone();
        if (scalar) {
            CausalConv1dScalar.backward(dx, xOff, xStride, dInit, 0, dw, db, dy, yOff, yStride, dFinal, 0, x, xOff,
                    xStride, init, 0, cu, weight, biasV, silu, b, l, d, w);
        } else {
            CausalConv1dSimdBackward.backward(dx, xOff, xStride, dInit, 0, dw, db, dy, yOff, yStride, dFinal, 0, x,
                    xOff, xStride, init, 0, cu, weight, biasV, silu, b, l, d, w, pool);
        }
        return new float[][] {dx, dInit, dw, db};
    }

    /** Random starting gradients (the backward must add to them). */
    float[][] startGrads(SplittableRandom rng) {
        float[] dx = ConvRef.spread(TestArrays.uniform(rng, b * l * d, -1, 1), b * l, d, xOff, xStride, SENTINEL);
        return new float[][] {dx, state ? TestArrays.uniform(rng, b * (w - 1) * d, -1, 1) : null,
                TestArrays.uniform(rng, d * w, -1, 1), bias ? TestArrays.uniform(rng, d, -1, 1) : null};
    }
}
