package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.conv.CausalConv1d;
import dev.ssm4j.kernels.norm.RmsNorm;
import dev.ssm4j.kernels.scan.ScanGrads;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScan;

/**
 * Backward pass of one Mamba-1 residual block (Gu &amp; Dao 2023, §3.4 Figure 3; transformers'
 * MambaBlock + MambaMixer). The forward, as ssm-core's {@code Mamba1Block} runs it and records it
 * into the {@link ActivationStore} (T = b·l tokens, names of docs/model.md):
 * <pre>
 *   forward                                           backward (this class, bottom to top)
 *   u    = RMSNorm(x)·w_norm          (T, H)           dx   += RMSNorm'(du);  dw_norm += …       (10)
 *   u    = mask(u)                                      du    = mask(du)                          (9)
 *   xz   = u·W_inᵀ + b_in             (T, 2d)          du    = dxz·W_in;  dW_in += dxzᵀ·u;  db_in += Σ dxz   (8)
 *   xc   = mask(SiLU(conv(x) + b_c))  (T, d)           dx(xz) += conv'(mask(dxc)); dW_c, db_c, d(conv state)  (6, 7)
 *   xdbl = xc·W_xᵀ                    (T, R+2n)        dxc  += dxdbl·W_x;  dW_x += dxdblᵀ·xc                  (5)
 *   dt   = dt_low·W_dtᵀ               (T, d)           ddt_low = ddt·W_dt;  dW_dt += ddtᵀ·dt_low             (4)
 *   y    = scan(xc, dt, A, B, C, D, z, b_dt, h0)       dxc, ddt, dz, dB, dC, dA, dD, db_dt, dh0              (3)
 *   out  = y·W_outᵀ + b_out           (T, H)           dy    = dout·W_out; dW_out += doutᵀ·y; db_out += Σ dout  (2)
 *   x'   = x + out                                      dx (residual) passes through; dout = dx'              (1)
 * </pre>
 * A = −exp(A_log), so dA_log = dA ⊙ A. Every parameter gradient is ACCUMULATED (+=) into the flat
 * gradient array, so a block used several times (or several micro-batches) sums its gradients.
 */
final class Mamba1Backward {
    private Mamba1Backward() {}

    /**
     * @param dx     in: dL/d(block output) (T, H); out: dL/d(block input) (T, H) — in place
     * @param dConvFinal  dL/d(final conv state) (b, w−1, d) or null;  dConvInit += dL/d(initial conv state) or null
     * @param dSsmFinal   dL/d(final SSM state) (b, d, n) or null;      dSsmInit  += dL/d(initial SSM state) or null
     * @param dtPenaltyCoef  0, or the {@link DtPenalty} coefficient λ/(rows·length·d_inner) whose gradient is added
     * @return this layer's {@link DtPenalty} value (0 when the coefficient is 0)
     */
    static double backward(ModelSpec s, ActivationStore.Layer rec, ParamIndex.Layer p, float[] params, float[] grads,
                           Scratch sc, float[] dx, int b, int l, int[] mask, float[] dConvFinal, float[] dConvInit,
                           float[] dSsmFinal, float[] dSsmInit, java.util.concurrent.ForkJoinPool pool,
                           double dtPenaltyCoef, double dtPenaltyFloor) {
        int T = b * l, H = s.hidden, d = s.dInner, n = s.dState, R = s.dtRank, X = s.xProjDim, P = s.inProjDim;
        int w = s.convWidth;

        // (1, 2) out_proj: dy = dx·W_out, dW_out += dxᵀ·y, db_out += Σ dx.
        Matmul.nn(sc.dy, 0, d, dx, 0, H, params, p.outW, d, T, d, H, false, pool);
        Matmul.tn(grads, p.outW, d, dx, 0, H, rec.y, 0, d, H, d, T, true, pool);
        if (p.outB >= 0) Matmul.colSum(grads, p.outB, dx, 0, H, T, H);

        // (3) selective scan.
        for (int k = 0; k < d * n; k++) sc.a[k] = (float) -Math.exp(params[p.aLog + k]);
        java.util.Arrays.fill(sc.dconv, 0, T * d, 0f);
        java.util.Arrays.fill(sc.ddt, 0, T * d, 0f);
        java.util.Arrays.fill(sc.dproj, 0, T * P, 0f);
        java.util.Arrays.fill(sc.dxdbl, 0, T * X, 0f);
        java.util.Arrays.fill(sc.dA, 0, d * n, 0f);
        int slot = sc.scanSlot(b, l);
        ScanTensors io = sc.io(slot)
                .u(rec.conv, 0, d).delta(rec.dt, 0, d).z(rec.proj, d, P)
                .B(rec.xdbl, R, X).C(rec.xdbl, R + n, X)
                .A(sc.a, 0).D(params, p.dSkip).deltaBias(params, p.dtB)
                .h0(rec.ssmState0, 0).finalState(null, 0).y(rec.y, 0, d);
        ScanGrads gr = sc.grads(slot)
                .dy(sc.dy, 0, d).du(sc.dconv, 0, d).dDelta(sc.ddt, 0, d).dz(sc.dproj, d, P)
                .dB(sc.dxdbl, R, X).dC(sc.dxdbl, R + n, X)
                .dA(sc.dA, 0).dD(grads, p.dSkip).dDeltaBias(grads, p.dtB);
        if (dSsmFinal != null) gr.dFinalState(dSsmFinal, 0);
        if (dSsmInit != null) gr.dh0(dSsmInit, 0);
        SelectiveScan.backward(io, gr, pool);
        for (int k = 0; k < d * n; k++) grads[p.aLog + k] += sc.dA[k] * sc.a[k];
        // Optional Δ regulariser: its gradient joins dL/d(dt) before dt_proj's backward, and dL/d(Δ bias).
        double penalty = dtPenaltyCoef > 0 ? DtPenalty.addGradient(rec.dt, params, p.dtB, sc.ddt, grads, T, d, mask,
                dtPenaltyCoef, dtPenaltyFloor) : 0;

        // (4) dt_proj (no bias here: its bias is the scan's Δ bias).
        Matmul.nn(sc.dxdbl, 0, X, sc.ddt, 0, d, params, p.dtW, R, T, R, d, true, pool);
        Matmul.tn(grads, p.dtW, R, sc.ddt, 0, d, rec.xdbl, 0, X, d, R, T, true, pool);

        // (5) x_proj.
        Matmul.nn(sc.dconv, 0, d, sc.dxdbl, 0, X, params, p.xW, d, T, d, X, true, pool);
        Matmul.tn(grads, p.xW, d, sc.dxdbl, 0, X, rec.conv, 0, d, X, d, T, true, pool);

        // (6, 7) mask, then conv + SiLU (recomputes the pre-activation from xz's x half).
        if (mask != null) maskRows(sc.dconv, 0, d, d, mask, T);
        convBackward(s, rec, p, params, grads, sc, b, l, 0, pool, dConvFinal, dConvInit);

        // (8) in_proj.
        Matmul.nn(sc.du, 0, H, sc.dproj, 0, P, params, p.inW, H, T, H, P, false, pool);
        Matmul.tn(grads, p.inW, H, sc.dproj, 0, P, rec.normed, 0, H, P, H, T, true, pool);
        if (p.inB >= 0) Matmul.colSum(grads, p.inB, sc.dproj, 0, P, T, P);

        // (9, 10) mask, block RMSNorm; the residual gradient is already in dx.
        if (mask != null) maskRows(sc.du, 0, H, H, mask, T);
        normBackward(s, rec, p.norm, params, grads, sc, dx, T, pool);
        return penalty;
    }

    /** Conv + SiLU backward for conv inputs at proj[:, xCol : xCol + convDim]; dL/d inputs into dproj. */
    static void convBackward(ModelSpec s, ActivationStore.Layer rec, ParamIndex.Layer p, float[] params, float[] grads,
                             Scratch sc, int b, int l, int xCol, java.util.concurrent.ForkJoinPool pool,
                             float[] dConvFinal, float[] dConvInit) {
        int cd = s.convDim, w = s.convWidth, P = s.inProjDim;
        System.arraycopy(params, p.convW, sc.convW, 0, cd * w);
        java.util.Arrays.fill(sc.dConvW, 0f);
        float[] bias = null, dbias = null;
        if (p.convB >= 0) {
            System.arraycopy(params, p.convB, sc.convB, 0, cd);
            java.util.Arrays.fill(sc.dConvB, 0f);
            bias = sc.convB;
            dbias = sc.dConvB;
        }
        CausalConv1d.backward(sc.dproj, xCol, P, dConvInit, 0, sc.dConvW, dbias, sc.dconv, 0, cd,
                dConvFinal, 0, rec.proj, xCol, P, rec.convState0, 0, null, sc.convW, bias, true, b, l, cd, w, pool);
        for (int k = 0; k < cd * w; k++) grads[p.convW + k] += sc.dConvW[k];
        if (dbias != null) for (int k = 0; k < cd; k++) grads[p.convB + k] += sc.dConvB[k];
    }

    /** Block RMSNorm backward from du: dx += RMSNorm'(du), dw_norm += …. */
    static void normBackward(ModelSpec s, ActivationStore.Layer rec, int normOff, float[] params, float[] grads,
                             Scratch sc, float[] dx, int T, java.util.concurrent.ForkJoinPool pool) {
        int H = s.hidden;
        System.arraycopy(params, normOff, sc.normW, 0, H);
        java.util.Arrays.fill(sc.dNormW, 0f);
        RmsNorm.backward(dx, 0, H, sc.dNormW, sc.du, 0, H, rec.input, 0, H, rec.rstd, sc.normW, T, H, s.eps, pool);
        for (int k = 0; k < H; k++) grads[normOff + k] += sc.dNormW[k];
    }

    /** Zeroes rows t of a (T, ·) buffer where mask[t] == 0. */
    static void maskRows(float[] buf, int off, int stride, int width, int[] mask, int T) {
        for (int t = 0; t < T; t++) {
            if (mask[t] == 0) java.util.Arrays.fill(buf, off + t * stride, off + t * stride + width, 0f);
        }
    }
}
