package dev.ssm4j.kernels.scan;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.concurrent.ForkJoinPool;

/**
 * The selective scan written to be read: the scalar reference twin of {@link SelectiveScanSimd}
 * (Gu &amp; Dao 2023, "Mamba", Algorithm 2 and §3.5). Every (batch row, channel) pair is an
 * independent linear recurrence over time with an n-dimensional state:
 * <pre>
 *   Δ'_t  = softplus(Δ_t + Δbias)          (or Δ_t + Δbias without softplus)
 *   h_t   = exp(Δ'_t A) ⊙ h_{t−1} + Δ'_t B_t u_t      h_{−1} = h0 (or 0); h = 0 again at cuSeqlens boundaries
 *   y_t   = (C_t · h_t + D u_t) · silu(z_t)           (the gate only when z is given)
 * </pre>
 * Shapes and layouts: see {@link ScanTensors}. Multithreaded over (batch row × channel) on the
 * caller's pool (null = calling thread); fp32 state and sums.
 */
public final class SelectiveScanScalar {
    private SelectiveScanScalar() {}

    /** Forward: writes y (b, l, d) and, if bound, the final state (b, d, n). */
    public static void forward(ScanTensors io, ForkJoinPool pool) {
        io.requireForward();
        ScanSpec sp = io.spec;
        int d = sp.channels, n = sp.stateSize;
        boolean[] reset = sp.resets();
        Parallel.forRange(pool, sp.batch * d, 64, (start, end) -> {
            float[] h = new float[n]; // (n) state of one channel
            for (int task = start; task < end; task++) {
                forwardChannel(io, task / d, task % d, reset, h);
            }
        });
    }

    /** One (batch row bi, channel c) recurrence over all l tokens; also the tail of the SIMD forward. h: (n) scratch. */
    static void forwardChannel(ScanTensors io, int bi, int c, boolean[] reset, float[] h) {
        ScanSpec sp = io.spec;
        int l = sp.length, d = sp.channels, n = sp.stateSize;
        int gi = c / sp.channelsPerGroup(); // the B/C group of this channel
        int stateAt = (bi * d + c) * n;     // (bi, c, 0) in the (b, d, n) state layout
        for (int s = 0; s < n; s++) h[s] = io.h0 == null ? 0f : io.h0[io.h0Off + stateAt + s];
        float bias = io.deltaBias == null ? 0f : io.deltaBias[io.deltaBiasOff + c];
        float dSkip = io.D == null ? 0f : io.D[io.dOff + c];
        int aRow = io.aOff + c * n; // A[c, :]
        for (int t = 0; t < l; t++) {
            int row = bi * l + t; // token row in every (b, l, ·) tensor
            if (io.checkpoints != null && t % ScanSpec.CHECKPOINT_TOKENS == 0) {
                int k = t / ScanSpec.CHECKPOINT_TOKENS; // checkpoint (bi, k, c, ·): the state before token t
                System.arraycopy(h, 0, io.checkpoints, io.checkpointsOff + ((bi * sp.checkpointsPerRow() + k) * d + c) * n, n);
            }
            if (reset != null && reset[t]) java.util.Arrays.fill(h, 0f);
            float dt = io.delta[io.deltaOff + row * io.deltaStride + c] + bias;
            if (sp.deltaSoftplus) dt = VectorMath.softplus(dt);
            float u = io.u[io.uOff + row * io.uStride + c];
            int bRow = io.bOff + row * io.bStride + gi * n; // B[bi, t, gi, :]
            int cRow = io.cOff + row * io.cStride + gi * n; // C[bi, t, gi, :]
            float y = 0f;
            for (int s = 0; s < n; s++) {
                float decay = VectorMath.exp(dt * io.A[aRow + s]); // Ā = exp(Δ A)
                h[s] = decay * h[s] + dt * io.B[bRow + s] * u;      // B̄ u ≈ Δ B u
                y += io.C[cRow + s] * h[s];
            }
            y += dSkip * u;
            if (io.z != null) y *= VectorMath.silu(io.z[io.zOff + row * io.zStride + c]);
            io.y[io.yOff + row * io.yStride + c] = y;
        }
        if (io.finalState != null) {
            for (int s = 0; s < n; s++) io.finalState[io.finalStateOff + stateAt + s] = h[s];
        }
    }

    /**
     * Backward: ACCUMULATES (+=) every bound gradient of {@code gr} from dy and, if bound,
     * dFinalState. The reference keeps the whole state history of one channel ((l+1) × n floats
     * per thread) instead of the chunked recompute of the SIMD twin, and so does not need the
     * checkpoints (it ignores them).
     */
    public static void backward(ScanTensors io, ScanGrads gr, ForkJoinPool pool) {
        io.requireForward();
        gr.requireBackward(io);
        ScanSpec sp = io.spec;
        int d = sp.channels, n = sp.stateSize, l = sp.length;
        boolean[] reset = sp.resets();
        GradParts.run(gr, pool, sp.batch * d, (sink, start, end) -> {
            float[] hist = new float[(l + 1) * n]; // hist[(t+1)·n + s] = h_t[s]; hist[0..n) = initial state
            float[] dh = new float[n];             // dL/dh_t carried backwards
            for (int task = start; task < end; task++) {
                backwardChannel(io, gr, sink, task / d, task % d, reset, hist, dh);
            }
        });
    }

    /** One (batch row, channel): also the tail of the SIMD backward. hist (l+1)·n and dh (n) are scratch. */
    static void backwardChannel(ScanTensors io, ScanGrads gr, GradParts.Sink sink, int bi, int c,
            boolean[] reset, float[] hist, float[] dh) {
        ScanSpec sp = io.spec;
        int l = sp.length, d = sp.channels, n = sp.stateSize;
        int gi = c / sp.channelsPerGroup();
        int stateAt = (bi * d + c) * n;
        float bias = io.deltaBias == null ? 0f : io.deltaBias[io.deltaBiasOff + c];
        float dSkip = io.D == null ? 0f : io.D[io.dOff + c];
        int aRow = io.aOff + c * n;

        // 1. Forward again, keeping every state: hist[(t+1)·n + s] = h_t[s].
        for (int s = 0; s < n; s++) hist[s] = io.h0 == null ? 0f : io.h0[io.h0Off + stateAt + s];
        for (int t = 0; t < l; t++) {
            int row = bi * l + t;
            float dt = delta(io, row, c, bias);
            float u = io.u[io.uOff + row * io.uStride + c];
            int bRow = io.bOff + row * io.bStride + gi * n;
            boolean fresh = reset != null && reset[t];
            for (int s = 0; s < n; s++) {
                float prev = fresh ? 0f : hist[t * n + s];
                hist[(t + 1) * n + s] = VectorMath.exp(dt * io.A[aRow + s]) * prev + dt * io.B[bRow + s] * u;
            }
        }

        // 2. Walk back. dh holds dL/dh_t: the direct term C_t·g_t plus exp(Δ'_{t+1} A) ⊙ dh_{t+1}.
        for (int s = 0; s < n; s++) dh[s] = gr.dFinalState == null ? 0f : gr.dFinalState[gr.dFinalStateOff + stateAt + s];
        float dDSum = 0f, dBiasSum = 0f;
        for (int t = l - 1; t >= 0; t--) {
            int row = bi * l + t;
            float raw = io.delta[io.deltaOff + row * io.deltaStride + c] + bias;
            float dt = sp.deltaSoftplus ? VectorMath.softplus(raw) : raw;
            float u = io.u[io.uOff + row * io.uStride + c];
            int bRow = io.bOff + row * io.bStride + gi * n;
            int cRow = io.cOff + row * io.cStride + gi * n;
            boolean fresh = reset != null && reset[t];

            // y = yss · silu(z) with yss = C·h + D u: g = dL/dyss.
            float g = gr.dy[gr.dyOff + row * gr.dyStride + c];
            if (io.z != null) {
                float z = io.z[io.zOff + row * io.zStride + c];
                if (gr.dz != null) {
                    float yss = dSkip * u;
                    for (int s = 0; s < n; s++) yss += io.C[cRow + s] * hist[(t + 1) * n + s];
                    float sig = VectorMath.sigmoid(z);
                    gr.dz[gr.dzOff + row * gr.dzStride + c] += g * yss * sig * (1f + z * (1f - sig)); // silu'(z)
                }
                g *= VectorMath.silu(z);
            }
            dDSum += g * u;
            float dU = g * dSkip;  // dL/du_t
            float dDt = 0f;        // dL/dΔ'_t
            for (int s = 0; s < n; s++) {
                float hNow = hist[(t + 1) * n + s];
                float hPrev = fresh ? 0f : hist[t * n + s];
                float decay = VectorMath.exp(dt * io.A[aRow + s]);
                float b = io.B[bRow + s];
                dh[s] += g * io.C[cRow + s];                         // dL/dh_t complete
                if (sink.dC != null) sink.dC[sink.dCOff + row * sink.dCStride + gi * n + s] += g * hNow;
                if (sink.dB != null) sink.dB[sink.dBOff + row * sink.dBStride + gi * n + s] += dh[s] * dt * u;
                float dDecay = dh[s] * hPrev;                        // dL/d exp(Δ'A)
                if (sink.dA != null) sink.dA[sink.dAOff + c * n + s] += dDecay * decay * dt;
                dDt += dDecay * decay * io.A[aRow + s] + dh[s] * b * u;
                dU += dh[s] * dt * b;
                dh[s] = fresh ? 0f : dh[s] * decay;                   // becomes dL/dh_{t−1}
            }
            if (gr.du != null) gr.du[gr.duOff + row * gr.duStride + c] += dU;
            float dRaw = sp.deltaSoftplus ? dDt * VectorMath.sigmoid(raw) : dDt; // softplus' = σ
            if (gr.dDelta != null) gr.dDelta[gr.dDeltaOff + row * gr.dDeltaStride + c] += dRaw;
            dBiasSum += dRaw;
        }
        if (gr.dh0 != null) {
            for (int s = 0; s < n; s++) gr.dh0[gr.dh0Off + stateAt + s] += dh[s];
        }
        if (sink.dD != null) sink.dD[sink.dDOff + c] += dDSum;
        if (sink.dBias != null) sink.dBias[sink.dBiasOff + c] += dBiasSum;
    }

    private static float delta(ScanTensors io, int row, int c, float bias) {
        float dt = io.delta[io.deltaOff + row * io.deltaStride + c] + bias;
        return io.spec.deltaSoftplus ? VectorMath.softplus(dt) : dt;
    }

    /**
     * One decoding step: {@code state} (b, d, n) dense from stateOffset is updated in place with
     * the token in {@code io} (whose spec has l = 1), and y (b, d) is written. io must not bind h0
     * or a final state: the state is the {@code state} argument.
     */
    public static void step(ScanTensors io, float[] state, int stateOffset, ForkJoinPool pool) {
        SelectiveScan.checkStep(io, state, stateOffset);
        ScanSpec sp = io.spec;
        int d = sp.channels, n = sp.stateSize;
        Parallel.forRange(pool, sp.batch * d, 256, (start, end) -> {
            for (int task = start; task < end; task++) {
                int bi = task / d, c = task % d, gi = c / sp.channelsPerGroup();
                int at = stateOffset + (bi * d + c) * n;
                float dt = delta(io, bi, c, io.deltaBias == null ? 0f : io.deltaBias[io.deltaBiasOff + c]);
                float u = io.u[io.uOff + bi * io.uStride + c];
                int bRow = io.bOff + bi * io.bStride + gi * n, cRow = io.cOff + bi * io.cStride + gi * n;
                float y = 0f;
                for (int s = 0; s < n; s++) {
                    float h = VectorMath.exp(dt * io.A[io.aOff + c * n + s]) * state[at + s] + dt * io.B[bRow + s] * u;
                    state[at + s] = h;
                    y += io.C[cRow + s] * h;
                }
                if (io.D != null) y += io.D[io.dOff + c] * u;
                if (io.z != null) y *= VectorMath.silu(io.z[io.zOff + bi * io.zStride + c]);
                io.y[io.yOff + bi * io.yStride + c] = y;
            }
        });
    }
}
