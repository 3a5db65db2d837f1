package dev.ssm4j.kernels.conv;

/** Argument checks shared by the conv1d twins: every message names the argument and both shapes. */
final class ConvChecks {
    private ConvChecks() {}

    static void sizes(int b, int l, int d, int w) {
        if (b < 0 || l < 0 || d < 1) {
            throw new IllegalArgumentException("conv1d sizes must be b >= 0, l >= 0, d >= 1; got b=" + b + ", l=" + l
                    + ", d=" + d);
        }
        if (w < 2 || w > CausalConv1d.MAX_WIDTH) {
            throw new IllegalArgumentException("conv1d width w must be in 2.." + CausalConv1d.MAX_WIDTH + ", got " + w);
        }
    }

    /** (rows, cols) at offset with row stride; null allowed only when {@code optional}. */
    static void rows(String name, float[] a, int off, int stride, int rows, int cols, boolean optional) {
        if (a == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null (expected (" + rows + ", " + cols + "))");
        }
        if (off < 0) throw new IllegalArgumentException(name + ": offset must be >= 0, got " + off);
        if (rows > 1 && stride < cols) {
            throw new IllegalArgumentException(name + ": token stride " + stride + " is smaller than the row width "
                    + cols);
        }
        long need = rows == 0 ? 0 : off + (long) (rows - 1) * stride + cols;
        if (need > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for (" + rows
                    + " tokens, " + cols + " channels) at offset " + off + " with token stride " + stride + " (needs "
                    + need + ")");
        }
    }

    /** An array of exactly d·w floats (w = 0: exactly d), named and shaped in the message only on failure. */
    static void exact(String name, float[] a, int d, int w, boolean optional) {
        int len = w == 0 ? d : d * w;
        if (a == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null (expected " + shape(d, w) + ")");
        }
        if (a.length != len) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected " + shape(d, w) + " = " + len);
        }
    }

    private static String shape(int d, int w) {
        return w == 0 ? "(d=" + d + ")" : "(d=" + d + ", w=" + w + ")";
    }

    /** Rejects an output that overlaps an input it is computed from (other than a disjoint column slice). */
    static void noOverlap(String outName, float[] out, int outOff, int outStride, int outRows, String inName,
                          float[] in, int inOff, int inStride, int inRows, int cols) {
        if (out == null || in == null || out != in || outRows == 0 || inRows == 0) return;
        long outEnd = outOff + (long) (outRows - 1) * outStride + cols;
        long inEnd = inOff + (long) (inRows - 1) * inStride + cols;
        if (outEnd <= inOff || inEnd <= outOff) return;
        if (outStride == inStride && outStride > 0) {
            long a = Math.floorMod(outOff - inOff, outStride);
            // columns [a, a + cols) of in's row grid versus [0, cols): disjoint when they do not meet modulo the stride
            if (a >= cols && a + cols <= outStride) return;
        }
        throw new IllegalArgumentException(outName + " overlaps " + inName + " (same array, offsets " + outOff + " and "
                + inOff + "): this kernel cannot run in place");
    }

    static void cuSeqlens(int[] cu, int b, int l) {
        if (cu == null) return;
        if (cu.length < 2 || cu[0] != 0 || cu[cu.length - 1] != b * l) {
            throw new IllegalArgumentException("cuSeqlens must start at 0 and end at b*l = " + (b * l) + ", got "
                    + java.util.Arrays.toString(cu.length > 12 ? java.util.Arrays.copyOf(cu, 12) : cu)
                    + (cu.length > 12 ? "..." : "") + " (length " + cu.length + ")");
        }
        for (int i = 1; i < cu.length; i++) {
            if (cu[i] < cu[i - 1]) {
                throw new IllegalArgumentException("cuSeqlens must be non-decreasing; cuSeqlens[" + i + "] = " + cu[i]
                        + " < cuSeqlens[" + (i - 1) + "] = " + cu[i - 1]);
            }
        }
    }
}
