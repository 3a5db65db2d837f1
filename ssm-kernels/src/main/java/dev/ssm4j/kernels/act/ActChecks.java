package dev.ssm4j.kernels.act;

/** Argument checks for the elementwise kernels. */
final class ActChecks {
    private ActChecks() {}

    static void rows(String name, float[] a, int off, int stride, int rows, int cols) {
        if (a == null) throw new IllegalArgumentException(name + " must not be null (expected (" + rows + ", " + cols + "))");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("sizes must be >= 0, got rows=" + rows + ", cols=" + cols);
        if (off < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + off);
        if (rows > 1 && stride < cols) {
            throw new IllegalArgumentException(name + ": row stride " + stride + " is smaller than the row width " + cols);
        }
        long need = rows == 0 || cols == 0 ? 0 : off + (long) (rows - 1) * stride + cols;
        if (need > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for (" + rows
                    + " rows, " + cols + ") at offset " + off + " with row stride " + stride + " (needs " + need + ")");
        }
    }

    static void flat(String name, float[] a, int off, int n) {
        rows(name, a, off, n, 1, n);
    }
}
