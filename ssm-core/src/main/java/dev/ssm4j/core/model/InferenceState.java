package dev.ssm4j.core.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The recurrent state of b sequences ("rows") of one model: everything a Mamba model remembers of
 * the tokens it has read, in constant memory per row regardless of their number.
 *
 * <p>Per layer i and row r:
 * <ul>
 *   <li>conv state (w − 1, convDim): the last w − 1 inputs of the causal conv (in_proj's x slice
 *       for Mamba-1, its xBC slice for Mamba-2), oldest first — {@code conv(i)} holds all rows as
 *       (b, w − 1, convDim), row r from {@code r·spec.convStateSize}. This is the transpose of
 *       transformers' (b, convDim, w) cache and leaves out its oldest slot, which no step reads.</li>
 *   <li>SSM state: Mamba-1 (d, n), Mamba-2 (h, p, n) — {@code ssm(i)} holds all rows as (b, d, n)
 *       resp. (b, h, p, n), row r from {@code r·spec.ssmStateSize}.</li>
 *   <li>position: how many tokens row r has consumed (kept by the model's forward and step).</li>
 * </ul>
 * A fresh or {@link #reset} state is all zeros at position 0 — the state before the first token.
 *
 * <p>Rows are independent: a forward call may update any subset of rows (see
 * {@link ForwardOptions#stateRows}), so rows can sit at different positions. Files written by
 * {@link #save} record the model's {@link ModelSpec#hash()}, the batch size and every row's position;
 * {@link #load} refuses a file made for another model.
 */
public final class InferenceState {
    private final ModelSpec spec;
    private final int batch;
    private final float[][] conv;   // [layers][b · (w−1) · convDim]
    private final float[][] ssm;    // [layers][b · ssmStateSize]
    private final long[] position;  // [b]

    private InferenceState(ModelSpec spec, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        long per = spec.stateFloatsPerSequence() / spec.layers;
        if ((long) batch * per > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("state of " + batch + " rows too large for one array per layer: "
                    + (long) batch * per + " floats");
        }
        this.spec = spec;
        this.batch = batch;
        this.conv = new float[spec.layers][batch * spec.convStateSize];
        this.ssm = new float[spec.layers][batch * spec.ssmStateSize];
        this.position = new long[batch];
    }

    /** A zero state (position 0) for {@code batch} rows of a model with this spec. */
    public static InferenceState allocate(ModelSpec spec, int batch) {
        return new InferenceState(spec, batch);
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Number of rows b. */
    public int batch() {
        return batch;
    }

    /** Conv state of layer {@code layer}, all rows: (b, w − 1, convDim). Live, not a copy. */
    public float[] conv(int layer) {
        return conv[checkLayer(layer)];
    }

    /** SSM state of layer {@code layer}, all rows: (b, d, n) or (b, h, p, n). Live, not a copy. */
    public float[] ssm(int layer) {
        return ssm[checkLayer(layer)];
    }

    /** Offset of row {@code row} in {@link #conv}. */
    public int convOffset(int row) {
        return checkRow(row) * spec.convStateSize;
    }

    /** Offset of row {@code row} in {@link #ssm}. */
    public int ssmOffset(int row) {
        return checkRow(row) * spec.ssmStateSize;
    }

    /** Tokens consumed by row {@code row}. */
    public long position(int row) {
        return position[checkRow(row)];
    }

    /** Sets the token count of a row (the model's forward advances it; exposed for tools and tests). */
    public void setPosition(int row, long pos) {
        if (pos < 0) throw new IllegalArgumentException("position must be >= 0, got " + pos);
        position[checkRow(row)] = pos;
    }

    void advance(int row, int tokens) {
        position[row] += tokens;
    }

    /** Zeroes every row (position 0). */
    public void reset() {
        for (int i = 0; i < spec.layers; i++) {
            Arrays.fill(conv[i], 0f);
            Arrays.fill(ssm[i], 0f);
        }
        Arrays.fill(position, 0L);
    }

    /** Zeroes one row (position 0); the other rows are untouched. */
    public void reset(int row) {
        int c = convOffset(row), s = ssmOffset(row);
        for (int i = 0; i < spec.layers; i++) {
            Arrays.fill(conv[i], c, c + spec.convStateSize, 0f);
            Arrays.fill(ssm[i], s, s + spec.ssmStateSize, 0f);
        }
        position[row] = 0;
    }

    /** A deep copy (fork): continuing either leaves the other untouched. */
    public InferenceState copy() {
        InferenceState out = new InferenceState(spec, batch);
        for (int i = 0; i < spec.layers; i++) {
            System.arraycopy(conv[i], 0, out.conv[i], 0, conv[i].length);
            System.arraycopy(ssm[i], 0, out.ssm[i], 0, ssm[i].length);
        }
        System.arraycopy(position, 0, out.position, 0, batch);
        return out;
    }

    /** Copies everything from {@code src} (same spec and batch) into this state. */
    public void copyFrom(InferenceState src) {
        requireSameModel(src, "copyFrom");
        if (src.batch != batch) {
            throw new IllegalArgumentException("copyFrom: source has " + src.batch + " rows, this state " + batch);
        }
        for (int i = 0; i < spec.layers; i++) {
            System.arraycopy(src.conv[i], 0, conv[i], 0, conv[i].length);
            System.arraycopy(src.ssm[i], 0, ssm[i], 0, ssm[i].length);
        }
        System.arraycopy(src.position, 0, position, 0, batch);
    }

    /**
     * Deep-copies row {@code srcRow} of this state into row {@code dstRow} of {@code dst} (which may
     * be this state): e.g. fork a prompt's state into several rows to sample continuations.
     */
    public void copyRow(int srcRow, InferenceState dst, int dstRow) {
        requireSameModel(dst, "copyRow");
        int sc = convOffset(srcRow), ss = ssmOffset(srcRow);
        int dc = dst.convOffset(dstRow), ds = dst.ssmOffset(dstRow);
        for (int i = 0; i < spec.layers; i++) {
            System.arraycopy(conv[i], sc, dst.conv[i], dc, spec.convStateSize);
            System.arraycopy(ssm[i], ss, dst.ssm[i], ds, spec.ssmStateSize);
        }
        dst.position[dstRow] = position[srcRow];
    }

    /** Bytes of state per row (all layers, float32). */
    public static long bytesPerSequence(ModelSpec spec) {
        return 4L * spec.stateFloatsPerSequence();
    }

    /**
     * Writes the state to {@code file} atomically (a temporary file renamed into place) as
     * safetensors: F32 tensors {@code layers.{i}.conv_state} (b, w − 1, convDim) and
     * {@code layers.{i}.ssm_state} (b, d, n) / (b, h, p, n), I64 {@code position} (b), and
     * metadata {@code format=ssm4j-state/1}, {@code model_hash}, {@code model} (the spec).
     */
    public void save(Path file) throws IOException {
        StateFiles.save(this, file);
    }

    /**
     * Reads a state written by {@link #save}; IllegalArgumentException (naming the file and the
     * mismatch) if it was made for another model or is malformed.
     */
    public static InferenceState load(Path file, ModelSpec spec) throws IOException {
        return StateFiles.load(file, spec);
    }

    private void requireSameModel(InferenceState other, String what) {
        if (!other.spec.equals(spec)) {
            throw new IllegalArgumentException(what + ": states belong to different models: " + spec + " vs "
                    + other.spec);
        }
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= spec.layers) {
            throw new IllegalArgumentException("layer " + layer + " out of range [0, " + spec.layers + ")");
        }
        return layer;
    }

    private int checkRow(int row) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("state row " + row + " out of range [0, " + batch + ")");
        }
        return row;
    }
}
