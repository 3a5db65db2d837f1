package dev.ssm4j.core.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of an opened safetensors file: its name, element type, shape and a read-only
 * {@link MemorySegment} over its bytes inside the memory-mapped file (little endian, C order —
 * the last dimension varies fastest). Nothing is copied until a conversion method is called.
 *
 * <p>The view is valid while the file it came from is open; after
 * {@link SafetensorsFile#close()} every access throws IllegalStateException naming the file.
 */
public final class SafeTensor {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements converted per step for 16-bit types: a 32 KiB scratch array, never one of numel. */
    private static final int CHUNK = 16 * 1024;

    private final Path file;
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final MemorySegment bytes;

    SafeTensor(Path file, String name, DType dtype, long[] shape, long numel, MemorySegment bytes) {
        this.file = file;
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel;
        this.bytes = bytes;
    }

    /** The tensor's name in the header, e.g. {@code backbone.layers.0.mixer.A_log}. */
    public String name() {
        return name;
    }

    /** The file the tensor lives in. */
    public Path file() {
        return file;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape (outermost dimension first). A scalar has shape []. */
    public long[] shape() {
        return shape.clone();
    }

    /** The shape as ints; IllegalStateException if a dimension exceeds Integer.MAX_VALUE. */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) throw new IllegalStateException(where() + ": dimension " + i + " is " + shape[i] + ", larger than an int");
            s[i] = (int) shape[i];
        }
        return s;
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements (1 for a scalar). */
    public long numel() {
        return numel;
    }

    /** Number of bytes: numel × dtype size. */
    public long byteSize() {
        return numel * dtype.bytes();
    }

    /** True if the shape equals {@code expected} exactly. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The shape written like {@code [48, 768]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** Read-only view of the raw bytes (little endian). */
    public MemorySegment segment() {
        checkOpen();
        return bytes;
    }

    /** All elements converted to float (F32 copied, BF16 and F16 widened exactly). */
    public float[] toFloatArray() {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(where() + ": " + numel + " elements do not fit in one float[]");
        }
        float[] out = new float[(int) numel];
        copyTo(out, 0);
        return out;
    }

    /** Converts all elements to float into {@code dst[dstOffset .. dstOffset + numel)}. */
    public void copyTo(float[] dst, int dstOffset) {
        if (dstOffset < 0 || dstOffset > dst.length || numel > dst.length - (long) dstOffset) {
            throw new IllegalArgumentException(where() + ": cannot copy " + numel + " elements into float[" + dst.length
                    + "] at offset " + dstOffset + " (needs offset in [0, " + (dst.length - numel) + "])");
        }
        requireFloat();
        checkOpen();
        int n = (int) numel;
        switch (dtype) {
            case F32 -> MemorySegment.copy(bytes, F32_LE, 0, dst, dstOffset, n);
            case BF16, F16 -> {
                short[] chunk = new short[Math.min(CHUNK, n)];
                for (int done = 0; done < n; ) {
                    int m = Math.min(chunk.length, n - done);
                    MemorySegment.copy(bytes, I16_LE, 2L * done, chunk, 0, m);
                    if (dtype == DType.BF16) {
                        for (int i = 0; i < m; i++) dst[dstOffset + done + i] = Float.intBitsToFloat((chunk[i] & 0xffff) << 16);
                    } else {
                        for (int i = 0; i < m; i++) dst[dstOffset + done + i] = Float.float16ToFloat(chunk[i]);
                    }
                    done += m;
                }
            }
            default -> throw new AssertionError(dtype);
        }
    }

    /** Element {@code index} (flat, C order) as float. */
    public float getFloat(long index) {
        if (index < 0 || index >= numel) throw new IndexOutOfBoundsException(where() + ": element " + index + " of " + numel);
        requireFloat();
        checkOpen();
        return switch (dtype) {
            case F32 -> bytes.get(F32_LE, 4 * index);
            case BF16 -> DType.bf16ToFloat(bytes.get(I16_LE, 2 * index));
            case F16 -> Float.float16ToFloat(bytes.get(I16_LE, 2 * index));
            default -> throw new AssertionError(dtype);
        };
    }

    private void requireFloat() {
        if (!dtype.isFloat()) {
            throw new UnsupportedOperationException(where() + ": dtype " + dtype + " is not supported for float access (supported: F32, BF16, F16)");
        }
    }

    private void checkOpen() {
        if (!bytes.scope().isAlive()) throw new IllegalStateException(where() + ": the file has been closed");
    }

    private String where() {
        return file + ": tensor '" + name + "'";
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString() + " (" + file.getFileName() + ")";
    }
}
