package dev.ssm4j.core.model;

/** Where a model's tensors come from, by HF name: views into a flat array, or a checkpoint. */
interface Weights {
    /** A small tensor (norm weight, bias, A_log, D, conv taps) as a float view. */
    Vec vec(String name);

    /** A 2-D weight matrix (out, in) of a linear layer or the embedding. */
    Linear matrix(String name);

    /** A small matrix that must be a float[] (read with strides); default: {@link #matrix}. */
    default Linear denseMatrix(String name) {
        return matrix(name);
    }

    /** True when the values may change between calls (views into a caller's array). */
    default boolean mutable() {
        return false;
    }

    /** Views into one flat float[] laid out by {@link ParameterLayout} (the trainer's parameters). */
    static Weights flat(ParameterLayout layout, float[] params) {
        if (params.length < layout.flatSize()) {
            throw new IllegalArgumentException("flat parameter array has length " + params.length + ", the layout of "
                    + layout.spec() + " needs " + layout.flatSize());
        }
        return new Weights() {
            @Override
            public Vec vec(String name) {
                ParameterLayout.Entry e = layout.get(name);
                return new Vec(params, (int) e.offset(), (int) e.size());
            }

            @Override
            public boolean mutable() {
                return true;
            }

            @Override
            public Linear matrix(String name) {
                ParameterLayout.Entry e = layout.get(name);
                int[] s = e.shape();
                return Linear.ofArray(params, (int) e.offset(), s[0], s[1]);
            }
        };
    }

    /** Wraps {@code w}, recording every tensor handed out into {@code into} (name → Vec | Linear). */
    static Weights recording(Weights w, java.util.Map<String, Object> into) {
        return new Weights() {
            @Override
            public Vec vec(String name) {
                Vec v = w.vec(name);
                into.put(name, v);
                return v;
            }

            @Override
            public boolean mutable() {
                return w.mutable();
            }

            @Override
            public Linear denseMatrix(String name) {
                Linear m = w.denseMatrix(name);
                into.put(name, m);
                return m;
            }

            @Override
            public Linear matrix(String name) {
                Linear m = w.matrix(name);
                into.put(name, m);
                return m;
            }
        };
    }
}
