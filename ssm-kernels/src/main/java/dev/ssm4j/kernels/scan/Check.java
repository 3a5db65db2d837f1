package dev.ssm4j.kernels.scan;

/** Shape checks shared by {@link ScanTensors} and {@link ScanGrads}; every message names the tensor. */
final class Check {
    private Check() {}

    static String tokenShape(ScanSpec s, int width) {
        return width == s.channels
                ? "(b, l, d) = (" + s.batch + ", " + s.length + ", " + s.channels + ")"
                : "(b, l, g·n) = (" + s.batch + ", " + s.length + ", " + width + ")";
    }

    static String stateShape(ScanSpec s) {
        return "(b, d, n) = (" + s.batch + ", " + s.channels + ", " + s.stateSize + ")";
    }

    /** A (b, l, width) tensor at (offset, tokenStride): every element must lie inside the array. */
    static void tokens(String name, float[] a, int offset, int tokenStride, ScanSpec s, int width, boolean nullable) {
        if (a == null) {
            if (nullable) return;
            throw new IllegalArgumentException(name + " must not be null; expected " + tokenShape(s, width));
        }
        if (offset < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + offset);
        if (tokenStride < width) {
            throw new IllegalArgumentException(name + ": tokenStride " + tokenStride + " is smaller than the row width "
                    + width + " of " + name + " " + tokenShape(s, width));
        }
        long last = offset + ((long) s.batch * s.length - 1) * tokenStride + width; // one past the last element
        if (last > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for "
                    + tokenShape(s, width) + " at offset " + offset + ", tokenStride " + tokenStride + " (needs "
                    + last + ")");
        }
    }

    /** A dense tensor of {@code size} floats from offset. */
    static void dense(String name, float[] a, int offset, int size, String shape, boolean nullable) {
        if (a == null) {
            if (nullable) return;
            throw new IllegalArgumentException(name + " must not be null; expected " + shape);
        }
        if (offset < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + offset);
        if ((long) offset + size > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for " + shape
                    + " (" + size + " floats) at offset " + offset);
        }
    }

    static void bound(String name, float[] a, ScanSpec s) {
        if (a == null) throw new IllegalArgumentException(name + " is required but was not bound (" + s + ")");
    }
}
