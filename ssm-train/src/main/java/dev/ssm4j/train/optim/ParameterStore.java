package dev.ssm4j.train.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * All trainable parameters of a model in ONE flat {@code float[]}, and their gradients in a second
 * flat {@code float[]} of the same length (llm.c style). Each named tensor is a {@link View}: an
 * offset into both buffers, a shape (row-major), and a parameter-group tag. Views are laid out
 * back to back in the order they were added; that order is fixed, so a checkpoint of the flat
 * buffers is meaningful across runs.
 *
 * <p>Why flat: an optimizer step is then one loop over the whole buffer (or one per {@link Range}
 * of equal group), with no per-tensor dispatch, and zeroing gradients is one {@link Arrays#fill}.
 *
 * <pre>
 *   data  [size]   the parameters: view v occupies data[v.offset() .. v.offset() + v.size())
 *   grad  [size]   d loss / d data, same layout; backward passes ACCUMULATE into it (+=)
 * </pre>
 *
 * <p>Group tags are free strings; the Mamba rule ({@link MambaGrouping}) uses {@link #DECAY} and
 * {@link #NO_DECAY}. Optimizers look up per-group hyper-parameters ({@link ParamGroup}) by tag.
 */
public final class ParameterStore implements Iterable<ParameterStore.View> {
    /** Group tag of tensors that get weight decay. */
    public static final String DECAY = "decay";
    /** Group tag of tensors that get no weight decay (biases, norms, A_log, D, Δ bias). */
    public static final String NO_DECAY = "no_decay";

    /** One named tensor: {@code data[offset .. offset + size)}, row-major {@code shape}, group tag. */
    public record View(String name, int index, int offset, int size, int[] shape, String group) {
        /** The shape as text, e.g. {@code [3, 4]}. */
        public String shapeString() {
            return Arrays.toString(shape);
        }
    }

    /** A maximal run of consecutive views with the same group: {@code [offset, offset + length)}. */
    public record Range(String group, int offset, int length) {}

    /** What a store is built from: a name, a shape, a group tag. */
    public record Spec(String name, int[] shape, String group) {
        public Spec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(group, "group of " + name);
            shape = shape.clone();
        }
    }

    private final float[] data;
    private final float[] grad;
    private final List<View> views;
    private final Map<String, View> byName;
    private final List<Range> ranges;
    private final List<String> groups;

    private ParameterStore(List<Spec> specs) {
        List<View> vs = new ArrayList<>(specs.size());
        Map<String, View> names = new LinkedHashMap<>();
        long offset = 0;
        for (Spec s : specs) {
            long size = 1;
            for (int d : s.shape()) {
                if (d <= 0) {
                    throw new IllegalArgumentException("parameter " + s.name() + ": shape " + Arrays.toString(s.shape())
                            + " has a dimension <= 0; expected every dimension >= 1");
                }
                size *= d;
            }
            if (offset + size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("parameters: more than 2^31 - 16 floats in total at " + s.name()
                        + "; a flat float[] cannot hold them");
            }
            View v = new View(s.name(), vs.size(), (int) offset, (int) size, s.shape().clone(), s.group());
            if (names.put(s.name(), v) != null) {
                throw new IllegalArgumentException("parameter name " + s.name() + " given twice");
            }
            vs.add(v);
            offset += size;
        }
        this.data = new float[(int) offset];
        this.grad = new float[(int) offset];
        this.views = Collections.unmodifiableList(vs);
        this.byName = Collections.unmodifiableMap(names);
        List<Range> rs = new ArrayList<>();
        List<String> gs = new ArrayList<>();
        for (View v : vs) {
            if (!gs.contains(v.group())) gs.add(v.group());
            Range last = rs.isEmpty() ? null : rs.getLast();
            if (last != null && last.group().equals(v.group())) {
                rs.set(rs.size() - 1, new Range(last.group(), last.offset(), last.length() + v.size()));
            } else {
                rs.add(new Range(v.group(), v.offset(), v.size()));
            }
        }
        this.ranges = Collections.unmodifiableList(rs);
        this.groups = Collections.unmodifiableList(gs);
    }

    /** A store with the given tensors, in this order; parameters and gradients start at zero. */
    public static ParameterStore of(List<Spec> specs) {
        return new ParameterStore(specs);
    }

    /** A builder; {@link Builder#add(String, int...)} groups by {@code grouping} (name → group tag). */
    public static Builder builder(Function<String, String> grouping) {
        return new Builder(grouping);
    }

    /** A builder that groups by the Mamba rule ({@link MambaGrouping#groupOf}). */
    public static Builder builder() {
        return new Builder(MambaGrouping::groupOf);
    }

    /** Collects (name, shape, group) in order. */
    public static final class Builder {
        private final Function<String, String> grouping;
        private final List<Spec> specs = new ArrayList<>();

        private Builder(Function<String, String> grouping) {
            this.grouping = Objects.requireNonNull(grouping, "grouping");
        }

        /** Adds a tensor whose group is decided by the builder's grouping function. */
        public Builder add(String name, int... shape) {
            specs.add(new Spec(name, shape, grouping.apply(name)));
            return this;
        }

        /** Adds a tensor with an explicit group tag. */
        public Builder addGrouped(String name, String group, int... shape) {
            specs.add(new Spec(name, shape, group));
            return this;
        }

        public ParameterStore build() {
            return new ParameterStore(specs);
        }
    }

    /** All parameters, flat: {@code [size()]}. Views index into it. Not a copy. */
    public float[] data() {
        return data;
    }

    /** All gradients, flat, same layout as {@link #data()}. Not a copy. */
    public float[] grad() {
        return grad;
    }

    /** Total number of scalar parameters. */
    public int size() {
        return data.length;
    }

    /** Number of named tensors. */
    public int count() {
        return views.size();
    }

    /** The views in store order. */
    public List<View> views() {
        return views;
    }

    @Override
    public Iterator<View> iterator() {
        return views.iterator();
    }

    /** True when a tensor of this name exists. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The view of a name, or an IllegalArgumentException listing a few names that do exist. */
    public View view(String name) {
        View v = byName.get(name);
        if (v == null) {
            List<String> some = views.stream().map(View::name).limit(8).toList();
            throw new IllegalArgumentException("no parameter named '" + name + "' (the store has " + views.size()
                    + " tensors, e.g. " + some + ")");
        }
        return v;
    }

    /** Maximal runs of consecutive views with equal group, in order; they tile {@code [0, size())}. */
    public List<Range> ranges() {
        return ranges;
    }

    /** The distinct group tags, in order of first appearance. */
    public List<String> groups() {
        return groups;
    }

    /** Number of scalar parameters in a group. */
    public long groupSize(String group) {
        long n = 0;
        for (Range r : ranges) if (r.group().equals(group)) n += r.length();
        return n;
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        Arrays.fill(grad, 0f);
    }

    /** A copy of one tensor's parameters. */
    public float[] copyData(String name) {
        View v = view(name);
        return Arrays.copyOfRange(data, v.offset(), v.offset() + v.size());
    }

    /** A copy of one tensor's gradient. */
    public float[] copyGrad(String name) {
        View v = view(name);
        return Arrays.copyOfRange(grad, v.offset(), v.offset() + v.size());
    }

    /** Overwrites one tensor's parameters with {@code values} (length must equal the view's size). */
    public void setData(String name, float[] values) {
        View v = view(name);
        if (values.length != v.size()) {
            throw new IllegalArgumentException("setData(" + name + "): values has length " + values.length
                    + ", expected " + v.size() + " (shape " + v.shapeString() + ")");
        }
        System.arraycopy(values, 0, data, v.offset(), v.size());
    }

    /** Overwrites one tensor's gradient with {@code values} (length must equal the view's size). */
    public void setGrad(String name, float[] values) {
        View v = view(name);
        if (values.length != v.size()) {
            throw new IllegalArgumentException("setGrad(" + name + "): values has length " + values.length
                    + ", expected " + v.size() + " (shape " + v.shapeString() + ")");
        }
        System.arraycopy(values, 0, grad, v.offset(), v.size());
    }
}
