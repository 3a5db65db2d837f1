package dev.ssm4j.kernels.norm;

/** Argument checks shared by the norm twins; messages name the argument, its shape and the expected one. */
final class NormChecks {
    private NormChecks() {}

    static void sizes(int rows, int d, int groupSize) {
        if (rows < 0 || d < 1) {
            throw new IllegalArgumentException("norm sizes must be rows >= 0, d >= 1; got rows=" + rows + ", d=" + d);
        }
        if (groupSize < 1 || d % groupSize != 0) {
            throw new IllegalArgumentException("groupSize must be >= 1 and divide d=" + d + ", got " + groupSize);
        }
    }

    static void rows(String name, float[] a, int off, int stride, int rows, int cols, boolean optional) {
        if (a == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null (expected (" + rows + ", " + cols + "))");
        }
        if (off < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + off);
        if (rows > 1 && stride < cols) {
            throw new IllegalArgumentException(name + ": row stride " + stride + " is smaller than the row width " + cols);
        }
        long need = rows == 0 ? 0 : off + (long) (rows - 1) * stride + cols;
        if (need > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for (" + rows
                    + " rows, " + cols + ") at offset " + off + " with row stride " + stride + " (needs " + need + ")");
        }
    }

    static void weight(String name, float[] w, int d, boolean optional) {
        if (w == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null (expected (d=" + d + "))");
        }
        if (w.length != d) throw new IllegalArgumentException(name + " has length " + w.length + ", expected (d=" + d + ")");
    }

    static void rstd(float[] rstd, int rows, int groups, boolean optional) {
        if (rstd == null) {
            if (optional) return;
            throw new IllegalArgumentException("rstd must not be null (expected (rows=" + rows + ", groups=" + groups + "))");
        }
        if (rstd.length < (long) rows * groups) {
            throw new IllegalArgumentException("rstd has length " + rstd.length + ", expected at least (rows=" + rows
                    + ", groups=" + groups + ") = " + (long) rows * groups);
        }
    }

    static void forward(float[] y, int yOff, int yStride, float[] rstd, float[] x, int xOff, int xStride, float[] z,
                        int zOff, int zStride, float[] weight, int rows, int d, int groupSize) {
        sizes(rows, d, groupSize);
        rows("y", y, yOff, yStride, rows, d, false);
        rows("x", x, xOff, xStride, rows, d, false);
        rows("z", z, zOff, zStride, rows, d, true);
        weight("weight", weight, d, false);
        rstd(rstd, rows, d / groupSize, true);
    }

    static void backward(float[] dx, int dxOff, int dxStride, float[] dz, int dzOff, int dzStride, float[] dweight,
                         float[] dy, int dyOff, int dyStride, float[] x, int xOff, int xStride, float[] z, int zOff,
                         int zStride, float[] rstd, float[] weight, int rows, int d, int groupSize) {
        sizes(rows, d, groupSize);
        rows("dx", dx, dxOff, dxStride, rows, d, true);
        rows("dz", dz, dzOff, dzStride, rows, d, true);
        rows("dy", dy, dyOff, dyStride, rows, d, false);
        rows("x", x, xOff, xStride, rows, d, false);
        rows("z", z, zOff, zStride, rows, d, true);
        if (dz != null && z == null) throw new IllegalArgumentException("dz given but z is null (no gate)");
        weight("weight", weight, d, false);
        weight("dweight", dweight, d, true);
        rstd(rstd, rows, d / groupSize, true);
    }
}
