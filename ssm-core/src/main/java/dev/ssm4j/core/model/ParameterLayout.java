package dev.ssm4j.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ordered list of a model's parameters — Hugging Face name, shape, and offset in one flat
 * float[] holding them all back to back — for a {@link ModelSpec}. The checkpoint loader uses it to
 * know which tensors must be in a file (and their shapes); the trainer uses it to keep ONE flat
 * parameter array (and one gradient array of the same layout) and hand the model named views into
 * it ({@link MambaLM#fromFlat}).
 *
 * <p>Tied-aware: with {@code tie_word_embeddings} there is no {@code lm_head.weight} entry (the
 * head reads {@code backbone.embeddings.weight}), exactly as in an HF checkpoint.
 *
 * <p>Order: embeddings; then per layer its norm and mixer tensors in data-flow order (in_proj,
 * conv1d, x_proj/dt_proj or dt_bias, A_log, D, [Mamba-2 gated norm], out_proj); then norm_f and
 * lm_head. Offsets are dense (no padding), so {@link #totalSize()} is the parameter count.
 */
public final class ParameterLayout {
    /** One tensor: HF name, shape (row-major), offset in the flat array, and element count. */
    public record Entry(String name, int[] shape, long offset, long size) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Shape as "[a, b]". */
        public String shapeString() {
            return Arrays.toString(shape);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape) + "@" + offset;
        }
    }

    public static final String EMBEDDINGS = "backbone.embeddings.weight";
    public static final String NORM_F = "backbone.norm_f.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private final ModelSpec spec;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final long total;

    public ParameterLayout(ModelSpec spec) {
        this.spec = spec;
        List<Entry> list = new ArrayList<>();
        long[] off = {0};
        int H = spec.hidden, d = spec.dInner, n = spec.dState, w = spec.convWidth;
        add(list, off, EMBEDDINGS, spec.vocab, H);
        for (int i = 0; i < spec.layers; i++) {
            String p = layerPrefix(i);
            add(list, off, p + "norm.weight", H);
            String m = p + "mixer.";
            add(list, off, m + "in_proj.weight", spec.inProjDim, H);
            if (spec.useBias) add(list, off, m + "in_proj.bias", spec.inProjDim);
            add(list, off, m + "conv1d.weight", spec.convDim, 1, w);
            if (spec.useConvBias) add(list, off, m + "conv1d.bias", spec.convDim);
            if (spec.kind == ModelSpec.Kind.MAMBA1) {
                add(list, off, m + "x_proj.weight", spec.xProjDim, d);
                add(list, off, m + "dt_proj.weight", d, spec.dtRank);
                add(list, off, m + "dt_proj.bias", d);
                add(list, off, m + "A_log", d, n);
                add(list, off, m + "D", d);
            } else {
                add(list, off, m + "dt_bias", spec.heads);
                add(list, off, m + "A_log", spec.heads);
                add(list, off, m + "D", spec.heads);
                add(list, off, m + "norm.weight", d);
            }
            add(list, off, m + "out_proj.weight", H, d);
            if (spec.useBias) add(list, off, m + "out_proj.bias", H);
        }
        add(list, off, NORM_F, H);
        if (!spec.tieEmbeddings) add(list, off, LM_HEAD, spec.vocab, H);
        this.entries = Collections.unmodifiableList(list);
        Map<String, Entry> map = new LinkedHashMap<>();
        for (Entry e : list) map.put(e.name(), e);
        this.byName = Collections.unmodifiableMap(map);
        this.total = off[0];
    }

    private static void add(List<Entry> list, long[] off, String name, int... shape) {
        long size = 1;
        for (int s : shape) size *= s;
        list.add(new Entry(name, shape, off[0], size));
        off[0] += size;
    }

    /** "backbone.layers.{i}." */
    public static String layerPrefix(int i) {
        return "backbone.layers." + i + ".";
    }

    public ModelSpec spec() {
        return spec;
    }

    /** All entries in layout order. */
    public List<Entry> entries() {
        return entries;
    }

    /** The entry named {@code name}, or null. */
    public Entry find(String name) {
        return byName.get(name);
    }

    /** The entry named {@code name}; IllegalArgumentException naming it when absent. */
    public Entry get(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in the layout of " + spec);
        }
        return e;
    }

    /** Number of parameters (tied embeddings counted once). */
    public long parameterCount() {
        return total;
    }

    /**
     * Length of the flat float[] holding every parameter; IllegalArgumentException when the model
     * is too large for one Java array (load such checkpoints memory-mapped instead).
     */
    public int flatSize() {
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("model has " + total + " parameters: more than one float[] can hold"
                    + " (the flat layout is for trainable models; load large checkpoints memory-mapped)");
        }
        return (int) total;
    }

    /** Number of tensors. */
    public int size() {
        return entries.size();
    }

    /** Names in layout order. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
