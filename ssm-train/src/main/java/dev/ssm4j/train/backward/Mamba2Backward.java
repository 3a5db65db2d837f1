package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.norm.GatedRmsNorm;
import dev.ssm4j.kernels.ssd.Ssd;
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
 * <p>The SSD gradient comes from the ssd kernel ({@link Ssd#backward}), which takes the raw dt and
 * applies dt_bias, softplus and the time_step_limit clamp itself, so its dt gradient lands directly
 * in the dt columns of dzxbcdt and its x/B/C gradients in the xBC columns of the conv gradient.
 * A = −exp(A_log) per head, so dA_log = dA·A.
 */
final class Mamba2Backward {
    private Mamba2Backward() {}

    /** Arguments as {@link Mamba1Backward#backward}. */
    static void backward(ModelSpec s, ActivationStore.Layer rec, ParamIndex.Layer p, float[] params, float[] grads,
                         Scratch sc, float[] dx, int b, int l, int[] mask, float[] dConvFinal, float[] dConvInit,
                         float[] dSsmFinal, float[] dSsmInit, ForkJoinPool pool) {
        int T = b * l, H = s.hidden, d = s.dInner, n = s.dState, P = s.inProjDim, cd = s.convDim;
        int h = s.heads, gn = s.groups * n, dtCol = d + cd;

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

        // SSD (the ssd kernel; it recomputes what it needs from x, dt, B, C and the initial state).
        for (int hi = 0; hi < h; hi++) {
            sc.a[hi] = (float) -Math.exp(params[p.aLog + hi]);
            sc.m2D[hi] = params[p.dSkip + hi];
            sc.m2DeltaBias[hi] = params[p.dtBias + hi];
        }
        Arrays.fill(sc.dconv, 0, T * cd, 0f);
        Arrays.fill(sc.dA, 0f);
        Arrays.fill(sc.m2dD, 0f);
        Arrays.fill(sc.m2dDeltaBias, 0f);
        Ssd.backward(sc.dconv, 0, cd, sc.dproj, dtCol, P, sc.dconv, d, cd, sc.dconv, d + gn, cd,
                sc.dA, sc.m2dD, sc.m2dDeltaBias, dSsmInit, sc.ddt, 0, d, dSsmFinal,
                rec.conv, 0, cd, rec.proj, dtCol, P, rec.conv, d, cd, rec.conv, d + gn, cd,
                rec.ssmState0, null, sc.a, sc.m2D, sc.m2DeltaBias, b, l, sc.ssdConfig, sc.ssdWs, pool);
        for (int hi = 0; hi < h; hi++) {
            grads[p.aLog + hi] += sc.dA[hi] * sc.a[hi];       // A = −exp(A_log): dA_log = dA·A
            grads[p.dSkip + hi] += sc.m2dD[hi];
            grads[p.dtBias + hi] += sc.m2dDeltaBias[hi];
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
