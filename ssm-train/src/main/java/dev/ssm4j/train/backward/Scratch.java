package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.kernels.scan.ScanGrads;
import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;
import dev.ssm4j.kernels.ssd.SsdConfig;
import dev.ssm4j.kernels.ssd.SsdWorkspace;

/**
 * Reusable buffers of one backward pass, for up to (batch, maxLen) tokens (T = batch·maxLen). One
 * instance per thread; nothing is allocated per call once the shapes repeat.
 * <pre>
 *   dx      (T, H)          dL/d residual stream (flows from norm_f down to the embeddings)
 *   du      (T, H)          dL/d in_proj input (the block norm's output)
 *   dy      (T, d)          dL/d out_proj input (Mamba-1 scan output; Mamba-2 gated-norm output)
 *   dproj   (T, inProjDim)  dL/d in_proj output
 *   dconv   (T, convDim)    dL/d conv output (post-SiLU)
 *   dxdbl   (T, R + 2n)     Mamba-1 dL/d x_proj output
 *   ddt     (T, d)          Mamba-1 dL/d dt_proj output; Mamba-2 (T, d): dL/d SSD output y
 *   a, dA   (d·n | h)       A = −exp(A_log) and dL/dA of the current layer (Mamba-1 (d, n), Mamba-2 (h))
 *   dense copies of small parameters (the kernels take them without offsets) and their gradients
 * </pre>
 */
final class Scratch {
    final ModelSpec spec;
    final int maxBatch, maxTokens;
    final float[] dx, du, dy, dproj, dconv, dxdbl, ddt;
    final float[] a, dA, convW, dConvW, convB, dConvB, normW, dNormW, gnormW, dGnormW;
    // Mamba-2: per-head dt_bias, D (dense copies) and their gradients; the SSD kernel's config and workspace.
    final float[] m2DeltaBias, m2D, m2dD, m2dDeltaBias;
    final SsdConfig ssdConfig;
    final SsdWorkspace ssdWs;
    private final int[] keyB = new int[4], keyL = new int[4];
    private final ScanTensors[] io = new ScanTensors[4];
    private final ScanGrads[] gr = new ScanGrads[4];
    private int next;

    Scratch(ModelSpec s, int batch, int maxLen) {
        this.spec = s;
        this.maxBatch = batch;
        long t = (long) batch * maxLen;
        if (t * Math.max(s.inProjDim, s.vocab) > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("backward buffers for " + batch + "·" + maxLen + " tokens are too large");
        }
        int T = (int) t;
        this.maxTokens = T;
        boolean m1 = s.kind == ModelSpec.Kind.MAMBA1;
        int d = s.dInner, n = s.dState;
        dx = new float[T * s.hidden];
        du = new float[T * s.hidden];
        dy = new float[T * d];
        dproj = new float[T * s.inProjDim];
        dconv = new float[T * s.convDim];
        dxdbl = m1 ? new float[T * s.xProjDim] : null;
        ddt = new float[T * d];
        a = new float[m1 ? d * n : s.heads];          // A = −exp(A_log): (d, n) or (h)
        dA = new float[m1 ? d * n : s.heads];
        convW = new float[s.convDim * s.convWidth];
        dConvW = new float[s.convDim * s.convWidth];
        convB = new float[s.convDim];
        dConvB = new float[s.convDim];
        normW = new float[s.hidden];
        dNormW = new float[s.hidden];
        gnormW = m1 ? null : new float[d];
        dGnormW = m1 ? null : new float[d];
        m2DeltaBias = m1 ? null : new float[s.heads];
        m2D = m1 ? null : new float[s.heads];
        m2dD = m1 ? null : new float[s.heads];
        m2dDeltaBias = m1 ? null : new float[s.heads];
        ssdConfig = m1 ? null : SsdConfig.of(s.heads, s.headDim, s.groups, s.dState).withDtSoftplus(true)
                .withDtLimit(s.dtMin, s.dtMax);
        ssdWs = m1 ? null : new SsdWorkspace();
    }

    /** Scan argument objects for b rows of l tokens (cached per shape). */
    int scanSlot(int b, int l) {
        for (int i = 0; i < io.length; i++) {
            if (io[i] != null && keyB[i] == b && keyL[i] == l) return i;
        }
        int i = next;
        next = (next + 1) % io.length;
        keyB[i] = b;
        keyL[i] = l;
        ScanSpec sp = ScanSpec.of(b, l, spec.dInner, spec.dState).deltaSoftplus(true);
        io[i] = new ScanTensors(sp);
        gr[i] = new ScanGrads(sp);
        return i;
    }

    ScanTensors io(int slot) {
        return io[slot];
    }

    /** A fresh ScanGrads for the slot's spec (unbound gradients must not linger from an earlier call). */
    ScanGrads grads(int slot) {
        gr[slot] = new ScanGrads(io[slot].spec());
        return gr[slot];
    }
}
