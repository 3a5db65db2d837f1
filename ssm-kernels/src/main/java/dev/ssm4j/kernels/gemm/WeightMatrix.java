package dev.ssm4j.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A read-only weight matrix W of shape (rows × cols), row-major, as a PyTorch {@code Linear}
 * stores it: rows = output features n, cols = input features k, so a linear layer computes
 * y = x·Wᵀ. The values live in one of three places, and stay there (nothing is converted up front):
 *
 * <ul>
 *   <li>{@link #of(float[], int, int, int)}: a Java {@code float[]} (training, tests);</li>
 *   <li>{@link #f32(MemorySegment, long, int, int)}: little-endian IEEE float32 in a
 *       {@link MemorySegment}, e.g. a memory-mapped safetensors file;</li>
 *   <li>{@link #bf16(MemorySegment, long, int, int)}: little-endian bfloat16 in a segment. A bf16
 *       value is the upper half of a float32: {@code Float.intBitsToFloat((bits & 0xffff) << 16)}.
 *       The kernels widen bf16 to f32 in registers while they stream the weights (decode) or while
 *       they pack a panel (prefill), so the matrix occupies and moves half the bytes of f32.</li>
 * </ul>
 *
 * <p>Rows may be further apart than {@code cols} ({@link #rowStride()}, in elements), which lets a
 * caller view a block of rows of a fused weight ({@link #rows(int, int)}) without copying.
 *
 * <p>Bounds are checked once, here; the kernels then trust {@code rows}, {@code cols} and the
 * stride. A segment must stay alive (its arena open) while kernels read it.
 */
public final class WeightMatrix {

    /** Element type of the stored values. */
    public enum Format {
        F32(4), BF16(2);

        /** Bytes per element. */
        public final int bytes;

        Format(int bytes) {
            this.bytes = bytes;
        }
    }

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort BF16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Format format;
    final int rows, cols;
    /** Distance between the first elements of consecutive rows, in elements (≥ cols). */
    final long rowStride;
    /** Backing array (format F32 only) or null. */
    final float[] array;
    final int arrayOffset;
    /** Backing segment or null. */
    final MemorySegment segment;
    /** Byte offset of element (0, 0) in {@link #segment}. */
    final long byteOffset;

    private WeightMatrix(Format format, int rows, int cols, long rowStride, float[] array, int arrayOffset,
            MemorySegment segment, long byteOffset) {
        this.format = format;
        this.rows = rows;
        this.cols = cols;
        this.rowStride = rowStride;
        this.array = array;
        this.arrayOffset = arrayOffset;
        this.segment = segment;
        this.byteOffset = byteOffset;
    }

    /** W = w[offset + r·cols + c] for r &lt; rows, c &lt; cols. */
    public static WeightMatrix of(float[] w, int offset, int rows, int cols) {
        return of(w, offset, rows, cols, cols);
    }

    /** W = w[offset + r·rowStride + c]; rowStride ≥ cols. */
    public static WeightMatrix of(float[] w, int offset, int rows, int cols, int rowStride) {
        Objects.requireNonNull(w, "w");
        checkShape(rows, cols, rowStride);
        if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        long need = needed(offset, rows, cols, rowStride);
        if (need > w.length) {
            throw new IllegalArgumentException("weight array too short for a " + rows + "x" + cols + " matrix (rowStride "
                    + rowStride + ", offset " + offset + "): need length >= " + need + ", got " + w.length);
        }
        return new WeightMatrix(Format.F32, rows, cols, rowStride, w, offset, null, 0);
    }

    /** Little-endian float32 values at {@code byteOffset} of {@code segment}, rows packed (stride = cols). */
    public static WeightMatrix f32(MemorySegment segment, long byteOffset, int rows, int cols) {
        return ofSegment(Format.F32, segment, byteOffset, rows, cols, cols);
    }

    /** Little-endian bfloat16 values at {@code byteOffset} of {@code segment}, rows packed (stride = cols). */
    public static WeightMatrix bf16(MemorySegment segment, long byteOffset, int rows, int cols) {
        return ofSegment(Format.BF16, segment, byteOffset, rows, cols, cols);
    }

    /** A segment-backed matrix of either format with an explicit row stride (in elements). */
    public static WeightMatrix ofSegment(Format format, MemorySegment segment, long byteOffset, int rows, int cols,
            long rowStride) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(segment, "segment");
        checkShape(rows, cols, rowStride);
        if (byteOffset < 0) throw new IllegalArgumentException("byteOffset must be >= 0, got " + byteOffset);
        long needBytes = byteOffset + needed(0, rows, cols, rowStride) * format.bytes;
        if (needBytes > segment.byteSize()) {
            throw new IllegalArgumentException("segment too small for a " + rows + "x" + cols + " " + format
                    + " matrix (rowStride " + rowStride + ", byteOffset " + byteOffset + "): need byteSize >= "
                    + needBytes + ", got " + segment.byteSize());
        }
        return new WeightMatrix(format, rows, cols, rowStride, null, 0, segment, byteOffset);
    }

    /** The rows [first, first + count) of this matrix, sharing its storage. */
    public WeightMatrix rows(int first, int count) {
        if (first < 0 || count < 0 || first + count > rows) {
            throw new IllegalArgumentException("rows [" + first + ", " + first + "+" + count + ") out of [0, " + rows + ")");
        }
        return array != null
                ? new WeightMatrix(format, count, cols, rowStride, array, (int) (arrayOffset + first * rowStride), null, 0)
                : new WeightMatrix(format, count, cols, rowStride, null, 0, segment,
                        byteOffset + first * rowStride * format.bytes);
    }

    public Format format() {
        return format;
    }

    /** Number of rows (output features n). */
    public int rows() {
        return rows;
    }

    /** Number of columns (input features k). */
    public int cols() {
        return cols;
    }

    /** Distance between consecutive rows, in elements. */
    public long rowStride() {
        return rowStride;
    }

    /** W[r][c] as a float (bf16 widened exactly); bounds-checked. For scalar code and tests. */
    public float get(int r, int c) {
        Objects.checkIndex(r, rows);
        Objects.checkIndex(c, cols);
        return at(r, c);
    }

    /** W[r][c] without the row/column check (the segment access itself is still checked). */
    float at(int r, int c) {
        long e = r * rowStride + c;
        if (array != null) return array[(int) (arrayOffset + e)];
        if (format == Format.F32) return segment.get(F32_LE, byteOffset + 4 * e);
        return bf16ToFloat(segment.get(BF16_LE, byteOffset + 2 * e));
    }

    /** bf16 bits (the upper 16 bits of a float32) to float, exactly. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float to bf16 bits, rounding to nearest even (NaN stays a quiet NaN). For tests and converters. */
    public static short floatToBf16(float x) {
        int b = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((b >>> 16) | 0x40);
        int rounded = b + 0x7fff + ((b >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + rows + "x" + cols + " " + format + (array != null ? " float[]" : " segment")
                + (rowStride != cols ? ", rowStride " + rowStride : "") + "]";
    }

    private static void checkShape(int rows, int cols, long rowStride) {
        if (rows < 0) throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        if (cols < 0) throw new IllegalArgumentException("cols must be >= 0, got " + cols);
        if (rowStride < Math.max(1, cols)) {
            throw new IllegalArgumentException("rowStride must be >= max(1, cols) = " + Math.max(1, cols) + ", got " + rowStride);
        }
    }

    /** Elements spanned from element 0 to the end of the last row. */
    private static long needed(long offset, int rows, int cols, long rowStride) {
        return rows == 0 || cols == 0 ? offset : offset + (rows - 1) * rowStride + cols;
    }
}
