package dev.ssm4j.kernels.scan;

import java.util.Arrays;

/**
 * The sizes and options of one selective scan (Mamba-1 "S6", Gu &amp; Dao 2023, §3.2 and
 * Algorithm 2): immutable, validated when built, meant to be made once and reused for every call.
 *
 * <h2>Glossary (name in code ↔ paper symbol)</h2>
 * <ul>
 *   <li>{@code batch} = b: independent sequences (batch rows).</li>
 *   <li>{@code length} = l (paper L): tokens per batch row.</li>
 *   <li>{@code channels} = d (paper D): channels, each with its own independent SSM.</li>
 *   <li>{@code stateSize} = n (paper N): state size per channel.</li>
 *   <li>{@code groups} = g: B and C have g groups; channel c uses group c / (d/g). g = 1 is
 *       plain Mamba-1 (B, C shared by all channels).</li>
 *   <li>{@code deltaSoftplus}: Δ' = softplus(Δ + Δbias) when true, Δ' = Δ + Δbias otherwise.</li>
 *   <li>{@code cuSeqlens}: optional packed variable-length boundaries within each batch row: the
 *       sequences are [cu[i], cu[i+1]); the state is reset to zero at every boundary after the
 *       first (the first sequence starts from h0, or from zero without h0).</li>
 * </ul>
 */
public final class ScanSpec {
    /**
     * Tokens between two saved states ("checkpoints"): a forward with
     * {@link ScanTensors#checkpoints} bound keeps the state before tokens 0, T, 2T, …, and the
     * SIMD backward recomputes the scan chunk by chunk from them.
     */
    public static final int CHECKPOINT_TOKENS = 32;

    /** b, l, d, n, g. */
    public final int batch, length, channels, stateSize, groups;
    /** Apply softplus to Δ + Δbias. */
    public final boolean deltaSoftplus;
    private final int[] cuSeqlens; // private copy, or null

    private ScanSpec(int batch, int length, int channels, int stateSize, int groups, boolean deltaSoftplus,
            int[] cuSeqlens) {
        positive("batch (b)", batch);
        positive("length (l)", length);
        positive("channels (d)", channels);
        positive("stateSize (n)", stateSize);
        positive("groups (g)", groups);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("channels (d) = " + channels + " must be a multiple of groups (g) = "
                    + groups);
        }
        if ((long) batch * length * channels * stateSize > Integer.MAX_VALUE
                || (long) batch * length * Math.max(channels, groups * stateSize) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("scan too large for int indexing: b·l·d·n = "
                    + (long) batch * length * channels * stateSize);
        }
        if (cuSeqlens != null) {
            if (cuSeqlens.length < 2 || cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != length) {
                throw new IllegalArgumentException("cuSeqlens must start at 0 and end at length l = " + length
                        + ", got " + Arrays.toString(cuSeqlens));
            }
            for (int i = 1; i < cuSeqlens.length; i++) {
                if (cuSeqlens[i] < cuSeqlens[i - 1]) {
                    throw new IllegalArgumentException("cuSeqlens must be non-decreasing, got "
                            + Arrays.toString(cuSeqlens));
                }
            }
        }
        this.batch = batch;
        this.length = length;
        this.channels = channels;
        this.stateSize = stateSize;
        this.groups = groups;
        this.deltaSoftplus = deltaSoftplus;
        this.cuSeqlens = cuSeqlens == null ? null : cuSeqlens.clone();
    }

    private static void positive(String what, int v) {
        if (v < 1) throw new IllegalArgumentException(what + " must be >= 1, got " + v);
    }

    /** A scan of b rows of l tokens, d channels, state size n; one group, no softplus, no cuSeqlens. */
    public static ScanSpec of(int batch, int length, int channels, int stateSize) {
        return new ScanSpec(batch, length, channels, stateSize, 1, false, null);
    }

    /** A decoding step: {@code of(batch, 1, channels, stateSize)}. */
    public static ScanSpec step(int batch, int channels, int stateSize) {
        return of(batch, 1, channels, stateSize);
    }

    /** Same scan with g groups of B and C (d must be a multiple of g). */
    public ScanSpec groups(int g) {
        return new ScanSpec(batch, length, channels, stateSize, g, deltaSoftplus, cuSeqlens);
    }

    /** Same scan with Δ' = softplus(Δ + Δbias) (true) or Δ + Δbias (false). */
    public ScanSpec deltaSoftplus(boolean on) {
        return new ScanSpec(batch, length, channels, stateSize, groups, on, cuSeqlens);
    }

    /**
     * Same scan with packed sequences [cu[i], cu[i+1]) in every batch row (null: one sequence per
     * row). cu[0] = 0, cu[last] = l, non-decreasing. The array is copied.
     */
    public ScanSpec cuSeqlens(int[] cu) {
        return new ScanSpec(batch, length, channels, stateSize, groups, deltaSoftplus, cu);
    }

    /** A copy of the cuSeqlens boundaries, or null. */
    public int[] cuSeqlens() {
        return cuSeqlens == null ? null : cuSeqlens.clone();
    }

    /** ⌈l / CHECKPOINT_TOKENS⌉: the checkpoints per batch row. */
    public int checkpointsPerRow() {
        return (length + CHECKPOINT_TOKENS - 1) / CHECKPOINT_TOKENS;
    }

    /** Floats of a checkpoint buffer: b · ⌈l/32⌉ · d · n (see {@link ScanTensors#checkpoints}). */
    public int checkpointFloats() {
        return batch * checkpointsPerRow() * channels * stateSize;
    }

    /** Channels per group, d / g. */
    public int channelsPerGroup() {
        return channels / groups;
    }

    /**
     * The reset positions as a boolean per token: {@code reset[t]} is true when the state is
     * zeroed before token t (a cuSeqlens boundary other than the first). Null without cuSeqlens.
     */
    boolean[] resets() {
        if (cuSeqlens == null) return null;
        boolean[] r = new boolean[length];
        for (int i = 1; i < cuSeqlens.length - 1; i++) {
            if (cuSeqlens[i] > 0 && cuSeqlens[i] < length) r[cuSeqlens[i]] = true;
        }
        return r;
    }

    @Override
    public String toString() {
        return "ScanSpec(b=" + batch + ", l=" + length + ", d=" + channels + ", n=" + stateSize + ", g=" + groups
                + (deltaSoftplus ? ", softplus" : "") + (cuSeqlens != null ? ", cuSeqlens=" + Arrays.toString(cuSeqlens) : "")
                + ")";
    }
}
