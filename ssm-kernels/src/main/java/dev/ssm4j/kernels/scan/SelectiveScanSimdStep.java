package dev.ssm4j.kernels.scan;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * SIMD twin of {@link SelectiveScanScalar#step}: one decoding token for a batch of (b, d, n)
 * states, updated in place. See docs/selective-scan.md, "The decoding step" (design, HotSpot
 * pitfalls met on the way, measurements).
 *
 * <h2>Shape of the work</h2>
 * The state is (b, d, n) with n contiguous, so the lanes run over the state index s inside one
 * channel: each channel reads and writes its state row once, as n/L vectors (one at Mamba's
 * n = 16 with AVX-512). A task is a <em>block</em> of L consecutive channels of one batch row
 * (L = lanes), in three parts:
 * <ol>
 *   <li>prologue, channel-wide vectors: Δ' = softplus(Δ + Δbias) of the L channels, parked in the
 *       block's slice of y (the output, written last), so Δ' needs no scratch;</li>
 *   <li>one pass per channel j: decay = 2^(A[c, s]·Δ'log2e), h = decay·h + B·(Δ'u), and a
 *       per-channel <em>vector</em> of partial sums of C·h (lane i: the s ≡ i mod L terms), stored
 *       as row j of a per-thread (L, L) scratch;</li>
 *   <li>a transpose-add tree ({@link #fold}) reduces the L rows together, so lane j of the result
 *       is Σ_s C[s]·h[c0 + j, s] without one horizontal reduction per channel; then the epilogue,
 *       channel-wide again: y = (Σ + D·u)·silu(z), one vector store over the parked Δ'.</li>
 * </ol>
 * Because Δ' is parked in y, y must not overlap any input ({@link SelectiveScan#checkStep}
 * checks it).
 *
 * <h2>The decay exp</h2>
 * The step is bound by the exponential (one per state element; its dependency chain is most of
 * the per-channel latency), so it has its own, cheaper one ({@link #exp2}): Δ'·log2e is computed once per channel (a scalar shared
 * by the n elements of the row), so x = A·(Δ'log2e) is one multiply, and 2^x = 2^k·2^f with
 * k = round(x), f = x − k ∈ [−½, ½], 2^f a degree-5 minimax polynomial (relative error
 * 9.2e−8, at most 2 ulp in float), 2^k written into the exponent field. About 14 vector ops
 * against ~22 for {@code VectorMath.exp}; the range is fixed with compare+blend, not
 * {@code max}/{@code min} (whose Java NaN/−0 semantics cost several instructions each on x86).
 * Measured: the step is 1.4–1.6× slower with {@code VectorMath.exp}.
 */
public final class SelectiveScanSimdStep {
    private SelectiveScanSimdStep() {}

    private static final int L = F.length();
    /** log2 L: the levels of the transpose-add tree (L is a power of two, 2 … 16). */
    private static final int LEVELS = Integer.numberOfTrailingZeros(L);

    static {
        if (L > 16) { // the tree below has four levels (x86 tops out at 512-bit vectors; SVE may not)
            throw new IllegalStateException("SelectiveScanSimdStep handles at most 16 float lanes, this JVM's vectors have "
                    + L + ": run with -Dssm4j.vector.bits=512 (or smaller)");
        }
    }
    /** Blocks per task when a pool splits the step: 16 blocks of 16 channels, ~2.5 µs of work. */
    private static final int GRAIN = 16;

    /** Step: same contract as {@link SelectiveScanScalar#step}; allocation-free on the calling thread. */
    public static void step(ScanTensors io, float[] state, int stateOffset, ForkJoinPool pool) {
        SelectiveScan.checkStep(io, state, stateOffset);
        ScanSpec sp = io.spec;
        int tasks = sp.batch * ((sp.channels + L - 1) / L);
        if (Parallel.serial(pool, tasks, GRAIN)) {
            blocks(io, state, stateOffset, 0, tasks); // no lambda: nothing allocated
        } else {
            Parallel.forRange(pool, tasks, GRAIN, (start, end) -> blocks(io, state, stateOffset, start, end));
        }
    }

    /* Blocks [start, end) of the (batch row, channel block) list. A method called once per block,
       not a loop in a rarely-called one: HotSpot runs Vector API code fast only once C2 compiled it. */
    private static void blocks(ScanTensors io, float[] state, int stateOffset, int start, int end) {
        int d = io.spec.channels, perRow = (d + L - 1) / L;
        float[] part = PART.get();
        for (int task = start; task < end; task++) {
            int bi = task / perRow, c0 = (task % perRow) * L, width = Math.min(L, d - c0);
            int yAt = io.yOff + bi * io.yStride + c0;
            prologue(io, bi, c0, width, yAt);
            block(io, state, stateOffset, bi, c0, width, yAt, part);
            epilogue(io, bi, c0, width, yAt);
        }
    }

    /**
     * Per-thread (L, L) scratch: row j holds channel j's vector of partial sums, then the tree's
     * levels. 1 KB per thread at L = 16, made once (a step then allocates nothing); used only
     * inside one task, which never waits on another, so it is never re-entered.
     */
    private static final ThreadLocal<float[]> PART = ThreadLocal.withInitial(() -> new float[L * L]);

    // Transpose-add tree constants: level k pairs lane i with lane i ^ 2^k.
    private static final VectorMask<Float> M0 = high(0), M1 = high(1), M2 = high(2), M3 = high(3);
    private static final VectorShuffle<Float> X0 = swap(0), X1 = swap(1), X2 = swap(2), X3 = swap(3);

    /** Lanes whose bit k is set (null past the last level). */
    private static VectorMask<Float> high(int k) {
        if (k >= LEVELS) return null;
        boolean[] on = new boolean[L];
        for (int i = 0; i < L; i++) on[i] = (i >> k & 1) != 0;
        return VectorMask.fromArray(F, on, 0);
    }

    /** The permutation i → i ^ 2^k (null past the last level). */
    private static VectorShuffle<Float> swap(int k) {
        return k >= LEVELS ? null : VectorShuffle.fromOp(F, i -> i ^ (1 << k));
    }

    /**
     * One level of the tree: a holds the partial sums of channels whose index has bit k clear,
     * b those with it set, each channel spread over lanes that agree in bits below k. Lane i of
     * the result is a[i] + a[i ^ 2^k] where bit k of i is clear and b[i] + b[i ^ 2^k] where it is
     * set, so after level log2 L − 1 lane j holds the whole sum of channel j.
     */
    private static void fold(float[] part, int i, VectorMask<Float> high, VectorShuffle<Float> swap) {
        FloatVector a = FloatVector.fromArray(F, part, i * L), b = FloatVector.fromArray(F, part, (i + 1) * L);
        a.blend(b, high).add(b.blend(a, high).rearrange(swap)).intoArray(part, i / 2 * L);
    }

    /**
     * The state update and C·h of channels [c0, c0 + width) of batch row bi (width ≤ L), into
     * y[yAt …], reading Δ' from there. The prologue and epilogue are separate methods that take
     * and return no vector, called from {@link #blocks}: this method holds only the channel loop,
     * the one exp call site and the tree, because C2 stops inlining once a compilation has parsed
     * NodeCountInliningCutoff IR nodes (with the prologue's softplus in here, the last folds of
     * the tree were left as calls that box), and a bigger method made C1 give up ("out of virtual
     * registers"), after which it never reached C2 at all.
     */
    private static void block(ScanTensors io, float[] state, int stateOffset, int bi, int c0, int width, int yAt,
            float[] part) {
        ScanSpec sp = io.spec;
        final int n = sp.stateSize, dg = sp.channelsPerGroup();
        final float[] A = io.A, Bv = io.B, Cv = io.C, y = io.y, u = io.u;
        // Everything the channel loop needs as locals, its indices linear in j: C2 then hoists the
        // range checks out of the loop and keeps the per-channel scalar work to a few instructions
        // (re-deriving them per channel, with c / dg, made the whole step ~25 % slower).
        final int uAt = io.uOff + bi * io.uStride + c0, at0 = stateOffset + (bi * sp.channels + c0) * n;
        final int a0 = io.aOff + c0 * n;
        for (int j0 = 0; j0 < width; ) { // runs of channels that share a group of B and C
            int gi = (c0 + j0) / dg, j1 = Math.min(width, (gi + 1) * dg - c0);
            int bRow = io.bOff + bi * io.bStride + gi * n, cRow = io.cOff + bi * io.cStride + gi * n;
            for (int j = j0; j < j1; j++) {
                float dt = y[yAt + j]; // the parked Δ'
                float dtu = dt * u[uAt + j];
                FloatVector dtl = FloatVector.broadcast(F, dt * LOG2E); // shared by the row's n elements
                int at = at0 + j * n, aRow = a0 + j * n;
                FloatVector v = FloatVector.zero(F); // lane i: Σ over s ≡ i (mod L) of C[s]·h[c0 + j, s]
                // One loop whose last vector is masked when L does not divide n (masked lanes: A = 0 →
                // decay 1, h = 0, C = 0), so there is one exp call site.
                for (int s = 0; s < n; s += L) {
                    boolean fs = s + L <= n;
                    VectorMask<Float> ms = fs ? null : F.indexInRange(s, n);
                    FloatVector decay = exp2(ScanBlocks.load(A, aRow + s, ms, fs), dtl);
                    FloatVector h = decay.fma(ScanBlocks.load(state, at + s, ms, fs), ScanBlocks.load(Bv, bRow + s, ms, fs).mul(dtu));
                    ScanBlocks.store(h, state, at + s, ms, fs);
                    v = h.fma(ScanBlocks.load(Cv, cRow + s, ms, fs), v);
                }
                v.intoArray(part, j * L);
            }
            j0 = j1;
        }
        if (width < L) Arrays.fill(part, width * L, L * L, 0f);
        // The tree, level by level through part: pairs (2i, 2i+1) → i. Through memory, not vectors
        // carried by the channel loop: C2 boxes vectors that a loop carries in conditionally
        // assigned variables (a binary counter of pending levels allocated ~80 B per channel).
        for (int i = 0; i < L; i += 2) fold(part, i, M0, X0);
        if (LEVELS > 1) for (int i = 0; i < L / 2; i += 2) fold(part, i, M1, X1);
        if (LEVELS > 2) for (int i = 0; i < L / 4; i += 2) fold(part, i, M2, X2);
        if (LEVELS > 3) fold(part, 0, M3, X3);
        if (width == L) FloatVector.fromArray(F, part, 0).intoArray(io.y, yAt);
        else FloatVector.fromArray(F, part, 0).intoArray(io.y, yAt, F.indexInRange(0, width));
    }

    /** Δ' = softplus(Δ + Δbias) of channels [c0, c0 + width) into y[yAt …] (overwritten by the epilogue). */
    private static void prologue(ScanTensors io, int bi, int c0, int width, int yAt) {
        boolean full = width == L;
        VectorMask<Float> m = full ? null : F.indexInRange(0, width);
        FloatVector dt = ScanBlocks.load(io.delta, io.deltaOff + bi * io.deltaStride + c0, m, full);
        if (io.deltaBias != null) dt = dt.add(ScanBlocks.load(io.deltaBias, io.deltaBiasOff + c0, m, full));
        if (io.spec.deltaSoftplus) dt = VectorMath.softplus(dt);
        ScanBlocks.store(dt, io.y, yAt, m, full);
    }

    /** y = (C·h + D u) · silu(z) for channels [c0, c0 + width), with C·h read from y[yAt …]. */
    private static void epilogue(ScanTensors io, int bi, int c0, int width, int yAt) {
        if (io.D == null && io.z == null) return;
        boolean full = width == L;
        VectorMask<Float> m = full ? null : F.indexInRange(0, width);
        FloatVector y = ScanBlocks.load(io.y, yAt, m, full);
        if (io.D != null) {
            y = ScanBlocks.load(io.D, io.dOff + c0, m, full).fma(ScanBlocks.load(io.u, io.uOff + bi * io.uStride + c0, m, full), y);
        }
        if (io.z != null) y = y.mul(VectorMath.silu(ScanBlocks.load(io.z, io.zOff + bi * io.zStride + c0, m, full)));
        ScanBlocks.store(y, io.y, yAt, m, full);
    }

    static final float LOG2E = 1.44269504088896341f;

    private static final float MAGIC = 12582912f + 127f; // 1.5·2^23 + 127: x + MAGIC rounds x, low bits k + 127
    // Minimax for 2^f on [−½, ½] with p(0) = 1 (relative error 9.2e−8; ≤ 2 ulp evaluated in float).
    private static final float E1 = 6.931470037e-1f, E2 = 2.402224243e-1f, E3 = 5.550733581e-2f,
            E4 = 9.671512991e-3f, E5 = 1.326472731e-3f;

    /** 2^x lane by lane: {@code exp2(x, 1)}. */
    static FloatVector exp2(FloatVector x) {
        return exp2(x, FloatVector.broadcast(F, 1f));
    }

    /**
     * 2^(a·scale) lane by lane, for the decay (a = A[c, s], scale = Δ'log2e: a·scale ≤ 0 in a
     * well-formed model; the step broadcasts one channel's scale over its n states, the forward
     * scan has a channel's A[c, s] and Δ'log2e in each lane). With x = a·scale: x ≤ −126.5 gives exactly 0 (the true value is below
     * 2^−126: subnormal or less), x > 128 gives +∞ (so does (127.5, 128], where the true value is
     * within 2^0.5 of FLT_MAX); NaN gives NaN. Relative error ≤ 2 ulp + the rounding of a·scale.
     *
     * <p>Shaped for a short dependency chain as well as few ops (each channel's chain, load A →
     * exp → FMA into h → store, is ~25 dependent vector ops): k = round(x) comes straight from an
     * FMA a·scale + MAGIC (in parallel with the product x itself), the polynomial is evaluated by
     * Estrin's scheme (depth 3 FMAs instead of 5 for Horner, one op more), and the out-of-range
     * lanes are fixed by blends at the end, whose compares run beside the polynomial instead of
     * clamping x before it. Measured 6–14 % faster (whole step) than Horner with clamps first.
     */
    static FloatVector exp2(FloatVector a, FloatVector scale) {
        FloatVector x = a.mul(scale);
        FloatVector t = a.fma(scale, FloatVector.broadcast(F, MAGIC)); // low bits: k + 127
        FloatVector f = x.sub(t.sub(MAGIC)); // x − k, |f| ≤ ½ (+1 ulp: x is rounded, k is not)
        FloatVector f2 = f.mul(f);
        FloatVector p01 = f.fma(E1, 1f), p23 = f.fma(E3, E2), p45 = f.fma(E5, E4);
        FloatVector p = f2.fma(f2.fma(p45, p23), p01); // p01 + f²·(p23 + f²·p45)
        // bits(t) = bits(1.5·2^23) + k + 127; shifted left by 23 only k + 127 survives, in the
        // exponent field. Lanes with k + 127 outside [0, 255] get garbage here and are replaced.
        FloatVector y = p.mul(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return y.blend(0f, x.compare(VectorOperators.LT, -127f))
                .blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 128f));
    }
}
