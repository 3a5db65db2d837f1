package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * SIMD twin of {@link SelectiveScanScalar#backward}: the same gradients, with lanes over
 * channels as in {@link SelectiveScanSimd} and a chunked recompute instead of a stored history.
 *
 * <h2>Plan for one block (batch row, L channels of one group)</h2>
 * <ol>
 *   <li>Checkpoint pass: run the recurrence forward chunk by chunk (T tokens each) and keep the
 *       state at every chunk start: ⌈l/T⌉·n·L floats. Skipped when the forward saved them
 *       ({@link ScanTensors#checkpoints}).</li>
 *   <li>Walk the chunks from last to first. For each, restart from its checkpoint and run the
 *       recurrence again, this time keeping h_t and exp(Δ'_t A) for the T tokens of the chunk
 *       ((T, n, L) floats each, L2-resident) and the gate terms ({@link #gateChunk}); then walk the
 *       chunk's tokens backwards with the adjoint state dh (n·L floats) carried across chunks.</li>
 * </ol>
 * Steps 1 and 2 share one call site of the recompute ({@link #recomputeChunk}), so the vector
 * exp is inlined into exactly one place (see {@link ScanBlocks#softplus} for why that matters).
 * Channels past the last full vector of a group are done one by one by the scalar reference
 * ({@link SelectiveScanScalar#backwardChannel}): masking every load of the walk would double its
 * compiled size and push it over C2's inlining budget.
 *
 * <h2>The walk, per token t and state s (lanes = channels)</h2>
 * With g_t = dy_t·silu(z_t) (the gradient of C_t·h_t + D u_t) and dh = dL/dh_t:
 * <pre>
 *   dh       += g_t C_t[s]                      (the adjoint recurrence: dh arrives as exp(Δ'_{t+1}A) ⊙ dh_{t+1})
 *   dC_t[s]  += Σ_lanes g_t h_t[s]              (a lane reduction: C is shared by the group's channels)
 *   dB_t[s]  += Σ_lanes dh Δ'_t u_t             (likewise)
 *   q         = dh ⊙ exp(Δ'A) h_{t−1} = dh ⊙ (h_t − Δ'_t u_t B_t[s])   (no need to keep h_{t−1})
 *   dA[s]    += q Δ'_t ;  dΔ' += q A[s] + dh B_t[s] u_t ;  du += dh B_t[s] Δ'_t
 *   dh       ← exp(Δ'_t A[s]) ⊙ dh              (0 at a cuSeqlens reset)
 * </pre>
 */
public final class SelectiveScanSimdBackward {
    private SelectiveScanSimdBackward() {}

    private static final int L = F.length();

    /** Tokens per recompute chunk = the checkpoint interval. */
    static final int T = ScanSpec.CHECKPOINT_TOKENS;

    /** Backward: same contract as {@link SelectiveScanScalar#backward}. */
    public static void backward(ScanTensors io, ScanGrads gr, ForkJoinPool pool) {
        io.requireForward();
        gr.requireBackward(io);
        ScanSpec sp = io.spec;
        int dg = sp.channelsPerGroup(), n = sp.stateSize;
        // Per (batch row, group): the full vector blocks, then each remaining channel on its own.
        int full = dg / L, tail = dg - full * L, perGroup = full + tail;
        int tasks = sp.batch * sp.groups * perGroup;
        int chunks = (sp.length + T - 1) / T;
        boolean[] reset = sp.resets();
        GradParts.run(gr, pool, tasks, (sink, start, end) -> {
            Work w = null;
            float[] hist = null, dh = null; // scratch of the scalar tail
            for (int task = start; task < end; task++) {
                int k = task % perGroup, rest = task / perGroup;
                int gi = rest % sp.groups, bi = rest / sp.groups;
                if (k < full) {
                    if (w == null) w = new Work(n, chunks);
                    backwardBlock(io, gr, sink, bi, gi, gi * dg + k * L, reset, w);
                } else {
                    if (hist == null) {
                        hist = new float[(sp.length + 1) * n];
                        dh = new float[n];
                    }
                    SelectiveScanScalar.backwardChannel(io, gr, sink, bi, gi * dg + full * L + (k - full), reset, hist, dh);
                }
            }
        });
    }

    /** Scratch of one part (thread), reused for every block it handles. Shapes in floats. */
    static final class Work {
        final float[] aS, hS, dh, dAacc; // (n, L) each: A, running state, adjoint state, dA partial sums
        final float[] ckpt;              // (chunks, n, L): state before each chunk
        final float[] hist, decay;       // (T, n, L): h_t and exp(Δ'_t A) of the current chunk
        final float[] dtS, dtuS, sigS;   // (T, L): Δ'_t, Δ'_t·u_t and softplus'(Δ_t + Δbias) of the current chunk
        final float[] gS, dzS;           // (T, L): g_t = dy_t·silu(z_t) and dy_t·silu'(z_t) of the current chunk
        final float[] dDacc, dBiasAcc;   // (L): per-lane partial sums of dD and dΔbias

        Work(int n, int chunks) {
            aS = new float[n * L];
            hS = new float[n * L];
            dh = new float[n * L];
            dAacc = new float[n * L];
            ckpt = new float[chunks * n * L];
            hist = new float[T * n * L];
            decay = new float[T * n * L];
            dtS = new float[T * L];
            dtuS = new float[T * L];
            sigS = new float[T * L];
            gS = new float[T * L];
            dzS = new float[T * L];
            dDacc = new float[L];
            dBiasAcc = new float[L];
        }
    }

    private static void backwardBlock(ScanTensors io, ScanGrads gr, GradParts.Sink sink, int bi, int gi, int c0,
            boolean[] reset, Work w) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, nL = n * L, l = sp.length, chunks = (l + T - 1) / T;
        final int width = L;
        ScanBlocks.gather(io, bi, c0, width, w.aS, w.hS);
        System.arraycopy(w.hS, 0, w.ckpt, 0, nL);
        ScanBlocks.gatherState(gr.dFinalState, gr.dFinalStateOff, sp, bi, c0, width, w.dh);
        Arrays.fill(w.dAacc, 0f);
        Arrays.fill(w.dDacc, 0f);
        Arrays.fill(w.dBiasAcc, 0f);
        // it < chunks − 1: checkpoint pass over chunk k = it (the last chunk needs no checkpoint after it);
        // it ≥ chunks − 1: backward over chunk k = 2·chunks − 2 − it, from the last chunk down to 0.
        // With the forward's checkpoints bound, the checkpoint pass is skipped.
        int first = 0;
        if (io.checkpoints != null) {
            for (int k = 0; k < chunks; k++) ScanBlocks.loadCheckpoint(io, bi, k, c0, w.ckpt, k * nL);
            first = chunks - 1;
        }
        for (int it = first; it < 2 * chunks - 1; it++) {
            boolean back = it >= chunks - 1;
            int k = back ? 2 * chunks - 2 - it : it;
            if (back) System.arraycopy(w.ckpt, k * nL, w.hS, 0, nL);
            recomputeChunk(io, bi, gi, c0, k * T, Math.min(l, k * T + T), reset, back, w);
            if (back) gateChunk(io, gr, bi, c0, k * T, Math.min(l, k * T + T), w);
            if (back) walkChunk(io, gr, sink, bi, gi, c0, k * T, Math.min(l, k * T + T), reset, w);
            else System.arraycopy(w.hS, 0, w.ckpt, (k + 1) * nL, nL);
        }
        ScanBlocks.scatterAddState(gr.dh0, gr.dh0Off, sp, bi, c0, width, w.dh);
        if (sink.dA != null) {
            for (int j = 0; j < width; j++) {
                for (int s = 0; s < n; s++) sink.dA[sink.dAOff + (c0 + j) * n + s] += w.dAacc[s * L + j];
            }
        }
        for (int j = 0; j < width; j++) {
            if (sink.dD != null) sink.dD[sink.dDOff + c0 + j] += w.dDacc[j];
            if (sink.dBias != null) sink.dBias[sink.dBiasOff + c0 + j] += w.dBiasAcc[j];
        }
    }

    /**
     * Runs tokens [t0, t1) forward from w.hS (updated in place), keeping (when {@code keep}) h_t
     * in w.hist and exp(Δ'_t A) in w.decay, and Δ'_t, Δ'_t·u_t, softplus' in w.dtS, w.dtuS, w.sigS. The only inlined vector exp of the backward.
     */
    private static void recomputeChunk(ScanTensors io, int bi, int gi, int c0, int t0, int t1, boolean[] reset,
            boolean keep, Work w) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L;
        final float[] Bv = io.B, aS = w.aS, hS = w.hS, hist = w.hist, decayS = w.decay;
        FloatVector bias = io.deltaBias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.deltaBias, io.deltaBiasOff + c0);
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            if (reset != null && reset[t]) Arrays.fill(hS, 0, nL, 0f);
            FloatVector dt = FloatVector.fromArray(F, io.delta, io.deltaOff + row * io.deltaStride + c0).add(bias);
            if (sp.deltaSoftplus) {
                // softplus(x) = max(x, 0) + log1p(e), e = exp(−|x|); its derivative σ(x) from the same e:
                // σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0.
                FloatVector e = dt.abs().neg().lanewise(VectorOperators.EXP);
                FloatVector inv = FloatVector.broadcast(F, 1f).div(e.add(1f));
                inv.blend(e.mul(inv), dt.compare(VectorOperators.LT, 0f)).intoArray(w.sigS, j * L);
                dt = dt.max(0f).add(e.lanewise(VectorOperators.LOG1P));
            }
            FloatVector dtu = dt.mul(FloatVector.fromArray(F, io.u, io.uOff + row * io.uStride + c0));
            dt.intoArray(w.dtS, j * L);
            dtu.intoArray(w.dtuS, j * L);
            int bRow = io.bOff + row * io.bStride + gi * n;
            for (int s = 0; s < n; s++) {
                FloatVector dA = VectorMath.exp(dt.mul(FloatVector.fromArray(F, aS, s * L)));
                FloatVector h = dA.fma(FloatVector.fromArray(F, hS, s * L), dtu.mul(Bv[bRow + s]));
                h.intoArray(hS, s * L);
                if (keep) { // the checkpoint pass needs only the final state of the chunk
                    h.intoArray(hist, j * nL + s * L);
                    dA.intoArray(decayS, j * nL + s * L);
                }
            }
        }
    }

    /**
     * The gate's share of the backward for tokens [t0, t1): g_t = dy_t·silu(z_t), the gradient
     * reaching C_t·h_t + D u_t, and dy_t·silu'(z_t), which times (C_t·h_t + D u_t) is dz_t. Kept
     * out of {@link #walkChunk} so that method's compile stays small (see {@link ScanBlocks#softplus}).
     */
    private static void gateChunk(ScanTensors io, ScanGrads gr, int bi, int c0, int t0, int t1, Work w) {
        int l = io.spec.length;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            FloatVector dy = FloatVector.fromArray(F, gr.dy, gr.dyOff + row * gr.dyStride + c0);
            if (io.z == null) {
                dy.intoArray(w.gS, j * L);
                continue;
            }
            FloatVector z = FloatVector.fromArray(F, io.z, io.zOff + row * io.zStride + c0);
            FloatVector sig = ScanBlocks.sigmoid(z);
            dy.mul(z).mul(sig).intoArray(w.gS, j * L);
            // silu'(z) = σ(z)(1 + z(1 − σ(z)))
            dy.mul(sig.mul(z.mul(sig.neg().add(1f)).add(1f))).intoArray(w.dzS, j * L);
        }
    }

    /** Walks tokens t1−1 … t0 backwards with the adjoint state w.dh (see the class comment). */
    private static void walkChunk(ScanTensors io, ScanGrads gr, GradParts.Sink sink, int bi, int gi, int c0,
            int t0, int t1, boolean[] reset, Work w) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L;
        final float[] Bv = io.B, Cv = io.C, aS = w.aS, dh = w.dh, dAacc = w.dAacc, hist = w.hist, decayS = w.decay;
        final float[] dB = sink.dB, dC = sink.dC;
        FloatVector dSkip = io.D == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.D, io.dOff + c0);
        FloatVector dDacc = FloatVector.fromArray(F, w.dDacc, 0), dBiasAcc = FloatVector.fromArray(F, w.dBiasAcc, 0);
        for (int t = t1 - 1; t >= t0; t--) {
            int row = bi * l + t, j = t - t0;
            FloatVector dt = FloatVector.fromArray(F, w.dtS, j * L), dtu = FloatVector.fromArray(F, w.dtuS, j * L);
            FloatVector negDtu = dtu.neg();
            FloatVector u = FloatVector.fromArray(F, io.u, io.uOff + row * io.uStride + c0);
            FloatVector g = FloatVector.fromArray(F, w.gS, j * L);
            int bRow = io.bOff + row * io.bStride + gi * n, cRow = io.cOff + row * io.cStride + gi * n;
            int dBRow = dB == null ? 0 : sink.dBOff + row * sink.dBStride + gi * n;
            int dCRow = dC == null ? 0 : sink.dCOff + row * sink.dCStride + gi * n;
            FloatVector dDt = FloatVector.zero(F), sumDhB = dDt, ySum = dDt;
            for (int s = 0; s < n; s++) {
                int i = s * L, hi = j * nL + s * L;
                FloatVector bS = FloatVector.broadcast(F, Bv[bRow + s]), cS = FloatVector.broadcast(F, Cv[cRow + s]);
                FloatVector hNow = FloatVector.fromArray(F, hist, hi);
                FloatVector dhv = g.fma(cS, FloatVector.fromArray(F, dh, i));      // dL/dh_t
                if (dC != null) dC[dCRow + s] += VectorMath.sumLanes(g.mul(hNow));
                if (dB != null) dB[dBRow + s] += VectorMath.sumLanes(dhv.mul(dtu));
                FloatVector q = dhv.mul(negDtu.fma(bS, hNow));                     // dh ⊙ exp(Δ'A) h_{t−1}
                q.fma(dt, FloatVector.fromArray(F, dAacc, i)).intoArray(dAacc, i);
                dDt = q.fma(FloatVector.fromArray(F, aS, i), dDt);
                sumDhB = dhv.fma(bS, sumDhB);
                ySum = hNow.fma(cS, ySum);
                dhv.mul(FloatVector.fromArray(F, decayS, hi)).intoArray(dh, i);    // dL/dh_{t−1}
            }
            if (reset != null && reset[t]) Arrays.fill(dh, 0, nL, 0f);
            dDacc = g.fma(u, dDacc);
            if (gr.dz != null) {
                // y = yss·silu(z): dz = dy·silu'(z)·yss.
                FloatVector yss = dSkip.fma(u, ySum);
                addInto(yss.mul(FloatVector.fromArray(F, w.dzS, j * L)), gr.dz, gr.dzOff + row * gr.dzStride + c0);
            }
            if (gr.du != null) {
                addInto(g.mul(dSkip).add(sumDhB.mul(dt)), gr.du, gr.duOff + row * gr.duStride + c0);
            }
            dDt = sumDhB.fma(u, dDt);
            if (sp.deltaSoftplus) dDt = dDt.mul(FloatVector.fromArray(F, w.sigS, j * L)); // softplus' = σ
            if (gr.dDelta != null) addInto(dDt, gr.dDelta, gr.dDeltaOff + row * gr.dDeltaStride + c0);
            dBiasAcc = dBiasAcc.add(dDt);
        }
        dDacc.intoArray(w.dDacc, 0);
        dBiasAcc.intoArray(w.dBiasAcc, 0);
    }

    private static void addInto(FloatVector v, float[] a, int off) {
        FloatVector.fromArray(F, a, off).add(v).intoArray(a, off);
    }
}
