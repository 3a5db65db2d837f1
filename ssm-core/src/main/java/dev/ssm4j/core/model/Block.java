package dev.ssm4j.core.model;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import dev.ssm4j.kernels.conv.CausalConv1d;
import jdk.incubator.vector.FloatVector;

/**
 * One residual block's weights and its mixer computation: {@code x + mixer(RMSNorm(x))}. The
 * block norm and the residual add are done by {@link MambaLM}; a Block maps the normed input u
 * (T, H) to the mixer output (T, H), in parallel over a chunk ({@link #forward}) or one token per
 * row ({@link #step}).
 */
abstract class Block {
    final ModelSpec spec;
    final int index;
    final Vec norm;          // (H)     backbone.layers.{i}.norm.weight
    final Linear inProj;     // (inProjDim, H)
    final Vec inBias;        // (inProjDim) or null
    final Vec convW;         // (convDim, w)  (HF (convDim, 1, w))
    final Vec convB;         // (convDim) or null
    final Vec aLog;          // Mamba-1 (d, n), Mamba-2 (h)
    final Vec dSkip;         // Mamba-1 (d), Mamba-2 (h)
    final Linear outProj;    // (H, d)
    final Vec outBias;       // (H) or null
    /** A = −exp(A_log) computed once when the weights cannot change (loaded checkpoints), else null. */
    private final float[] aFixed;

    Block(ModelSpec spec, int index, Weights w) {
        this.spec = spec;
        this.index = index;
        String p = ParameterLayout.layerPrefix(index), m = p + "mixer.";
        norm = w.vec(p + "norm.weight");
        inProj = w.matrix(m + "in_proj.weight");
        inBias = spec.useBias ? w.vec(m + "in_proj.bias") : null;
        convW = w.vec(m + "conv1d.weight");
        convB = spec.useConvBias ? w.vec(m + "conv1d.bias") : null;
        aLog = w.vec(m + "A_log");
        dSkip = w.vec(m + "D");
        outProj = w.matrix(m + "out_proj.weight");
        outBias = spec.useBias ? w.vec(m + "out_proj.bias") : null;
        aFixed = w.mutable() ? null : expNeg(aLog, new float[aLog.n()]);
    }

    /**
     * Parallel mixer over the call's b·l tokens: {@code u} (T, H) → {@code out} (T, H). Reads and
     * updates the call's state rows (if any), honours its mask, records into its activation store.
     */
    abstract void forward(Call c, float[] u, float[] out);

    /** One token per row: {@code u} (b, H) → {@code out} (b, H); updates the call's state rows. */
    abstract void step(Call c, float[] u, float[] out);

    /**
     * A = −exp(A_log): the array computed at load time for fixed weights; for mutable weights (a
     * trainer's flat array) recomputed into {@code scratch} at every call, so it is never stale.
     */
    final float[] computeA(float[] scratch) {
        return aFixed != null ? aFixed : expNeg(aLog, scratch);
    }

    /**
     * out = −exp(v). Vectorised with the kernels' exp (≤ 2 ulp): for a trainer's mutable weights
     * this runs at every call, d·n values per layer (24 576 for mamba-130m), so a scalar
     * Math.exp loop would cost a noticeable share of a decode step.
     */
    private static float[] expNeg(Vec v, float[] out) {
        float[] src = v.a();
        int off = v.off(), n = v.n(), k = 0;
        for (int bound = F.loopBound(n); k < bound; k += F.length()) {
            VectorMath.exp(FloatVector.fromArray(F, src, off + k)).neg().intoArray(out, k);
        }
        for (; k < n; k++) out[k] = -VectorMath.exp(src[off + k]);
        return out;
    }

    /** Bytes of this block's weights as stored. */
    long bytes() {
        long n = 4L * (norm.n() + convW.n() + aLog.n() + dSkip.n());
        if (inBias != null) n += 4L * inBias.n();
        if (convB != null) n += 4L * convB.n();
        if (outBias != null) n += 4L * outBias.n();
        return n + inProj.bytes() + outProj.bytes();
    }

    // ---- causal conv with the call's state rows -------------------------------------------------

    /**
     * Parallel conv + SiLU over the call's tokens: y (T, convDim) dense from x (T, convDim) at
     * (xOff, xStride). Starts from and updates the call's conv state rows; records the initial
     * conv state when recording.
     */
    final void convForward(Call c, float[] y, float[] x, int xOff, int xStride) {
        Workspace ws = c.ws;
        int cd = spec.convDim, w = spec.convWidth, cs = spec.convStateSize;
        float[] wt = convW.denseOr(ws.convW);
        float[] bias = convB == null ? null : convB.denseOr(ws.convB);
        ActivationStore.Layer rec = c.rec(index);
        if (c.state == null) {
            if (rec != null) java.util.Arrays.fill(rec.convState0, 0, c.b * cs, 0f);
            CausalConv1d.forward(y, 0, cd, null, 0, x, xOff, xStride, null, 0, null, wt, bias, true, c.b, c.l, cd, w,
                    c.pool);
            return;
        }
        float[] st = c.state.conv(index);
        if (rec != null) {
            for (int r = 0; r < c.b; r++) System.arraycopy(st, c.stateRow(r) * cs, rec.convState0, r * cs, cs);
        }
        if (c.rowStart >= 0) {
            int so = c.rowStart * cs;
            CausalConv1d.forward(y, 0, cd, st, so, x, xOff, xStride, st, so, null, wt, bias, true, c.b, c.l, cd, w,
                    c.pool);
        } else {
            for (int r = 0; r < c.b; r++) {
                int so = c.stateRow(r) * cs;
                CausalConv1d.forward(y, r * c.l * cd, cd, st, so, x, xOff + r * c.l * xStride, xStride, st, so, null,
                        wt, bias, true, 1, c.l, cd, w, c.pool);
            }
        }
    }

    /** Conv step + SiLU for one token per row: y (b, convDim) dense from x (b, ·) at (xOff, xStride). */
    final void convStep(Call c, float[] y, float[] x, int xOff, int xStride) {
        Workspace ws = c.ws;
        int cd = spec.convDim, w = spec.convWidth, cs = spec.convStateSize;
        float[] wt = convW.denseOr(ws.convW);
        float[] bias = convB == null ? null : convB.denseOr(ws.convB);
        float[] st = c.state.conv(index);
        if (c.rowStart >= 0) {
            CausalConv1d.step(y, 0, cd, st, c.rowStart * cs, x, xOff, xStride, wt, bias, true, c.b, cd, w);
        } else {
            for (int r = 0; r < c.b; r++) {
                CausalConv1d.step(y, r * cd, cd, st, c.stateRow(r) * cs, x, xOff + r * xStride, xStride, wt, bias,
                        true, 1, cd, w);
            }
        }
    }
}
