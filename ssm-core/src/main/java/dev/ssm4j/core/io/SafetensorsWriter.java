package dev.ssm4j.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file from float arrays, stored as F32, BF16 (round to nearest
 * even) or F16 (IEEE half, round to nearest even).
 *
 * <p>Layout: the header lists {@code __metadata__} first and then the tensors in the order they
 * were added; data follows in the same order, tightly packed. The header is padded with spaces
 * (allowed by the format) so the data region starts at a multiple of 8 bytes, which keeps every
 * F32 tensor 4-byte aligned in a memory map. The file is written atomically
 * ({@link AtomicFiles}: temp file in the same directory, fsync, ATOMIC_MOVE).
 *
 * <pre>
 *   new SafetensorsWriter().metadata("format", "pt")
 *       .addF32("w", w, 48, 768).addBF16("b", b, 768)
 *       .write(dir.resolve("model.safetensors"));
 * </pre>
 * The arrays are referenced, not copied, until {@link #write} returns.
 */
public final class SafetensorsWriter {
    private record Pending(String name, DType dtype, float[] data, int offset, long[] shape, long numel) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Pending> tensors = new LinkedHashMap<>();

    /** Adds one {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        if (key == null || value == null) throw new IllegalArgumentException("metadata key and value must not be null");
        metadata.put(key, value);
        return this;
    }

    /** Adds {@code data} (length = product of shape) stored as F32. */
    public SafetensorsWriter addF32(String name, float[] data, int... shape) {
        return add(name, DType.F32, data, 0, shape);
    }

    /** Adds {@code data} stored as BF16 (rounded to nearest even). */
    public SafetensorsWriter addBF16(String name, float[] data, int... shape) {
        return add(name, DType.BF16, data, 0, shape);
    }

    /** Adds {@code data} stored as F16 (rounded to nearest even; overflow becomes ±Infinity). */
    public SafetensorsWriter addF16(String name, float[] data, int... shape) {
        return add(name, DType.F16, data, 0, shape);
    }

    /**
     * Adds the elements {@code data[offset .. offset + product(shape))} stored as {@code dtype}
     * (F32, BF16 or F16). A scalar has no dims.
     */
    public SafetensorsWriter add(String name, DType dtype, float[] data, int offset, int... shape) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must be non-empty");
        if (name.equals("__metadata__")) throw new IllegalArgumentException("tensor name '__metadata__' is reserved by the format");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' was already added");
        if (!dtype.isFloat()) throw new IllegalArgumentException("tensor '" + name + "': can only write F32, BF16 or F16, not " + dtype);
        long numel = 1;
        long[] lshape = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has a negative dimension");
            lshape[i] = shape[i];
            // Capped just above the largest array length: no overflow, and a 0 dim still gives 0.
            numel = Math.min(numel * shape[i], Integer.MAX_VALUE + 1L);
        }
        if (offset < 0 || offset > data.length || numel > data.length - (long) offset) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs " + numel
                    + " values from offset " + offset + " but data has length " + data.length);
        }
        tensors.put(name, new Pending(name, dtype, data, offset, lshape, numel));
        return this;
    }

    /** Writes the file atomically. */
    public void write(Path file) throws IOException {
        // Header: offsets are known up front because every tensor's size is.
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        List<Pending> order = new ArrayList<>(tensors.values());
        for (Pending p : order) {
            long bytes = p.numel * p.dtype.bytes();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", p.dtype.name());
            e.put("shape", p.shape);
            e.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(p.name, e);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7; // 8 + padded ≡ 0 (mod 8)
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Pending p : order) writeData(ch, buf, p);
        });
    }

    /** Streams one tensor through {@code buf} (1 MiB), converting to little-endian {@code dtype}. */
    private static void writeData(FileChannel ch, ByteBuffer buf, Pending p) throws IOException {
        int perChunk = buf.capacity() / p.dtype.bytes();
        int n = (int) p.numel;
        for (int done = 0; done < n; ) {
            int m = Math.min(perChunk, n - done);
            buf.clear();
            int base = p.offset + done;
            switch (p.dtype) {
                case F32 -> buf.asFloatBuffer().put(p.data, base, m);
                case BF16 -> { for (int i = 0; i < m; i++) buf.putShort(2 * i, DType.floatToBf16(p.data[base + i])); }
                case F16 -> { for (int i = 0; i < m; i++) buf.putShort(2 * i, Float.floatToFloat16(p.data[base + i])); }
                default -> throw new AssertionError(p.dtype);
            }
            buf.limit(m * p.dtype.bytes());
            AtomicFiles.writeFully(ch, buf);
            done += m;
        }
    }
}
