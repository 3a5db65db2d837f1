package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.VectorMath;
import java.lang.ref.SoftReference;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;

/**
 * SIMD twin of {@link SelectiveScanScalar#backward}: the same gradients, with lanes over
 * channels as in {@link SelectiveScanSimd} and a chunked recompute instead of a stored history.
 *
 * <h2>Plan for one run of up to {@link #RUN} consecutive blocks (batch row, group; each block L channels)</h2>
 * <ol>
 *   <li>Checkpoint pass, per block: run the recurrence forward chunk by chunk (T tokens each) and
 *       keep the state at every chunk start: ⌈l/T⌉·n·L floats per block ({@link #checkpointChunk}:
 *       nothing but the state update). Skipped when the forward saved them
 *       ({@link ScanTensors#checkpoints}), which is how the trainer calls it.</li>
 *   <li>Walk the chunks from last to first, <em>chunk-major</em>. For chunk k, first the per-token
 *       inputs of the whole run, token row by token row over its count·L consecutive channels:
 *       Δ' and softplus' ({@link ScanBlocks#deltaRun}), g_t, dy·silu'(z) and a copy of u
 *       ({@link #gateRun}), into (blocks, T, L) scratch. Then every block restarts from its
 *       checkpoint, runs the recurrence again keeping h_t and exp(Δ'_t A) for the T tokens
 *       ({@link #recomputeChunk}; (T, n, L) floats each, L2-resident), and walks the chunk's tokens
 *       backwards with its own adjoint state dh (n·L floats, carried across chunks)
 *       ({@link #walkChunk}), leaving du, dz and dΔ in the scratch it has read; {@link #outRun}
 *       adds them to the gradients, again row by row. Reading and writing the (b, l, d) tensors
 *       as whole row segments rather than one strided line per token and block is what lets the
 *       hardware prefetchers keep up (each token row of a tensor is its own 4 KB page at d ≥ 1024).</li>
 *   <li>dB_t[s] and dC_t[s] are sums over all the group's channels, i.e. over lanes <em>and</em>
 *       blocks. The walks add their per-lane terms into two (T, n, L) vector accumulators shared
 *       by the run's blocks (one FMA each per (t, s)); the lanes are summed once per chunk, after
 *       the last block ({@link #flushChunk}). Summing the lanes inside the walk instead (two
 *       horizontal reductions and two scalar read-modify-writes per (t, s, block)) made the walk
 *       twice as long.</li>
 * </ol>
 * The recompute's decay is the forward's own base-2 exp ({@link SelectiveScanSimdStep#exp2}), so
 * the recomputed states are bit for bit the forward's. {@link #checkpointChunk} and
 * {@link #recomputeChunk} are separate compiled methods with one inlined vector exp each (see
 * {@link ScanBlocks#deltaChunk} for why that matters; Δ' and its softplus' come from their own pass).
 * Channels past the last full vector of a group are done one by one by the scalar reference
 * ({@link SelectiveScanScalar#backwardChannel}): masking every load of the walk would double its
 * compiled size and push it over C2's inlining budget.
 *
 * <h2>The walk, per token t and state s (lanes = channels)</h2>
 * With g_t = dy_t·silu(z_t) (the gradient of C_t·h_t + D u_t) and dh = dL/dh_t:
 * <pre>
 *   dh       += g_t C_t[s]                      (the adjoint recurrence: dh arrives as exp(Δ'_{t+1}A) ⊙ dh_{t+1})
 *   dC_t[s]  += Σ_lanes g_t h_t[s]              (lanes summed in flushChunk: C is shared by the group's channels)
 *   dB_t[s]  += Σ_lanes dh Δ'_t u_t             (likewise)
 *   dh'      = exp(Δ'_t A[s]) ⊙ dh               (= dL/dh_{t−1}; 0 at a cuSeqlens reset)
 *   q         = dh' ⊙ h_{t−1}                   (h_{t−1}: the previous row of the recomputed history)
 *   dA[s]    += q Δ'_t ;  dΔ' += q A[s] + dh B_t[s] u_t ;  du += dh B_t[s] Δ'_t
 *   dh       ← dh'
 * </pre>
 * Per (t, s) that is ~10 vector FMAs and multiplies and four vector read-modify-writes (dh, dA,
 * dC, dB); the stores bound it (without the dC and dB stores alone the backward from checkpoints
 * took 0.9 of its time). So the walk takes four tokens at a time ({@link #walkQuad}), keeping dh
 * and the dA sums in registers between them.
 */
public final class SelectiveScanSimdBackward {
    private SelectiveScanSimdBackward() {}

    private static final int L = F.length();

    /**
     * Most blocks walked chunk-major together (their dB/dC lane sums are flushed once per chunk per
     * run, their per-token inputs and outputs moved token row by token row). 96 = the whole row at
     * d = 1536 with AVX-512: per token, 6 KB of each (b, l, d) tensor in one piece, which the
     * prefetchers follow; at (1, 2048, 1536, 16) runs of 96 took 0.87–0.88 of the time of runs of
     * 16 from the forward's checkpoints (runs of 48 or 32 with this code: 0.95–0.97). Scratch per run: 3·n·L +
     * 5·T·L floats per block (2.8 KB + 10 KB at n = 16), plus its own checkpoints (⌈l/T⌉·n·L, 64 KB
     * at l = 2048) when the forward saved none. Overridable with -Dssm4j.scan.run=N.
     */
    static final int RUN = Integer.getInteger("ssm4j.scan.run", 96);

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
            for (int task = start; task < end; ) {
                int k = task % perGroup, rest = task / perGroup;
                int gi = rest % sp.groups, bi = rest / sp.groups;
                if (k < full) { // the run of full blocks of this (row, group) inside [start, end)
                    int blocks = Math.min(RUN, Math.min(full - k, end - task));
                    if (w == null) w = Work.of(n, chunks, Math.min(RUN, Math.min(full, end - start)), io.checkpoints == null);
                    backwardRun(io, gr, sink, bi, gi, gi * dg + k * L, blocks, reset, w);
                    task += blocks;
                } else {
                    if (hist == null) {
                        hist = new float[(sp.length + 1) * n];
                        dh = new float[n];
                    }
                    SelectiveScanScalar.backwardChannel(io, gr, sink, bi, gi * dg + full * L + (k - full), reset, hist, dh);
                    task++;
                }
            }
        });
    }

    /** What one block (L channels) carries across chunks. Shapes in floats. */
    static final class Block {
        final float[] aS, dh, dAacc; // (n, L) each: A, adjoint state, dA partial sums
        final float[] dDacc, dBiasAcc; // (L): per-lane partial sums of dD and dΔbias
        final float[] ckpt;          // (chunks, n, L): state before each chunk (null when the forward saved them)

        Block(int n, int chunks, boolean ownCheckpoints) {
            aS = new float[n * L];
            dh = new float[n * L];
            dAacc = new float[n * L];
            dDacc = new float[L];
            dBiasAcc = new float[L];
            ckpt = ownCheckpoints ? new float[chunks * n * L] : null;
        }
    }

    /**
     * Scratch of one part (thread), reused for every run it handles. Shapes in floats.
     *
     * <p>Some arrays get a few unused floats at the end so that the arrays allocated after them
     * (consecutively, in the thread's allocation buffer) do not start at the same address modulo
     * 4 KB: the walk loads and stores decay, dCv and dBv at the same index, and the (T, n, L)
     * arrays are 32 KB at n = 16, so they lined up to 16 bytes, and a load that matches an older
     * store in the low 12 address bits can wait for it (4K aliasing). With the pads the walk's
     * streams (h_{t−1}, h_t, decay, dCv, dBv) start ~0.5–1 KB apart modulo 4 KB at n = 16: the
     * backward took ~0.97 of its time without them (A/B in one JVM, 10 rounds, two runs; about the
     * noise of that measurement, but the lined-up layout is a known trap and the pads cost nothing).
     */
    static final class Work {
        final Block[] blocks;            // up to RUN consecutive blocks of one (row, group)
        final float[] hS;                // (n, L): running state of the checkpoint pass
        final float[] hist;              // (T + 1, n, L): the chunk's start state, then h_t of its tokens (current block)
        final float[] decay;             // (T, n, L): exp(Δ'_t A) of the current chunk and block
        final float[] zeros;             // (n, L): the effective h_{t−1} at a cuSeqlens reset
        final float[] dCv, dBv;          // (T, n, L): per-lane sums of dC_t[s], dB_t[s] over the run's blocks
        final float[] dtS, sigS;         // (blocks, T, L): Δ'_t and softplus'(Δ_t + Δbias) of the current chunk
        final float[] gS, dzS;           // (blocks, T, L): g_t = dy_t·silu(z_t) and dy_t·silu'(z_t) of the current chunk
        final float[] uS;                // (blocks, T, L): u_t of the current chunk

        final int n, chunks, maxBlocks;

        /**
         * The calling thread's cached scratch of this kind (with or without own checkpoints) if it is
         * large enough (same n, at least as many chunks and blocks), else a new one, then cached
         * (softly, so that the GC may take it back). Every run initialises what it reads, so nothing
         * carries over between calls (SelectiveScanBackwardTest.scratchReuseKeepsTheBits). Saves
         * allocating (and the JVM zeroing) 1.4 MB per call at (1, 2048, 1536, 16) from the
         * forward's checkpoints, 7.7 MB standalone.
         */
        static Work of(int n, int chunks, int maxBlocks, boolean ownCheckpoints) {
            ThreadLocal<SoftReference<Work>> cache = ownCheckpoints ? OWN : FROM_FORWARD;
            SoftReference<Work> ref = cache.get();
            Work w = ref == null ? null : ref.get();
            if (w == null || w.n != n || w.chunks < chunks || w.maxBlocks < maxBlocks) {
                w = new Work(n, chunks, maxBlocks, ownCheckpoints);
                cache.set(new SoftReference<>(w));
            }
            return w;
        }

        private static final ThreadLocal<SoftReference<Work>> OWN = new ThreadLocal<>(), FROM_FORWARD = new ThreadLocal<>();

        Work(int n, int chunks, int maxBlocks, boolean ownCheckpoints) {
            this.n = n;
            this.chunks = chunks;
            this.maxBlocks = maxBlocks;
            blocks = new Block[maxBlocks];
            for (int i = 0; i < maxBlocks; i++) blocks[i] = new Block(n, chunks, ownCheckpoints);
            hS = new float[n * L];
            hist = new float[(T + 1) * n * L];
            zeros = new float[n * L];
            decay = new float[T * n * L + 256];
            dCv = new float[T * n * L + 384];
            dBv = new float[T * n * L];
            int runFloats = maxBlocks * T * L + 48; // these five are read (and three written) at one index per token
            dtS = new float[runFloats];
            sigS = new float[runFloats];
            gS = new float[runFloats];
            dzS = new float[runFloats];
            uS = new float[runFloats];
        }
    }

    /** Blocks [c0, c0 + count·L) of row bi, group gi: the plan in the class comment. */
    private static void backwardRun(ScanTensors io, ScanGrads gr, GradParts.Sink sink, int bi, int gi, int c0,
            int count, boolean[] reset, Work w) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, nL = n * L, l = sp.length, chunks = (l + T - 1) / T;
        for (int b = 0; b < count; b++) {
            Block blk = w.blocks[b];
            int cb = c0 + b * L;
            ScanBlocks.gather(io, bi, cb, L, blk.aS, w.hS);
            ScanBlocks.gatherState(gr.dFinalState, gr.dFinalStateOff, sp, bi, cb, L, blk.dh);
            Arrays.fill(blk.dAacc, 0f);
            Arrays.fill(blk.dDacc, 0f);
            Arrays.fill(blk.dBiasAcc, 0f);
            if (blk.ckpt != null) { // checkpoint pass (the last chunk needs no checkpoint after it)
                System.arraycopy(w.hS, 0, blk.ckpt, 0, nL);
                for (int k = 0; k < chunks - 1; k++) {
                    ScanBlocks.deltaChunk(io, bi, cb, k * T, k * T + T, w.dtS, null);
                    checkpointChunk(io, bi, gi, cb, k * T, k * T + T, reset, w, blk);
                    System.arraycopy(w.hS, 0, blk.ckpt, (k + 1) * nL, nL);
                }
            }
        }
        boolean sums = sink.dB != null || sink.dC != null;
        for (int k = chunks - 1; k >= 0; k--) {
            int t0 = k * T, t1 = Math.min(l, t0 + T);
            if (sums) {
                Arrays.fill(w.dCv, 0, (t1 - t0) * nL, 0f);
                Arrays.fill(w.dBv, 0, (t1 - t0) * nL, 0f);
            }
            // the per-token inputs of the whole run, token row by token row (count·L consecutive channels)
            ScanBlocks.deltaRun(io, bi, c0, count, t0, t1, w.dtS, w.sigS, T * L);
            gateRun(io, gr, bi, c0, count, t0, t1, w);
            for (int b = 0; b < count; b++) {
                Block blk = w.blocks[b];
                int cb = c0 + b * L;
                if (blk.ckpt != null) System.arraycopy(blk.ckpt, k * nL, w.hist, 0, nL);
                else ScanBlocks.loadCheckpoint(io, bi, k, cb, w.hist, 0);
                recomputeChunk(io, bi, gi, cb, t0, t1, reset, w, blk, b * T * L);
                walkChunk(io, gr, bi, cb, t0, t1, reset, w, blk, sums, b * T * L);
            }
            outRun(gr, bi, c0, count, t0, t1, l, w);
            if (sums) flushChunk(io, sink, bi, gi, t0, t1, w);
        }
        for (int b = 0; b < count; b++) {
            Block blk = w.blocks[b];
            int cb = c0 + b * L;
            ScanBlocks.scatterAddState(gr.dh0, gr.dh0Off, sp, bi, cb, L, blk.dh);
            if (sink.dA != null) {
                for (int j = 0; j < L; j++) {
                    for (int s = 0; s < n; s++) sink.dA[sink.dAOff + (cb + j) * n + s] += blk.dAacc[s * L + j];
                }
            }
            for (int j = 0; j < L; j++) {
                if (sink.dD != null) sink.dD[sink.dDOff + cb + j] += blk.dDacc[j];
                if (sink.dBias != null) sink.dBias[sink.dBiasOff + cb + j] += blk.dBiasAcc[j];
            }
        }
    }

    /** dC_t[s] += Σ_lanes dCv[t, s], dB_t[s] likewise, for the tokens [t0, t1) of row bi, group gi. */
    private static void flushChunk(ScanTensors io, GradParts.Sink sink, int bi, int gi, int t0, int t1, Work w) {
        ScanSpec sp = io.spec;
        int n = sp.stateSize, nL = n * L, l = sp.length;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            if (sink.dC != null) {
                int at = sink.dCOff + row * sink.dCStride + gi * n;
                for (int s = 0; s < n; s++) sink.dC[at + s] += VectorMath.sumLanes(FloatVector.fromArray(F, w.dCv, j * nL + s * L));
            }
            if (sink.dB != null) {
                int at = sink.dBOff + row * sink.dBStride + gi * n;
                for (int s = 0; s < n; s++) sink.dB[at + s] += VectorMath.sumLanes(FloatVector.fromArray(F, w.dBv, j * nL + s * L));
            }
        }
    }

    /**
     * The checkpoint pass over tokens [t0, t1): the recurrence from w.hS (updated in place) with
     * Δ'_t from w.dtS ({@link ScanBlocks#deltaChunk}), keeping nothing but the state — per element
     * one exp, a multiply and an FMA, the forward's operations in the forward's order, so the state
     * is bit for bit the forward's. One inlined vector exp (its own compiled method).
     */
    private static void checkpointChunk(ScanTensors io, int bi, int gi, int c0, int t0, int t1, boolean[] reset,
            Work w, Block blk) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L;
        final float[] Bv = io.B, aS = blk.aS, hS = w.hS;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            if (reset != null && reset[t]) Arrays.fill(hS, 0, nL, 0f);
            FloatVector dt = FloatVector.fromArray(F, w.dtS, j * L);
            FloatVector dtu = dt.mul(FloatVector.fromArray(F, io.u, io.uOff + row * io.uStride + c0));
            FloatVector dtl = dt.mul(SelectiveScanSimdStep.LOG2E);
            int bRow = io.bOff + row * io.bStride + gi * n;
            for (int s = 0; s < n; s++) {
                FloatVector dA = SelectiveScanSimdStep.exp2(FloatVector.fromArray(F, aS, s * L), dtl);
                dA.fma(FloatVector.fromArray(F, hS, s * L), dtu.mul(Bv[bRow + s])).intoArray(hS, s * L);
            }
        }
    }

    /**
     * Runs tokens [t0, t1) forward from the chunk's start state in w.hist row 0, with Δ'_t from
     * w.dtS at tb + (t − t0)·L, writing h_t to w.hist row t − t0 + 1 (read back as h_{t−1} by the
     * next token: no separate running state) and exp(Δ'_t A) to w.decay. The backward pass's one
     * inlined vector exp; the same decay and state as the forward's, bit for bit.
     */
    private static void recomputeChunk(ScanTensors io, int bi, int gi, int c0, int t0, int t1, boolean[] reset,
            Work w, Block blk, int tb) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L;
        final float[] Bv = io.B, aS = blk.aS, hist = w.hist, decayS = w.decay;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, j = t - t0;
            // h_{t−1}: hist row j, or 0 when the state is reset at t
            final float[] prev = reset != null && reset[t] ? w.zeros : hist;
            final int prevAt = prev == hist ? j * nL : 0;
            FloatVector dt = FloatVector.fromArray(F, w.dtS, tb + j * L);
            FloatVector dtu = dt.mul(FloatVector.fromArray(F, w.uS, tb + j * L));
            FloatVector dtl = dt.mul(SelectiveScanSimdStep.LOG2E);
            int bRow = io.bOff + row * io.bStride + gi * n;
            for (int s = 0; s < n; s++) {
                FloatVector dA = SelectiveScanSimdStep.exp2(FloatVector.fromArray(F, aS, s * L), dtl);
                dA.fma(FloatVector.fromArray(F, prev, prevAt + s * L), dtu.mul(Bv[bRow + s])).intoArray(hist, (j + 1) * nL + s * L);
                dA.intoArray(decayS, j * nL + s * L);
            }
        }
    }

    /**
     * The gate's share of the backward for tokens [t0, t1) of the run's count blocks from c0:
     * g_t = dy_t·silu(z_t), the gradient reaching C_t·h_t + D u_t, and dy_t·silu'(z_t), which
     * times (C_t·h_t + D u_t) is dz_t, into w.gS and w.dzS at (b·T + t − t0)·L. Token row by
     * token row over the run's consecutive channels (count·L floats of dy and of z in a row,
     * which the hardware prefetchers follow; block by block, 32 strided lines each, it spent
     * twice as long waiting for memory). Kept out of {@link #walkChunk} so that method's compile
     * stays small (see {@link ScanBlocks#deltaChunk}).
     */
    private static void gateRun(ScanTensors io, ScanGrads gr, int bi, int c0, int count, int t0, int t1, Work w) {
        int l = io.spec.length;
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t, dyAt = gr.dyOff + row * gr.dyStride + c0, zAt = io.zOff + row * io.zStride + c0;
            int uAt = io.uOff + row * io.uStride + c0;
            for (int b = 0; b < count; b++) {
                int at = (b * T + t - t0) * L;
                FloatVector.fromArray(F, io.u, uAt + b * L).intoArray(w.uS, at);
                FloatVector dy = FloatVector.fromArray(F, gr.dy, dyAt + b * L);
                if (io.z == null) {
                    dy.intoArray(w.gS, at);
                    continue;
                }
                FloatVector z = FloatVector.fromArray(F, io.z, zAt + b * L);
                FloatVector sig = VectorMath.sigmoid(z);
                dy.mul(z).mul(sig).intoArray(w.gS, at);
                // silu'(z) = σ(z)(1 + z(1 − σ(z)))
                dy.mul(sig.mul(z.mul(sig.neg().add(1f)).add(1f))).intoArray(w.dzS, at);
            }
        }
    }

    /**
     * Walks tokens t1−1 … t0 backwards with the block's adjoint state blk.dh (see the class
     * comment), adding the per-lane dB and dC terms into w.dBv and w.dCv when {@code sums}. Four
     * tokens at a time ({@link #walkQuad}) where none has a cuSeqlens reset, else two
     * ({@link #walkPair}) or one ({@link #walkToken}); all three give the same bits. Four rather
     * than two: 0.97–0.99 of the backward's time (A/B in one JVM, 10 and 12 rounds).
     */
    private static void walkChunk(ScanTensors io, ScanGrads gr, int bi, int c0, int t0, int t1, boolean[] reset,
            Work w, Block blk, boolean sums, int tb) {
        for (int t = t1 - 1; t >= t0; ) {
            if (t - 3 >= t0 && (reset == null || !(reset[t] || reset[t - 1] || reset[t - 2] || reset[t - 3]))) {
                walkQuad(io, gr, bi, c0, t, t0, w, blk, sums, tb);
                t -= 4;
            } else if (t > t0 && (reset == null || !(reset[t] || reset[t - 1]))) {
                walkPair(io, gr, bi, c0, t, t0, w, blk, sums, tb);
                t -= 2;
            } else {
                walkToken(io, gr, bi, c0, t, t0, reset, w, blk, sums, tb);
                t--;
            }
        }
    }

    /** One token t of {@link #walkChunk}. */
    private static void walkToken(ScanTensors io, ScanGrads gr, int bi, int c0, int t, int t0, boolean[] reset,
            Work w, Block blk, boolean sums, int tb) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L, gi = c0 / sp.channelsPerGroup();
        final float[] Bv = io.B, Cv = io.C, aS = blk.aS, dh = blk.dh, dAacc = blk.dAacc, hist = w.hist, decayS = w.decay;
        final float[] dBv = w.dBv, dCv = w.dCv;
        FloatVector dSkip = io.D == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.D, io.dOff + c0);
        int row = bi * l + t, j = t - t0;
        FloatVector dt = FloatVector.fromArray(F, w.dtS, tb + j * L);
        FloatVector u = FloatVector.fromArray(F, w.uS, tb + j * L);
        FloatVector dtu = dt.mul(u); // Δ'_t·u_t, as the recompute formed it
        FloatVector g = FloatVector.fromArray(F, w.gS, tb + j * L);
        int bRow = io.bOff + row * io.bStride + gi * n, cRow = io.cOff + row * io.cStride + gi * n;
        // h_{t−1} as the update saw it: hist row j, or 0 when the state was reset at t
        final float[] prev = reset != null && reset[t] ? w.zeros : hist;
        final int prevAt = prev == hist ? j * nL : 0;
        FloatVector dDt = FloatVector.zero(F), sumDhB = dDt, ySum = dDt;
        for (int s = 0; s < n; s++) {
            int i = s * L, hi = (j + 1) * nL + i, di = j * nL + i;
            FloatVector bS = FloatVector.broadcast(F, Bv[bRow + s]), cS = FloatVector.broadcast(F, Cv[cRow + s]);
            FloatVector hNow = FloatVector.fromArray(F, hist, hi);
            FloatVector dhv = g.fma(cS, FloatVector.fromArray(F, dh, i));      // dL/dh_t
            if (sums) {
                g.fma(hNow, FloatVector.fromArray(F, dCv, di)).intoArray(dCv, di);
                dhv.fma(dtu, FloatVector.fromArray(F, dBv, di)).intoArray(dBv, di);
            }
            FloatVector dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, di)); // dL/dh_{t−1} = dh ⊙ exp(Δ'A)
            FloatVector q = dhPrev.mul(FloatVector.fromArray(F, prev, prevAt + i)); // dh ⊙ exp(Δ'A) h_{t−1}
            q.fma(dt, FloatVector.fromArray(F, dAacc, i)).intoArray(dAacc, i);
            dDt = q.fma(FloatVector.fromArray(F, aS, i), dDt);
            sumDhB = dhv.fma(bS, sumDhB);
            ySum = hNow.fma(cS, ySum);
            dhPrev.intoArray(dh, i);
        }
        if (reset != null && reset[t]) Arrays.fill(dh, 0, nL, 0f);
        // This token's du, dz and dΔ replace its g, dy·silu'(z) and σ in the scratch (read above);
        // outRun adds them to the gradients row by row.
        g.fma(u, FloatVector.fromArray(F, blk.dDacc, 0)).intoArray(blk.dDacc, 0);
        if (gr.dz != null) {
            // y = yss·silu(z): dz = dy·silu'(z)·yss.
            FloatVector yss = dSkip.fma(u, ySum);
            yss.mul(FloatVector.fromArray(F, w.dzS, tb + j * L)).intoArray(w.dzS, tb + j * L);
        }
        g.mul(dSkip).add(sumDhB.mul(dt)).intoArray(w.gS, tb + j * L);
        dDt = sumDhB.fma(u, dDt);
        if (sp.deltaSoftplus) dDt = dDt.mul(FloatVector.fromArray(F, w.sigS, tb + j * L)); // softplus' = σ
        dDt.intoArray(w.sigS, tb + j * L);
        FloatVector.fromArray(F, blk.dBiasAcc, 0).add(dDt).intoArray(blk.dBiasAcc, 0);
    }

    /**
     * Tokens t and t − 1 of {@link #walkChunk} (no reset at either): the same operations in the
     * same order as two {@link #walkToken} calls, but dh and the dA partial sums stay in registers
     * between the two tokens and h_{t−1} is loaded once for both (as h_{t−1} of token t and h_t of
     * token t − 1): per (token, s) three vector stores instead of four, 5.5 loads instead of 8.
     */
    private static void walkPair(ScanTensors io, ScanGrads gr, int bi, int c0, int t, int t0,
            Work w, Block blk, boolean sums, int tb) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L, gi = c0 / sp.channelsPerGroup();
        final float[] Bv = io.B, Cv = io.C, aS = blk.aS, dh = blk.dh, dAacc = blk.dAacc, hist = w.hist, decayS = w.decay;
        final float[] dBv = w.dBv, dCv = w.dCv;
        FloatVector dSkip = io.D == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.D, io.dOff + c0);
        int rowA = bi * l + t, ja = t - t0, jb = ja - 1; // A = token t, B = token t − 1
        int atA = tb + ja * L, atB = tb + jb * L;
        FloatVector dtA = FloatVector.fromArray(F, w.dtS, atA), dtB = FloatVector.fromArray(F, w.dtS, atB);
        FloatVector uA = FloatVector.fromArray(F, w.uS, atA), uB = FloatVector.fromArray(F, w.uS, atB);
        FloatVector dtuA = dtA.mul(uA), dtuB = dtB.mul(uB);
        FloatVector gA = FloatVector.fromArray(F, w.gS, atA), gB = FloatVector.fromArray(F, w.gS, atB);
        int bRowA = io.bOff + rowA * io.bStride + gi * n, cRowA = io.cOff + rowA * io.cStride + gi * n;
        int bRowB = bRowA - io.bStride, cRowB = cRowA - io.cStride;
        FloatVector dDtA = FloatVector.zero(F), sumDhBA = dDtA, ySumA = dDtA, dDtB = dDtA, sumDhBB = dDtA, ySumB = dDtA;
        for (int s = 0; s < n; s++) {
            int i = s * L, diA = ja * nL + i, diB = jb * nL + i;
            FloatVector hA = FloatVector.fromArray(F, hist, diA + nL); // h_t
            FloatVector hB = FloatVector.fromArray(F, hist, diA);      // h_{t−1}
            FloatVector hC = FloatVector.fromArray(F, hist, diB);      // h_{t−2}
            FloatVector aV = FloatVector.fromArray(F, aS, i);
            // token t
            FloatVector bS = FloatVector.broadcast(F, Bv[bRowA + s]), cS = FloatVector.broadcast(F, Cv[cRowA + s]);
            FloatVector dhv = gA.fma(cS, FloatVector.fromArray(F, dh, i));
            if (sums) {
                gA.fma(hA, FloatVector.fromArray(F, dCv, diA)).intoArray(dCv, diA);
                dhv.fma(dtuA, FloatVector.fromArray(F, dBv, diA)).intoArray(dBv, diA);
            }
            FloatVector dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, diA));
            FloatVector q = dhPrev.mul(hB);
            FloatVector dAv = q.fma(dtA, FloatVector.fromArray(F, dAacc, i));
            dDtA = q.fma(aV, dDtA);
            sumDhBA = dhv.fma(bS, sumDhBA);
            ySumA = hA.fma(cS, ySumA);
            // token t − 1
            bS = FloatVector.broadcast(F, Bv[bRowB + s]);
            cS = FloatVector.broadcast(F, Cv[cRowB + s]);
            dhv = gB.fma(cS, dhPrev);
            if (sums) {
                gB.fma(hB, FloatVector.fromArray(F, dCv, diB)).intoArray(dCv, diB);
                dhv.fma(dtuB, FloatVector.fromArray(F, dBv, diB)).intoArray(dBv, diB);
            }
            dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, diB));
            q = dhPrev.mul(hC);
            q.fma(dtB, dAv).intoArray(dAacc, i);
            dDtB = q.fma(aV, dDtB);
            sumDhBB = dhv.fma(bS, sumDhBB);
            ySumB = hB.fma(cS, ySumB);
            dhPrev.intoArray(dh, i);
        }
        // the per-token ends, token t first (as walkToken would)
        gB.fma(uB, gA.fma(uA, FloatVector.fromArray(F, blk.dDacc, 0))).intoArray(blk.dDacc, 0);
        if (gr.dz != null) {
            dSkip.fma(uA, ySumA).mul(FloatVector.fromArray(F, w.dzS, atA)).intoArray(w.dzS, atA);
            dSkip.fma(uB, ySumB).mul(FloatVector.fromArray(F, w.dzS, atB)).intoArray(w.dzS, atB);
        }
        gA.mul(dSkip).add(sumDhBA.mul(dtA)).intoArray(w.gS, atA);
        gB.mul(dSkip).add(sumDhBB.mul(dtB)).intoArray(w.gS, atB);
        dDtA = sumDhBA.fma(uA, dDtA);
        dDtB = sumDhBB.fma(uB, dDtB);
        if (sp.deltaSoftplus) {
            dDtA = dDtA.mul(FloatVector.fromArray(F, w.sigS, atA));
            dDtB = dDtB.mul(FloatVector.fromArray(F, w.sigS, atB));
        }
        dDtA.intoArray(w.sigS, atA);
        dDtB.intoArray(w.sigS, atB);
        FloatVector.fromArray(F, blk.dBiasAcc, 0).add(dDtA).add(dDtB).intoArray(blk.dBiasAcc, 0);
    }

    /**
     * Tokens t … t − 3 of {@link #walkChunk} (no reset at any): like {@link #walkPair}, with dh and
     * the dA sums loaded and stored once per four tokens (2.5 vector stores per (token, s)).
     * The four token blocks are written out, not a loop over the tokens: each token keeps its own
     * Δ', Δ'u, g and running sums in registers, and a loop would have to index them (an array of
     * vectors, or conditionally assigned variables), which C2 boxes on the heap.
     */
    private static void walkQuad(ScanTensors io, ScanGrads gr, int bi, int c0, int t, int t0,
            Work w, Block blk, boolean sums, int tb) {
        ScanSpec sp = io.spec;
        final int l = sp.length, n = sp.stateSize, nL = n * L, gi = c0 / sp.channelsPerGroup();
        final float[] Bv = io.B, Cv = io.C, aS = blk.aS, dh = blk.dh, dAacc = blk.dAacc, hist = w.hist, decayS = w.decay;
        final float[] dBv = w.dBv, dCv = w.dCv;
        FloatVector dSkip = io.D == null ? FloatVector.zero(F) : FloatVector.fromArray(F, io.D, io.dOff + c0);
        int rowA = bi * l + t, ja = t - t0;
        int bRow = io.bOff + rowA * io.bStride + gi * n, cRow = io.cOff + rowA * io.cStride + gi * n;
        int bSt = io.bStride, cSt = io.cStride;
        int atA = tb + (ja - 0) * L;
        FloatVector dtA = FloatVector.fromArray(F, w.dtS, atA), uA = FloatVector.fromArray(F, w.uS, atA);
        FloatVector dtuA = dtA.mul(uA), gA = FloatVector.fromArray(F, w.gS, atA);
        int atB = tb + (ja - 1) * L;
        FloatVector dtB = FloatVector.fromArray(F, w.dtS, atB), uB = FloatVector.fromArray(F, w.uS, atB);
        FloatVector dtuB = dtB.mul(uB), gB = FloatVector.fromArray(F, w.gS, atB);
        int atC = tb + (ja - 2) * L;
        FloatVector dtC = FloatVector.fromArray(F, w.dtS, atC), uC = FloatVector.fromArray(F, w.uS, atC);
        FloatVector dtuC = dtC.mul(uC), gC = FloatVector.fromArray(F, w.gS, atC);
        int atD = tb + (ja - 3) * L;
        FloatVector dtD = FloatVector.fromArray(F, w.dtS, atD), uD = FloatVector.fromArray(F, w.uS, atD);
        FloatVector dtuD = dtD.mul(uD), gD = FloatVector.fromArray(F, w.gS, atD);
        FloatVector z0 = FloatVector.zero(F);
        FloatVector dDtA = z0, sumDhBA = z0, ySumA = z0, dDtB = z0, sumDhBB = z0, ySumB = z0, dDtC = z0, sumDhBC = z0, ySumC = z0, dDtD = z0, sumDhBD = z0, ySumD = z0;
        for (int s = 0; s < n; s++) {
            int i = s * L, r0 = ja * nL + i; // hist row of h_{t−1}; decay row of token t
            FloatVector aV = FloatVector.fromArray(F, aS, i);
            FloatVector hN = FloatVector.fromArray(F, hist, r0 + nL); // h_t
            FloatVector dhPrev = FloatVector.fromArray(F, dh, i);
            FloatVector dAv = FloatVector.fromArray(F, dAacc, i);
            { // token t − 0
                int di = r0 - 0 * nL;
                FloatVector hP = FloatVector.fromArray(F, hist, di); // h_(t−0−1)
                FloatVector bS = FloatVector.broadcast(F, Bv[bRow - 0 * bSt + s]), cS = FloatVector.broadcast(F, Cv[cRow - 0 * cSt + s]);
                FloatVector dhv = gA.fma(cS, dhPrev);
                if (sums) {
                    gA.fma(hN, FloatVector.fromArray(F, dCv, di)).intoArray(dCv, di);
                    dhv.fma(dtuA, FloatVector.fromArray(F, dBv, di)).intoArray(dBv, di);
                }
                dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, di));
                FloatVector q = dhPrev.mul(hP);
                dAv = q.fma(dtA, dAv);
                dDtA = q.fma(aV, dDtA);
                sumDhBA = dhv.fma(bS, sumDhBA);
                ySumA = hN.fma(cS, ySumA);
                hN = hP;
            }
            { // token t − 1
                int di = r0 - 1 * nL;
                FloatVector hP = FloatVector.fromArray(F, hist, di); // h_(t−1−1)
                FloatVector bS = FloatVector.broadcast(F, Bv[bRow - 1 * bSt + s]), cS = FloatVector.broadcast(F, Cv[cRow - 1 * cSt + s]);
                FloatVector dhv = gB.fma(cS, dhPrev);
                if (sums) {
                    gB.fma(hN, FloatVector.fromArray(F, dCv, di)).intoArray(dCv, di);
                    dhv.fma(dtuB, FloatVector.fromArray(F, dBv, di)).intoArray(dBv, di);
                }
                dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, di));
                FloatVector q = dhPrev.mul(hP);
                dAv = q.fma(dtB, dAv);
                dDtB = q.fma(aV, dDtB);
                sumDhBB = dhv.fma(bS, sumDhBB);
                ySumB = hN.fma(cS, ySumB);
                hN = hP;
            }
            { // token t − 2
                int di = r0 - 2 * nL;
                FloatVector hP = FloatVector.fromArray(F, hist, di); // h_(t−2−1)
                FloatVector bS = FloatVector.broadcast(F, Bv[bRow - 2 * bSt + s]), cS = FloatVector.broadcast(F, Cv[cRow - 2 * cSt + s]);
                FloatVector dhv = gC.fma(cS, dhPrev);
                if (sums) {
                    gC.fma(hN, FloatVector.fromArray(F, dCv, di)).intoArray(dCv, di);
                    dhv.fma(dtuC, FloatVector.fromArray(F, dBv, di)).intoArray(dBv, di);
                }
                dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, di));
                FloatVector q = dhPrev.mul(hP);
                dAv = q.fma(dtC, dAv);
                dDtC = q.fma(aV, dDtC);
                sumDhBC = dhv.fma(bS, sumDhBC);
                ySumC = hN.fma(cS, ySumC);
                hN = hP;
            }
            { // token t − 3
                int di = r0 - 3 * nL;
                FloatVector hP = FloatVector.fromArray(F, hist, di); // h_(t−3−1)
                FloatVector bS = FloatVector.broadcast(F, Bv[bRow - 3 * bSt + s]), cS = FloatVector.broadcast(F, Cv[cRow - 3 * cSt + s]);
                FloatVector dhv = gD.fma(cS, dhPrev);
                if (sums) {
                    gD.fma(hN, FloatVector.fromArray(F, dCv, di)).intoArray(dCv, di);
                    dhv.fma(dtuD, FloatVector.fromArray(F, dBv, di)).intoArray(dBv, di);
                }
                dhPrev = dhv.mul(FloatVector.fromArray(F, decayS, di));
                FloatVector q = dhPrev.mul(hP);
                dAv = q.fma(dtD, dAv);
                dDtD = q.fma(aV, dDtD);
                sumDhBD = dhv.fma(bS, sumDhBD);
                ySumD = hN.fma(cS, ySumD);
                hN = hP;
            }
            dAv.intoArray(dAacc, i);
            dhPrev.intoArray(dh, i);
        }
        // the per-token ends, in token order t, t − 1, … (as walkToken would)
        FloatVector acc = FloatVector.fromArray(F, blk.dDacc, 0);
        acc = gA.fma(uA, acc);
        acc = gB.fma(uB, acc);
        acc = gC.fma(uC, acc);
        acc = gD.fma(uD, acc);
        acc.intoArray(blk.dDacc, 0);
        FloatVector bias = FloatVector.fromArray(F, blk.dBiasAcc, 0);
        if (gr.dz != null) dSkip.fma(uA, ySumA).mul(FloatVector.fromArray(F, w.dzS, atA)).intoArray(w.dzS, atA);
        gA.mul(dSkip).add(sumDhBA.mul(dtA)).intoArray(w.gS, atA);
        dDtA = sumDhBA.fma(uA, dDtA);
        if (sp.deltaSoftplus) dDtA = dDtA.mul(FloatVector.fromArray(F, w.sigS, atA));
        dDtA.intoArray(w.sigS, atA);
        bias = bias.add(dDtA);
        if (gr.dz != null) dSkip.fma(uB, ySumB).mul(FloatVector.fromArray(F, w.dzS, atB)).intoArray(w.dzS, atB);
        gB.mul(dSkip).add(sumDhBB.mul(dtB)).intoArray(w.gS, atB);
        dDtB = sumDhBB.fma(uB, dDtB);
        if (sp.deltaSoftplus) dDtB = dDtB.mul(FloatVector.fromArray(F, w.sigS, atB));
        dDtB.intoArray(w.sigS, atB);
        bias = bias.add(dDtB);
        if (gr.dz != null) dSkip.fma(uC, ySumC).mul(FloatVector.fromArray(F, w.dzS, atC)).intoArray(w.dzS, atC);
        gC.mul(dSkip).add(sumDhBC.mul(dtC)).intoArray(w.gS, atC);
        dDtC = sumDhBC.fma(uC, dDtC);
        if (sp.deltaSoftplus) dDtC = dDtC.mul(FloatVector.fromArray(F, w.sigS, atC));
        dDtC.intoArray(w.sigS, atC);
        bias = bias.add(dDtC);
        if (gr.dz != null) dSkip.fma(uD, ySumD).mul(FloatVector.fromArray(F, w.dzS, atD)).intoArray(w.dzS, atD);
        gD.mul(dSkip).add(sumDhBD.mul(dtD)).intoArray(w.gS, atD);
        dDtD = sumDhBD.fma(uD, dDtD);
        if (sp.deltaSoftplus) dDtD = dDtD.mul(FloatVector.fromArray(F, w.sigS, atD));
        dDtD.intoArray(w.sigS, atD);
        bias = bias.add(dDtD);
        bias.intoArray(blk.dBiasAcc, 0);
    }


    /**
     * Adds the walk's du, dz and dΔ of tokens [t0, t1), which it left in w.gS, w.dzS and w.sigS,
     * to the bound gradients, token row by token row over the run's count·L channels from c0:
     * a read-modify-write of consecutive floats that the hardware prefetchers follow (from inside
     * the walk, one strided line per token and block, each tended to wait for memory).
     */
    private static void outRun(ScanGrads gr, int bi, int c0, int count, int t0, int t1, int l, Work w) {
        for (int t = t0; t < t1; t++) {
            int row = bi * l + t;
            if (gr.du != null) {
                int at = gr.duOff + row * gr.duStride + c0;
                for (int b = 0; b < count; b++) addInto(FloatVector.fromArray(F, w.gS, (b * T + t - t0) * L), gr.du, at + b * L);
            }
            if (gr.dz != null) {
                int at = gr.dzOff + row * gr.dzStride + c0;
                for (int b = 0; b < count; b++) addInto(FloatVector.fromArray(F, w.dzS, (b * T + t - t0) * L), gr.dz, at + b * L);
            }
            if (gr.dDelta != null) {
                int at = gr.dDeltaOff + row * gr.dDeltaStride + c0;
                for (int b = 0; b < count; b++) addInto(FloatVector.fromArray(F, w.sigS, (b * T + t - t0) * L), gr.dDelta, at + b * L);
            }
        }
    }

    private static void addInto(FloatVector v, float[] a, int off) {
        FloatVector.fromArray(F, a, off).add(v).intoArray(a, off);
    }
}
