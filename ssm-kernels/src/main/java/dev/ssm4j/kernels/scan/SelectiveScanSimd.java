package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;

/**
 * SIMD twin of {@link SelectiveScanScalar#forward} and {@link SelectiveScanScalar#step}.
 *
 * <h2>Forward: what a lane holds</h2>
 * Lanes are consecutive channels c0 … c0+L−1 of one batch row (L = {@code KernelConfig.LANES}),
 * because channels are independent and contiguous in the token-major layout, so u, Δ, z and y
 * of a token are plain vector loads and stores. For each state index s the block keeps one
 * vector h[s] (the state of L channels) and one vector A[s] (A[c, s] for the L channels,
 * gathered once per task into a tiny scratch, since A is stored (d, n)). Per token the scalars
 * B_t[s] and C_t[s] are broadcast: they are shared by every channel of the group. Each
 * (token, channel, state) element costs one vector exp, one multiply and two FMAs. The exp is
 * the step's base-2 one ({@link SelectiveScanSimdStep#exp2}: Δ'·log2e once per token, a degree-5
 * polynomial by Estrin's scheme, ≤ 2 ulp), not {@code VectorMath.exp}: 1.25× faster at (1, 2048,
 * 1536, 16) and 1.75× at (8, 256, 128, 16) (JMH, one thread, Zen 4 host, 2026-12-06: 77 → 62 ms
 * and 4.2 → 2.4 ms). (The step uses a leaner variant, {@link SelectiveScanSimdStep#pow2}, three ops
 * fewer but exact at the 0/∞ edges only for |A·Δ'·log2e| < 2^26; its decays may differ from the
 * forward's in the last bit.)
 * A block never straddles a group boundary, so one broadcast of B_t[s] is right for every
 * lane; channels past the last full vector of a group are scanned one by one by the scalar
 * reference ({@link SelectiveScanScalar#forwardChannel}).
 *
 * <p>The n state vectors and n A vectors live in float scratch arrays of n·L floats (≤ 8 KB at
 * n = 64, L = 16), which stay in L1: the JIT cannot keep an indexed array of vectors in
 * registers, and with n = 16 on AVX-512 the 32 vectors would not fit the 32 registers anyway.
 * One channel vector per block: successive state indices s have independent exps, so the
 * out-of-order core already overlaps them; a two-vector block would need two inlined exp call
 * sites in one compiled method, which C2 refuses (see {@link ScanBlocks#deltaChunk}). For the
 * same reason the per-token softplus of Δ and the silu gate are passes of their own over each
 * chunk of tokens ({@link ScanBlocks#deltaChunk}, {@link #gateChunk}), with our own exp and log1p
 * (not the JDK's lanewise EXP/LOG1P, whose results depend on whether C2 compiled the caller).
 *
 * <h2>Step</h2>
 * The decoding step lives in {@link SelectiveScanSimdStep} (lanes over the state index s, since
 * the (b, d, n) state has n contiguous); {@link #step} forwards to it.
 */
public final class SelectiveScanSimd {
    private SelectiveScanSimd() {}

    private static final int L = F.length();

    /** Forward: same contract as {@link SelectiveScanScalar#forward}. */
    public static void forward(ScanTensors io, ForkJoinPool pool) {
        io.requireForward();
        ScanSpec sp = io.spec;
        // Per (batch row, group): the full vector blocks, then each remaining channel on its own.
        int dg = sp.channelsPerGroup(), full = dg / L, perGroup = full + dg % L;
        int tasks = sp.batch * sp.groups * perGroup;
        boolean[] reset = sp.resets();
        Parallel.forRange(pool, tasks, 1, (start, end) -> {
            float[] aS = new float[sp.stateSize * L]; // (n, L): A[c0 + j, s] at s·L + j
            float[] hS = new float[sp.stateSize * L]; // (n, L): the states of the block, same layout
            float[] dtS = new float[CHUNK * L];        // (CHUNK, L): Δ' of the chunk's tokens
            for (int task = start; task < end; task++) {
                int k = task % perGroup, rest = task / perGroup;
                int gi = rest % sp.groups, bi = rest / sp.groups;
                if (k < full) {
                    int c0 = gi * dg + k * L;
                    ScanBlocks.gather(io, bi, c0, L, aS, hS);
                    for (int t0 = 0; t0 < sp.length; t0 += CHUNK) {
                        int t1 = Math.min(sp.length, t0 + CHUNK);
                        if (io.checkpoints != null) ScanBlocks.saveCheckpoint(io, bi, t0 / CHUNK, c0, hS);
                        ScanBlocks.deltaChunk(io, bi, c0, t0, t1, dtS, null);
                        forwardChunk(io, bi, gi, c0, t0, t1, reset, aS, hS, dtS);
                        if (io.z != null) gateChunk(io, bi, c0, t0, t1);
                    }
                    ScanBlocks.scatterFinal(io, bi, c0, L, hS);
                } else {
                    SelectiveScanScalar.forwardChannel(io, bi, gi * dg + full * L + (k - full), reset, hS);
                }
            }
        });
    }

    /** Tokens per forward chunk (the checkpoint interval): the gate pass then finds the chunk's y in L1. */
    static final int CHUNK = ScanSpec.CHECKPOINT_TOKENS;

    /**
     * One full vector of channels [c0, c0 + L), tokens [t0, t1), from the state in hS (updated),
     * with Δ' from dtS ({@link ScanBlocks#deltaChunk}), writing the ungated output C_t·h_t + D u_t
     * to y. Loads are unmasked (masked variants next to them would double the compiled size), and
     * the gate is a separate pass ({@link #gateChunk}): this method's compile affords one inlined
     * exp, the decay's (see {@link ScanBlocks#deltaChunk}).
     */
    private static void forwardChunk(ScanTensors io, int bi, int gi, int c0, int t0, int t1, boolean[] reset,
            float[] aS, float[] hS, float[] dtS) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize;
        final float[] Bv = io.B, Cv = io.C;
        FloatVector dSkip = io.D == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.D, io.dOff + c0);
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t;
            if (reset != null && reset[t]) Arrays.fill(hS, 0, n * L, 0f);
            FloatVector dt = FloatVector.fromArray(F, dtS, (t - t0) * L);
            FloatVector u = FloatVector.fromArray(F, io.u, io.uOff + row * io.uStride + c0);
            FloatVector dtu = dt.mul(u), dtl = dt.mul(SelectiveScanSimdStep.LOG2E);
            int bRow = io.bOff + row * io.bStride + gi * n, cRow = io.cOff + row * io.cStride + gi * n;
            FloatVector acc = dSkip.mul(u);
            for (int s = 0; s < n; s++) {
                FloatVector decay = SelectiveScanSimdStep.exp2(FloatVector.fromArray(F, aS, s * L), dtl);
                FloatVector h = decay.fma(FloatVector.fromArray(F, hS, s * L), dtu.mul(Bv[bRow + s]));
                h.intoArray(hS, s * L);
                acc = h.fma(FloatVector.broadcast(F, Cv[cRow + s]), acc);
            }
            acc.intoArray(io.y, io.yOff + row * io.yStride + c0);
        }
    }

    /** y ← y · silu(z) for channels [c0, c0 + L), tokens [t0, t1). */
    private static void gateChunk(ScanTensors io, int bi, int c0, int t0, int t1) {
        int l = io.spec.length;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, yAt = io.yOff + row * io.yStride + c0;
            FloatVector z = FloatVector.fromArray(F, io.z, io.zOff + row * io.zStride + c0);
            FloatVector.fromArray(F, io.y, yAt).mul(VectorMath.silu(z)).intoArray(io.y, yAt);
        }
    }

    /** Step: same contract as {@link SelectiveScanScalar#step}; the kernel is {@link SelectiveScanSimdStep}. */
    public static void step(ScanTensors io, float[] state, int stateOffset, ForkJoinPool pool) {
        SelectiveScanSimdStep.step(io, state, stateOffset, pool);
    }
}
