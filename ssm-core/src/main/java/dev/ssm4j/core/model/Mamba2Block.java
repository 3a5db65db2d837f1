package dev.ssm4j.core.model;

import dev.ssm4j.kernels.norm.GatedRmsNorm;
import dev.ssm4j.kernels.ssd.Ssd;
import dev.ssm4j.kernels.ssd.SsdConfig;

/**
 * Mamba-2 mixer (Dao &amp; Gu 2024, §7 Figure 6, transformers' Mamba2Mixer):
 * <pre>
 *   zxbcdt (T, d + convDim + h) = u·W_inᵀ (+ b_in)     z = [:, :d], xBC = [:, d:d+convDim], dt = [:, d+convDim:]
 *   xBCc   (T, convDim)         = SiLU(causalConv(xBC) + b_conv)          (masked rows zeroed)
 *                                 x = xBCc[:, :d] (h, p), B = [:, d:d+gn] (g, n), C = [:, d+gn:] (g, n)
 *   y      (T, d)               = SSD(x, Δ = clamp(softplus(dt + dt_bias)), A = −exp(A_log), B, C) + D·x
 *   yn     (T, d)               = RMSNorm_group(y·SiLU(z))·w_norm     (group = normGroupSize)
 *   out    (T, H)               = yn·W_outᵀ (+ b_out)
 * </pre>
 */
final class Mamba2Block extends Block {
    final Vec dtBias;     // (h)
    final Vec gnorm;      // (d) mixer.norm.weight
    final SsdConfig ssd;

    Mamba2Block(ModelSpec spec, int index, Weights w) {
        super(spec, index, w);
        String m = ParameterLayout.layerPrefix(index) + "mixer.";
        dtBias = w.vec(m + "dt_bias");
        gnorm = w.vec(m + "norm.weight");
        ssd = SsdConfig.of(spec.heads, spec.headDim, spec.groups, spec.dState).withDtSoftplus(true)
                .withDtLimit(spec.dtMin, spec.dtMax);
    }

    @Override
    void forward(Call c, float[] u, float[] out) {
        Workspace ws = c.ws;
        ActivationStore.Layer rec = c.rec(index);
        int T = c.T, H = spec.hidden, d = spec.dInner, P = spec.inProjDim, cd = spec.convDim;
        int gn = spec.groups * spec.dState, ss = spec.ssmStateSize;
        float[] proj = rec != null ? rec.proj : ws.proj;
        float[] xbc = rec != null ? rec.conv : ws.conv;
        float[] y = rec != null ? rec.y : ws.y;
        float[] yn = rec != null ? rec.gatedOut : ws.yn;
        float[] grstd = rec != null ? rec.gatedRstd : ws.grstd;

        inProj.apply(proj, 0, u, 0, T, inBias, ws.biasScratch, c.pool);
        convForward(c, xbc, proj, d, P);
        c.applyMask(xbc, 0, cd, cd);
        float[] a = computeA(ws.a);
        float[] dv = dSkip.denseOr(ws.vecD), bv = dtBias.denseOr(ws.vecDt);

        // States: the SSD kernel takes dense, exact-length (b, h, p, n) arrays without offsets. When
        // the call covers all rows of the state in order they are used in place (final state into
        // a scratch, then copied back: the kernel does not promise in-place updates); otherwise
        // each row runs alone through a one-row scratch state.
        float[] st = c.state == null ? null : c.state.ssm(index);
        if (c.state == null || (c.rowStart == 0 && c.b == c.state.batch())) {
            float[] fin = st == null ? null : ws.finalScratch(c.b);
            if (rec != null) {
                if (st != null) System.arraycopy(st, 0, rec.ssmState0, 0, c.b * ss);
                else java.util.Arrays.fill(rec.ssmState0, 0, c.b * ss, 0f);
            }
            Ssd.forward(y, 0, d, fin, xbc, 0, cd, proj, d + cd, P, xbc, d, cd, xbc, d + gn, cd, st, null, a, dv, bv,
                    c.b, c.l, ssd, ws.ssdWs, c.pool);
            if (st != null) System.arraycopy(fin, 0, st, 0, c.b * ss);
        } else {
            float[] h0 = ws.rowScratch, fin = ws.rowScratch2;
            for (int r = 0; r < c.b; r++) {
                int so = c.stateRow(r) * ss, t0 = r * c.l;
                System.arraycopy(st, so, h0, 0, ss);
                if (rec != null) System.arraycopy(h0, 0, rec.ssmState0, r * ss, ss);
                Ssd.forward(y, t0 * d, d, fin, xbc, t0 * cd, cd, proj, t0 * P + d + cd, P, xbc, t0 * cd + d, cd, xbc,
                        t0 * cd + d + gn, cd, h0, null, a, dv, bv, 1, c.l, ssd, ws.ssdWs, c.pool);
                System.arraycopy(fin, 0, st, so, ss);
            }
        }
        GatedRmsNorm.forward(yn, 0, d, grstd, y, 0, d, proj, 0, P, gnorm.denseOr(ws.normD), T, d, spec.normGroupSize,
                spec.eps, c.pool);
        outProj.apply(out, 0, yn, 0, T, outBias, ws.biasScratch, c.pool);
    }

    @Override
    void step(Call c, float[] u, float[] out) {
        Workspace ws = c.ws;
        int b = c.b, H = spec.hidden, d = spec.dInner, P = spec.inProjDim, cd = spec.convDim;
        int gn = spec.groups * spec.dState, ss = spec.ssmStateSize;
        inProj.apply(ws.proj, 0, u, 0, b, inBias, ws.biasScratch, c.pool);
        convStep(c, ws.conv, ws.proj, d, P);
        float[] a = computeA(ws.a);
        float[] dv = dSkip.denseOr(ws.vecD), bv = dtBias.denseOr(ws.vecDt);
        float[] st = c.state.ssm(index);
        if (c.rowStart == 0 && b == c.state.batch()) {
            Ssd.step(ws.y, 0, d, st, ws.conv, 0, cd, ws.proj, d + cd, P, ws.conv, d, cd, ws.conv, d + gn, cd, a, dv, bv,
                    b, ssd, c.pool);
        } else {
            float[] s1 = ws.rowScratch;
            for (int r = 0; r < b; r++) {
                int so = c.stateRow(r) * ss;
                System.arraycopy(st, so, s1, 0, ss);
                Ssd.step(ws.y, r * d, d, s1, ws.conv, r * cd, cd, ws.proj, r * P + d + cd, P, ws.conv, r * cd + d, cd,
                        ws.conv, r * cd + d + gn, cd, a, dv, bv, 1, ssd, c.pool);
                System.arraycopy(s1, 0, st, so, ss);
            }
        }
        GatedRmsNorm.forward(ws.yn, 0, d, ws.grstd, ws.y, 0, d, ws.proj, 0, P, gnorm.denseOr(ws.normD), b, d,
                spec.normGroupSize, spec.eps, c.pool);
        outProj.apply(out, 0, ws.yn, 0, b, outBias, ws.biasScratch, c.pool);
    }
}
