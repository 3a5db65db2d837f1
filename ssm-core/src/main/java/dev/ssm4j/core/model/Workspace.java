package dev.ssm4j.core.model;

import dev.ssm4j.kernels.ssd.SsdWorkspace;

/**
 * Reusable scratch buffers of a model's forward and step, sized for up to {@code batch} rows of
 * {@code maxLen} tokens (T = batch·maxLen tokens), so repeated calls allocate nothing. One
 * workspace serves one call at a time (not thread-safe; use one per thread).
 *
 * <pre>
 *   h      (T, H)            residual stream
 *   xn     (T, H)            block-norm output (in_proj input); also norm_f's output
 *   rstd   (T)               norm statistics
 *   proj   (T, inProjDim)    in_proj output
 *   conv   (T, convDim)      conv output (after SiLU)
 *   xdbl   (T, R + 2n)       Mamba-1 x_proj output
 *   dt     (T, d)            Mamba-1 dt_proj output
 *   y      (T, d)            scan output
 *   yn     (T, d)            Mamba-2 gated-norm output
 *   grstd  (T, d/groupSize)  Mamba-2 gated-norm statistics
 *   out    (T, H)            out_proj output
 *   last   (batch, H)        last-token rows for Logits.LAST
 *   a      (d·n | h)         A = −exp(A_log) of the current layer
 *   convW  (convDim·w), convB (convDim), vecD, vecDt (h or d), normH (H), normD (d): dense copies
 *          of parameter views (kernels without an offset argument take exact-length arrays);
 *          biasScratch (max(inProjDim, H)) likewise for linear-layer biases
 * </pre>
 */
public final class Workspace {
    final ModelSpec spec;
    final int maxBatch, maxLen, maxTokens;
    final float[] h, xn, rstd, proj, conv, xdbl, dt, y, yn, grstd, out, last, a;
    final float[] convW, convB, vecD, vecDt, normH, normD, biasScratch;
    final float[] rowScratch, rowScratch2;   // Mamba-2: one row's SSM state (h, p, n)
    private float[] finalScratch;             // Mamba-2: (b, h, p, n) final states, exact length
    final SsdWorkspace ssdWs;
    final KernelCalls calls;
    final Call call = new Call(this);

    Workspace(ModelSpec s, int batch, int maxLen) {
        if (batch < 1 || maxLen < 1) {
            throw new IllegalArgumentException("workspace needs batch >= 1 and maxLen >= 1, got (" + batch + ", "
                    + maxLen + ")");
        }
        long t = (long) batch * maxLen;
        if (t * Math.max(s.inProjDim, s.hidden) > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("workspace of " + batch + "·" + maxLen + " tokens is too large");
        }
        this.spec = s;
        this.maxBatch = batch;
        this.maxLen = maxLen;
        int T = (int) t;
        this.maxTokens = T;
        boolean m1 = s.kind == ModelSpec.Kind.MAMBA1;
        h = new float[T * s.hidden];
        xn = new float[T * s.hidden];
        rstd = new float[T];
        proj = new float[T * s.inProjDim];
        conv = new float[T * s.convDim];
        xdbl = m1 ? new float[T * s.xProjDim] : null;
        dt = m1 ? new float[T * s.dInner] : null;
        y = new float[T * s.dInner];
        yn = m1 ? null : new float[T * s.dInner];
        grstd = m1 ? null : new float[T * (s.dInner / s.normGroupSize)];
        out = new float[T * s.hidden];
        last = new float[batch * s.hidden];
        a = new float[m1 ? s.dInner * s.dState : s.heads];
        convW = new float[s.convDim * s.convWidth];
        convB = new float[s.convDim];
        vecD = new float[m1 ? s.dInner : s.heads];
        vecDt = new float[m1 ? s.dInner : s.heads];
        normH = new float[s.hidden];
        normD = new float[s.dInner];
        biasScratch = new float[Math.max(s.inProjDim, s.hidden)];
        rowScratch = m1 ? null : new float[s.ssmStateSize];
        rowScratch2 = m1 ? null : new float[s.ssmStateSize];
        ssdWs = m1 ? null : new SsdWorkspace();
        calls = new KernelCalls(s);
    }

    /**
     * Mamba-2 final-state scratch of exactly b rows (the SSD kernel checks exact lengths):
     * reallocated only when b changes, so repeated calls with one batch size allocate nothing.
     */
    float[] finalScratch(int b) {
        int n = b * spec.ssmStateSize;
        if (finalScratch == null || finalScratch.length != n) finalScratch = new float[n];
        return finalScratch;
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Largest number of rows per call. */
    public int maxBatch() {
        return maxBatch;
    }

    /** Largest number of tokens per row per call. */
    public int maxLen() {
        return maxLen;
    }

    /** Bytes held by the buffers (for memory reports). */
    public long bytes() {
        long n = 0;
        for (float[] f : new float[][] {h, xn, rstd, proj, conv, xdbl, dt, y, yn, grstd, out, last, a, convW, convB,
                vecD, vecDt, normH, normD, biasScratch, rowScratch, rowScratch2, finalScratch}) {
            if (f != null) n += f.length;
        }
        return 4 * n;
    }
}
