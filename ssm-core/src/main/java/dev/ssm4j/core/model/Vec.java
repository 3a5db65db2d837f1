package dev.ssm4j.core.model;

/**
 * A small parameter vector (norm weight, bias, A_log, D, conv taps …) as a view (array, offset,
 * length): either its own array (loaded checkpoints) or a slice of the trainer's flat parameter
 * array, so optimizer updates are seen by the next forward without reloading.
 */
record Vec(float[] a, int off, int n) {
    Vec {
        if (off < 0 || n < 0 || (long) off + n > a.length) {
            throw new IllegalArgumentException("view [" + off + ", " + ((long) off + n) + ") outside float[" + a.length
                    + "]");
        }
    }

    static Vec of(float[] a) {
        return new Vec(a, 0, a.length);
    }

    /** True when the view is exactly its whole array (kernels without an offset argument take it as is). */
    boolean dense() {
        return off == 0 && n == a.length;
    }

    /** The values as a dense array: the array itself when {@link #dense()}, else copied into {@code scratch}. */
    float[] denseOr(float[] scratch) {
        if (dense()) return a;
        System.arraycopy(a, off, scratch, 0, n);
        return scratch;
    }

    float get(int i) {
        return a[off + i];
    }
}
