package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.norm.GatedRmsNorm;
import dev.ssm4j.kernels.scan.ScanGrads;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScan;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Backward pass of one Mamba-2 residual block (Dao &amp; Gu 2024, §7 Figure 6; transformers'
 * Mamba2Mixer). The forward, as ssm-core records it (T = b·l; h heads of p channels, d = h·p;
 * g groups of B/C with state n; convDim = d + 2gn):
 * <pre>
 *   forward                                             backward (bottom to top)
 *   u      = mask(RMSNorm(x)·w_norm)     (T, H)          as Mamba-1 (mask, RMSNorm')
 *   zxbcdt = u·W_inᵀ + b_in              (T, d+convDim+h) du = dzxbcdt·W_in; dW_in, db_in
 *   xBC    = mask(SiLU(conv(xBC) + b_c)) (T, convDim)    conv' into dzxbcdt[:, d : d+convDim]
 *   y      = SSD(x, Δ = softplus(dt + dt_bias), A = −exp(A_log) per head, B, C, D, h0)   (T, d)
 *   yn     = gatedRMSNorm(y, z)·w_g      (T, d)          dy, dz (into dzxbcdt[:, 0:d]), dw_g
 *   out    = yn·W_outᵀ + b_out           (T, H)          dyn = dout·W_out; dW_out, db_out
 * </pre>
 *
 * <p>The SSD step's gradient is taken with the Mamba-1 selective-scan kernel, which computes the
 * same recurrence (h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t x_t, y_t = C_t·h_t + D x_t) when every channel
 * c = hi·p + pi of head hi is given the head's Δ, Δ bias, A and D, and B/C groups map channel c to
 * group c / (d/g) = hi / (h/g) (the SSD's head→group rule). The per-channel gradients of Δ, Δ bias,
 * A and D are then summed over the p channels of each head. This is an ADAPTER until the ssd
 * branch's SSD backward lands: it costs d·n exponentials per token instead of h, but is exact.
 * Mamba-2's time_step_limit clamp is not supported here (transformers' default (0, ∞) is a no-op).
 */
final class Mamba2Backward {
    private Mamba2Backward() {}

    /** Arguments as {@link Mamba1Backward#backward}. */
    static void backward(ModelSpec s, ActivationStore.Layer rec, ParamIndex.Layer p, float[] params, float[] grads,
                         Scratch sc, float[] dx, int b, int l, int[] mask, float[] dConvFinal, float[] dConvInit,
                         float[] dSsmFinal, float[] dSsmInit, ForkJoinPool pool) {
        if (s.dtMin > 0f || s.dtMax < Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("Mamba-2 backward: time_step_limit (" + s.dtMin + ", " + s.dtMax
                    + ") is not supported yet (only the default (0, inf))");
        }
        int T = b * l, H = s.hidden, d = s.dInner, n = s.dState, P = s.inProjDim, cd = s.convDim;
        int h = s.heads, hp = s.headDim, gn = s.groups * n, dtCol = d + cd;

        // out_proj: dyn (T, d) = dx·W_out into dy; dW_out += dxᵀ·yn; db_out.
        Matmul.nn(sc.dy, 0, d, dx, 0, H, params, p.outW, d, T, d, H, false, pool);
        Matmul.tn(grads, p.outW, d, dx, 0, H, rec.gatedOut, 0, d, H, d, T, true, pool);
        if (p.outB >= 0) Matmul.colSum(grads, p.outB, dx, 0, H, T, H);

        // gated RMSNorm: dy_ssd → ddt (T, d), dz → dproj[:, 0:d], dw_g.
        Arrays.fill(sc.dproj, 0, T * P, 0f);
        Arrays.fill(sc.ddt, 0, T * d, 0f);
        System.arraycopy(params, p.gnorm, sc.gnormW, 0, d);
        Arrays.fill(sc.dGnormW, 0f);
        GatedRmsNorm.backward(sc.ddt, 0, d, sc.dproj, 0, P, sc.dGnormW, sc.dy, 0, d, rec.y, 0, d, rec.proj, 0, P,
                rec.gatedRstd, sc.gnormW, T, d, s.normGroupSize, s.eps, pool);
        for (int k = 0; k < d; k++) grads[p.gnorm + k] += sc.dGnormW[k];

        // SSD via the per-channel scan: expand the per-head Δ, Δ bias, A, D to channels.
        for (int t = 0; t < T; t++) {
            int src = t * P + dtCol, dst = t * d;
            for (int hi = 0; hi < h; hi++) Arrays.fill(sc.m2dt, dst + hi * hp, dst + hi * hp + hp, rec.proj[src + hi]);
        }
        for (int c = 0; c < d; c++) {
            int hi = c / hp;
            sc.m2DeltaBias[c] = params[p.dtBias + hi];
            sc.m2D[c] = params[p.dSkip + hi];
            Arrays.fill(sc.a, c * n, c * n + n, (float) -Math.exp(params[p.aLog + hi]));
        }
        Arrays.fill(sc.dconv, 0, T * cd, 0f);
        Arrays.fill(sc.m2ddt, 0, T * d, 0f);
        Arrays.fill(sc.dA, 0f);
        Arrays.fill(sc.m2dD, 0f);
        Arrays.fill(sc.m2dDeltaBias, 0f);
        int slot = sc.scanSlot(b, l);
        ScanTensors io = sc.io(slot)
                .u(rec.conv, 0, cd).delta(sc.m2dt, 0, d).z(null, 0, d)
                .B(rec.conv, d, cd).C(rec.conv, d + gn, cd)
                .A(sc.a, 0).D(sc.m2D, 0).deltaBias(sc.m2DeltaBias, 0)
                .h0(rec.ssmState0, 0).finalState(null, 0).y(rec.y, 0, d);
        ScanGrads gr = sc.grads(slot)
                .dy(sc.ddt, 0, d).du(sc.dconv, 0, cd).dDelta(sc.m2ddt, 0, d)
                .dB(sc.dconv, d, cd).dC(sc.dconv, d + gn, cd)
                .dA(sc.dA, 0).dD(sc.m2dD, 0).dDeltaBias(sc.m2dDeltaBias, 0);
        if (dSsmFinal != null) gr.dFinalState(dSsmFinal, 0);
        if (dSsmInit != null) gr.dh0(dSsmInit, 0);
        SelectiveScan.backward(io, gr, pool);
        // Sum the channel gradients over each head's p channels.
        for (int t = 0; t < T; t++) {
            int src = t * d, dst = t * P + dtCol;
            for (int hi = 0; hi < h; hi++) {
                float acc = 0;
                for (int k = 0; k < hp; k++) acc += sc.m2ddt[src + hi * hp + k];
                sc.dproj[dst + hi] += acc;
            }
        }
        for (int hi = 0; hi < h; hi++) {
            double dA = 0, dD = 0, dB = 0;
            for (int c = hi * hp; c < hi * hp + hp; c++) {
                for (int k = 0; k < n; k++) dA += sc.dA[c * n + k];
                dD += sc.m2dD[c];
                dB += sc.m2dDeltaBias[c];
            }
            grads[p.aLog + hi] += (float) (dA * sc.a[hi * hp * n]);
            grads[p.dSkip + hi] += (float) dD;
            grads[p.dtBias + hi] += (float) dB;
        }

        // mask, conv + SiLU over the xBC slice.
        if (mask != null) Mamba1Backward.maskRows(sc.dconv, 0, cd, cd, mask, T);
        Mamba1Backward.convBackward(s, rec, p, params, grads, sc, b, l, d, pool, dConvFinal, dConvInit);

        // in_proj, mask, block norm.
        Matmul.nn(sc.du, 0, H, sc.dproj, 0, P, params, p.inW, H, T, H, P, false, pool);
        Matmul.tn(grads, p.inW, H, sc.dproj, 0, P, rec.normed, 0, H, P, H, T, true, pool);
        if (p.inB >= 0) Matmul.colSum(grads, p.inB, sc.dproj, 0, P, T, P);
        if (mask != null) Mamba1Backward.maskRows(sc.du, 0, H, H, mask, T);
        Mamba1Backward.normBackward(s, rec, p.norm, params, grads, sc, dx, T, pool);
    }
}
