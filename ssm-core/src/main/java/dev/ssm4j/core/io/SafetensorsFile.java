package dev.ssm4j.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader of one {@code .safetensors} file, memory-mapped with {@code java.lang.foreign}.
 *
 * <h2>Format</h2>
 * <pre>
 *   bytes [0, 8)          N: unsigned 64-bit little-endian header length
 *   bytes [8, 8+N)        UTF-8 JSON object: {"__metadata__": {str: str}?,
 *                                             name: {"dtype": "F32", "shape": [d0, d1, ...],
 *                                                    "data_offsets": [begin, end]}, ...}
 *                         (may be padded at the end with spaces)
 *   bytes [8+N, size)     data region; a tensor's bytes are [8+N+begin, 8+N+end), little endian, C order
 * </pre>
 *
 * <h2>Validation</h2>
 * Everything is checked before any tensor can be touched, and every error is an
 * IllegalArgumentException whose message names the file, the tensor, and what was expected
 * versus found: a file shorter than 8 bytes; a header length beyond the file (or beyond
 * {@value #MAX_HEADER_BYTES} bytes, the format's limit — so a garbage length never allocates);
 * a header that is not UTF-8 JSON or not an object; unknown dtypes; shapes that are not arrays of
 * non-negative integers or whose element count overflows; data_offsets that are not two integers
 * with begin ≤ end inside the data region, or whose span differs from dtype size × element count;
 * tensors that overlap, leave holes, or do not end exactly at the end of the file (the format
 * requires the data region to be fully and exactly covered). {@code __metadata__} must map strings
 * to strings.
 *
 * <p>The whole file is mapped once into a shared {@link Arena}; {@link #close()} unmaps it.
 */
public final class SafetensorsFile implements TensorSource {
    /** Largest header accepted (the safetensors reference implementation uses the same bound). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path file;
    private final Arena arena;
    private final long dataStart;
    private final Map<String, SafeTensor> tensors; // header order
    private final List<String> names;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, Arena arena, long dataStart, Map<String, SafeTensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.names = List.copyOf(tensors.keySet());
        this.metadata = metadata;
    }

    /** Opens, validates and maps {@code file}. */
    public static SafetensorsFile open(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length that starts every safetensors file");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > size - 8) {
                throw bad(file, "header length is " + Long.toUnsignedString(headerLen) + " bytes but the file has only "
                        + (size - 8) + " bytes after the 8-byte length (truncated file, or not a safetensors file)");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + headerLen + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            if (headerLen < 2) throw bad(file, "header length is " + headerLen + " bytes, too short for a JSON object");
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Header header = parseHeader(file, headerBuf.array(), dataLen);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asReadOnly();
                Map<String, SafeTensor> tensors = new LinkedHashMap<>();
                for (Entry e : header.entries) {
                    MemorySegment slice = all.asSlice(dataStart + e.begin, e.end - e.begin);
                    tensors.put(e.name, new SafeTensor(file, e.name, e.dtype, e.shape, e.numel, slice));
                }
                return new SafetensorsFile(file, arena, dataStart, Collections.unmodifiableMap(tensors), header.metadata);
            } catch (Throwable t) {
                arena.close();
                throw t;
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file not found");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw bad(file, "file ended while reading the header (at byte " + pos + ")");
            pos += r;
        }
    }

    // ---------------------------------------------------------------------------- header checks

    private record Entry(String name, DType dtype, long[] shape, long numel, long begin, long end) {}

    private record Header(List<Entry> entries, Map<String, String> metadata) {}

    /** Parses and validates a header against a data region of {@code dataLen} bytes. */
    private static Header parseHeader(Path file, byte[] headerBytes, long dataLen) {
        String text = Json.decodeUtf8(headerBytes, file + " (header)");
        int firstNonSpace = 0;
        while (firstNonSpace < text.length() && text.charAt(firstNonSpace) == ' ') firstNonSpace++;
        if (firstNonSpace >= text.length() || text.charAt(firstNonSpace) != '{') {
            throw bad(file, "header is not a JSON object: expected '{' at byte 8, found "
                    + (firstNonSpace >= text.length() ? "only spaces" : "'" + text.charAt(firstNonSpace) + "'")
                    + " (is this a safetensors file?)");
        }
        Object parsed;
        try {
            parsed = Json.parse(text, file + " (header)");
        } catch (JsonException e) {
            throw new IllegalArgumentException(file + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> top)) throw bad(file, "header is not a JSON object");

        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> me : top.entrySet()) {
            String name = (String) me.getKey();
            if (name.equals("__metadata__")) {
                metadata = parseMetadata(file, me.getValue());
                continue;
            }
            entries.add(parseEntry(file, name, me.getValue(), dataLen));
        }
        checkCoverage(file, entries, dataLen);
        return new Header(List.copyOf(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, Object v) {
        if (v == null) return Map.of();
        if (!(v instanceof Map<?, ?> m)) {
            throw bad(file, "__metadata__: expected an object of string values, found " + Json.write(v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw bad(file, "__metadata__: value of '" + e.getKey() + "' must be a string, found " + Json.write(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseEntry(Path file, String name, Object v, long dataLen) {
        if (!(v instanceof Map<?, ?> m)) {
            throw badTensor(file, name, "expected an object {dtype, shape, data_offsets}, found " + Json.write(v));
        }
        Object dt = m.get("dtype");
        if (!(dt instanceof String dtName)) {
            throw badTensor(file, name, "expected \"dtype\" to be a string, found " + (m.containsKey("dtype") ? Json.write(dt) : "no dtype"));
        }
        DType dtype = DType.fromHeader(dtName);
        if (dtype == null) {
            throw badTensor(file, name, "unknown dtype \"" + dtName + "\" (known: " + java.util.Arrays.toString(DType.values()) + ")");
        }
        Object sh = m.get("shape");
        if (!(sh instanceof List<?> dims)) {
            throw badTensor(file, name, "expected \"shape\" to be an array of non-negative integers, found "
                    + (m.containsKey("shape") ? Json.write(sh) : "no shape"));
        }
        long[] shape = new long[dims.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            Object d = dims.get(i);
            if (!(d instanceof Long dl)) {
                throw badTensor(file, name, "shape " + Json.write(dims) + ": dimension " + i + " must be an integer, found " + Json.write(d));
            }
            if (dl < 0) throw badTensor(file, name, "shape " + Json.write(dims) + ": dimension " + i + " is negative (" + dl + ")");
            shape[i] = dl;
        }
        long bytes;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw badTensor(file, name, "shape " + Json.write(dims) + " of " + dtype + " has more bytes than a 64-bit size can hold");
        }
        Object off = m.get("data_offsets");
        if (!(off instanceof List<?> offs) || offs.size() != 2 || !(offs.get(0) instanceof Long b) || !(offs.get(1) instanceof Long e)) {
            throw badTensor(file, name, "expected \"data_offsets\" to be [begin, end] (two integers), found "
                    + (m.containsKey("data_offsets") ? Json.write(off) : "no data_offsets"));
        }
        if (b < 0 || e < b) {
            throw badTensor(file, name, "data_offsets [" + b + ", " + e + "]: expected 0 <= begin <= end");
        }
        if (e > dataLen) {
            throw badTensor(file, name, "data_offsets [" + b + ", " + e + "] reach past the end of the data region, which has "
                    + dataLen + " bytes (file truncated, or the header lies)");
        }
        if (e - b != bytes) {
            throw badTensor(file, name, "data_offsets [" + b + ", " + e + "] span " + (e - b) + " bytes but " + dtype + " x shape "
                    + java.util.Arrays.toString(shape) + " needs " + bytes + " bytes (" + numel + " elements x " + dtype.bytes() + ")");
        }
        return new Entry(name, dtype, shape, numel, b, e);
    }

    /** Tensors must tile the data region exactly: sorted by begin, each starts where the last ended. */
    private static void checkCoverage(Path file, List<Entry> entries, long dataLen) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> x.begin != y.begin ? Long.compare(x.begin, y.begin) : Long.compare(x.end, y.end));
        long expected = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin < expected) {
                throw badTensor(file, e.name, "data_offsets [" + e.begin + ", " + e.end + "] overlap tensor '" + prev.name
                        + "' at [" + prev.begin + ", " + prev.end + "]");
            }
            if (e.begin > expected) {
                throw badTensor(file, e.name, "data_offsets [" + e.begin + ", " + e.end + "] leave a hole of " + (e.begin - expected)
                        + " bytes after " + (prev == null ? "the start of the data region" : "tensor '" + prev.name + "'")
                        + " (expected begin " + expected + ")");
            }
            expected = e.end;
            prev = e;
        }
        if (expected != dataLen) {
            throw bad(file, "the tensors cover " + expected + " bytes of the data region but it has " + dataLen
                    + " bytes (trailing bytes after " + (prev == null ? "the header" : "tensor '" + prev.name + "'") + ")");
        }
    }

    static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }

    private static IllegalArgumentException badTensor(Path file, String name, String what) {
        return new IllegalArgumentException(file + ": tensor '" + name + "': " + what);
    }

    // ---------------------------------------------------------------------------- access

    public Path path() {
        return file;
    }

    /** Byte offset of the data region in the file (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public SafeTensor tensor(String name) {
        SafeTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(TensorSource.missingMessage(file.toString(), name, names));
        return t;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public String description() {
        return file.toString();
    }

    /** Unmaps the file. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + names.size() + " tensors]";
    }
}
