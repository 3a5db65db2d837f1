package dev.ssm4j.core.model;

import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.scan.SelectiveScan;

/**
 * Mamba-1 mixer (Gu &amp; Dao 2023, §3.4 Figure 3, transformers' MambaMixer):
 * <pre>
 *   xz   (T, 2d)     = u·W_inᵀ (+ b_in)          x = xz[:, :d], z = xz[:, d:]
 *   xc   (T, d)      = SiLU(causalConv(x) + b_conv)             (masked rows zeroed)
 *   xdbl (T, R+2n)   = xc·W_xᵀ                   [dt_low | B | C]
 *   dt   (T, d)      = dt_low·W_dtᵀ              (dt_proj's bias is the scan's Δ bias)
 *   y    (T, d)      = selectiveScan(xc, Δ = softplus(dt + b_dt), A = −exp(A_log), B, C, D, gate z)
 *   out  (T, H)      = y·W_outᵀ (+ b_out)
 * </pre>
 */
final class Mamba1Block extends Block {
    final Linear xProj;   // (R + 2n, d)
    final Linear dtProj;  // (d, R), always float[] (small; its input is a strided column slice)
    final Vec dtBias;     // (d)

    Mamba1Block(ModelSpec spec, int index, Weights w) {
        super(spec, index, w);
        String m = ParameterLayout.layerPrefix(index) + "mixer.";
        xProj = w.matrix(m + "x_proj.weight");
        dtProj = w.denseMatrix(m + "dt_proj.weight");   // float[]: read with a stride
        dtBias = w.vec(m + "dt_proj.bias");
    }

    @Override
    void forward(Call c, float[] u, float[] out) {
        Workspace ws = c.ws;
        ActivationStore.Layer rec = c.rec(index);
        int T = c.T, H = spec.hidden, d = spec.dInner, R = spec.dtRank, n = spec.dState, P = spec.inProjDim;
        int X = spec.xProjDim;
        float[] proj = rec != null ? rec.proj : ws.proj;
        float[] xc = rec != null ? rec.conv : ws.conv;
        float[] xdbl = rec != null ? rec.xdbl : ws.xdbl;
        float[] dt = rec != null ? rec.dt : ws.dt;
        float[] y = rec != null ? rec.y : ws.y;

        inProj.apply(proj, 0, u, 0, T, inBias, ws.biasScratch, c.pool);
        convForward(c, xc, proj, 0, P);
        c.applyMask(xc, 0, d, d);
        xProj.apply(xdbl, 0, xc, 0, T, null, ws.biasScratch, c.pool);
        dtProj.applyStrided(dt, 0, d, xdbl, 0, X, T, c.pool);  // reads xdbl[:, :R]
        float[] a = computeA(ws.a);

        int ss = spec.ssmStateSize;
        if (c.state != null && rec != null) {
            float[] st = c.state.ssm(index);
            for (int r = 0; r < c.b; r++) System.arraycopy(st, c.stateRow(r) * ss, rec.ssmState0, r * ss, ss);
        } else if (rec != null) {
            java.util.Arrays.fill(rec.ssmState0, 0, c.b * ss, 0f);
        }
        if (c.state == null || c.rowStart >= 0) {
            ScanTensors io = bind(c.ws.calls.scan(c.b, c.l), 0, proj, xc, xdbl, dt, y, a);
            if (c.state != null) {
                float[] st = c.state.ssm(index);
                io.h0(st, c.rowStart * ss).finalState(st, c.rowStart * ss);
            } else {
                io.h0(null, 0).finalState(null, 0);
            }
            io.checkpoints(rec == null ? null : rec.scanCheckpoints, 0);
            SelectiveScan.forward(io, c.pool);
        } else {
            ScanTensors io = c.ws.calls.scan(1, c.l);
            float[] st = c.state.ssm(index);
            for (int r = 0; r < c.b; r++) {
                bind(io, r * c.l, proj, xc, xdbl, dt, y, a);
                io.h0(st, c.stateRow(r) * ss).finalState(st, c.stateRow(r) * ss);
                io.checkpoints(rec == null ? null : rec.scanCheckpoints, r * io.spec().checkpointFloats());
                SelectiveScan.forward(io, c.pool);
            }
        }
        outProj.apply(out, 0, y, 0, T, outBias, ws.biasScratch, c.pool);
    }

    /** Binds the per-token tensors starting at token {@code t0} (a row start) and the weights. */
    private ScanTensors bind(ScanTensors io, int t0, float[] proj, float[] xc, float[] xdbl, float[] dt, float[] y,
                             float[] a) {
        int d = spec.dInner, R = spec.dtRank, n = spec.dState, P = spec.inProjDim, X = spec.xProjDim;
        return io.u(xc, t0 * d, d).delta(dt, t0 * d, d).z(proj, t0 * P + d, P)
                .B(xdbl, t0 * X + R, X).C(xdbl, t0 * X + R + n, X)
                .A(a, 0).D(dSkip.a(), dSkip.off()).deltaBias(dtBias.a(), dtBias.off())
                .y(y, t0 * d, d);
    }

    @Override
    void step(Call c, float[] u, float[] out) {
        Workspace ws = c.ws;
        int b = c.b, H = spec.hidden, d = spec.dInner, P = spec.inProjDim, X = spec.xProjDim;
        inProj.apply(ws.proj, 0, u, 0, b, inBias, ws.biasScratch, c.pool);
        convStep(c, ws.conv, ws.proj, 0, P);
        xProj.apply(ws.xdbl, 0, ws.conv, 0, b, null, ws.biasScratch, c.pool);
        dtProj.applyStrided(ws.dt, 0, d, ws.xdbl, 0, X, b, c.pool);
        float[] a = computeA(ws.a);
        int ss = spec.ssmStateSize;
        float[] st = c.state.ssm(index);
        if (c.rowStart >= 0) {
            // Bound once per (workspace, layer, b): the same buffers and weights at every token.
            ScanTensors io = ws.calls.boundStep(index, b, this);
            if (io == null) {
                io = bind(ws.calls.newStep(index, b, this), 0, ws.proj, ws.conv, ws.xdbl, ws.dt, ws.y, a);
                io.h0(null, 0).finalState(null, 0).checkpoints(null, 0);
            }
            SelectiveScan.step(io, st, c.rowStart * ss, c.pool);
        } else {
            ScanTensors io = ws.calls.scan(1, 1);
            for (int r = 0; r < b; r++) {
                bind(io, r, ws.proj, ws.conv, ws.xdbl, ws.dt, ws.y, a).h0(null, 0).finalState(null, 0)
                        .checkpoints(null, 0);
                SelectiveScan.step(io, st, c.stateRow(r) * ss, c.pool);
            }
        }
        outProj.apply(out, 0, ws.y, 0, b, outBias, ws.biasScratch, c.pool);
    }
}
