package dev.ssm4j.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy {@code .npy} files for float32 arrays (e.g. logits [l, vocab]) and integer token files,
 * little endian, C order.
 *
 * <h2>Format (version 1.0, what {@code numpy.save} writes)</h2>
 * <pre>
 *   "\x93NUMPY" 0x01 0x00            magic and version
 *   uint16 LE  HLEN                  header length (version 2.0/3.0: uint32 LE)
 *   HLEN bytes ASCII                 {'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }
 *                                    padded with spaces and ended by '\n' so the data starts at a
 *                                    multiple of 64 bytes
 *   data                             product(shape) elements, no trailing bytes
 * </pre>
 * Writers produce exactly numpy's bytes (version 1.0) and replace the target atomically
 * ({@link AtomicFiles}). The reader accepts versions 1.0–3.0 and checks the magic, the header
 * dictionary (exactly the three keys, a supported descr, fortran_order False unless the array has
 * at most one dimension, a shape of non-negative ints) and that the file holds exactly
 * product(shape) × itemsize data bytes; every error is an IllegalArgumentException naming the file.
 *
 * <p>Supported dtypes (what numpy writes for them): float32 {@code <f4}; the integers int8
 * {@code |i1}, uint8 {@code |u1}, int16 {@code <i2}, uint16 {@code <u2}, int32 {@code <i4}, uint32
 * {@code <u4}, int64 {@code <i8}. Integers up to 32 bits signed / 16 bits unsigned are widened to
 * {@code int[]}, uint32 and int64 to {@code long[]}; {@link #readTokens} accepts any of them as
 * long as the array is 1-D and every value is a valid token id in {@code [0, 2^31)}. Big-endian
 * ({@code >}) and uint64 are not supported (an error names the dtype).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final int MAX_HEADER = 1 << 20;
    private static final ValueLayout.OfFloat F4 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I4 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I8 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I2 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String INTEGER_DTYPES =
            "'|i1' int8, '|u1' uint8, '<i2' int16, '<u2' uint16, '<i4' int32, '<u4' uint32, '<i8' int64 (little endian)";

    private Npy() {}

    /**
     * An array read from a .npy file: exactly one of floats/ints/longs is non-null, per descr —
     * floats for {@code <f4}; ints for {@code |i1 |u1 <i2 <u2 <i4} (widened); longs for
     * {@code <u4 <i8}.
     */
    public record Array(Path file, String descr, int[] shape, float[] floats, int[] ints, long[] longs) {
        /** Number of elements. */
        public int numel() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        /** The float32 data; IllegalArgumentException naming the file if the array is not {@code <f4}. */
        public float[] requireFloats() {
            if (floats == null) throw new IllegalArgumentException(file + ": expected dtype <f4 (float32), found " + descr);
            return floats;
        }

        /**
         * Token ids as int[], from any integer dtype; IllegalArgumentException naming the file, the
         * index and the value if one is not a token id in {@code [0, 2^31)}, or naming the dtype if
         * the array is float.
         */
        public int[] requireTokens() {
            if (ints != null) {
                for (int i = 0; i < ints.length; i++) if (ints[i] < 0) throw outOfRange(i, ints[i]);
                return ints;
            }
            if (longs != null) {
                int[] out = new int[longs.length];
                for (int i = 0; i < out.length; i++) {
                    if (longs[i] < 0 || longs[i] > Integer.MAX_VALUE) throw outOfRange(i, longs[i]);
                    out[i] = (int) longs[i];
                }
                return out;
            }
            throw new IllegalArgumentException(file + ": dtype '" + descr + "' is not an integer type; token ids need one of "
                    + INTEGER_DTYPES);
        }

        private IllegalArgumentException outOfRange(int i, long v) {
            return new IllegalArgumentException(file + ": element " + i + " = " + v + " is not a token id (expected 0 <= id < 2^31)");
        }

        /** IllegalArgumentException naming the file unless the shape equals {@code expected}. */
        public Array requireShape(int... expected) {
            if (!Arrays.equals(shape, expected)) {
                throw new IllegalArgumentException(file + ": array has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(expected));
            }
            return this;
        }
    }

    // --------------------------------------------------------------------------------- writing

    /** Writes {@code data} (length = product of shape; no dims = a scalar) as {@code <f4}. */
    public static void writeF32(Path file, float[] data, int... shape) throws IOException {
        long numel = checkShape(file, data.length, shape);
        byte[] header = header("<f4", shape);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int done = 0; done < numel; ) {
                int m = (int) Math.min(buf.capacity() / 4, numel - done);
                buf.clear();
                buf.asFloatBuffer().put(data, done, m);
                buf.limit(4 * m);
                AtomicFiles.writeFully(ch, buf);
                done += m;
            }
        });
    }

    /** Writes a 1-D {@code <i4} array (e.g. token ids). */
    public static void writeI32(Path file, int[] data) throws IOException {
        byte[] header = header("<i4", new int[] {data.length});
        ByteBuffer body = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        body.asIntBuffer().put(data);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            AtomicFiles.writeFully(ch, body);
        });
    }

    /** Writes a 1-D {@code <i8} array (numpy's default integer type, e.g. torch token ids). */
    public static void writeI64(Path file, long[] data) throws IOException {
        byte[] header = header("<i8", new int[] {data.length});
        ByteBuffer body = ByteBuffer.allocate(8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        body.asLongBuffer().put(data);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            AtomicFiles.writeFully(ch, body);
        });
    }

    private static long checkShape(Path file, int length, int[] shape) {
        long numel = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " has a negative dimension");
            numel = Math.min(numel * d, Integer.MAX_VALUE + 1L);
        }
        if (numel != length) {
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " holds " + numel + " elements but data has " + length);
        }
        return numel;
    }

    /** Magic, version 1.0, length and the padded dict, exactly as numpy writes them. */
    private static byte[] header(String descr, int[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) dict.append(i == 0 ? "" : ", ").append(shape[i]);
        if (shape.length == 1) dict.append(',');
        dict.append("), }");
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1; // + '\n'
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        dict.append(" ".repeat(pad)).append('\n');
        byte[] text = dict.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
        return b.array();
    }

    // --------------------------------------------------------------------------------- reading

    /** Reads and validates {@code file}. */
    public static Array read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            if (size < 10) throw bad(file, "file is " + size + " bytes, too short for the .npy magic and version");
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            for (int i = 0; i < MAGIC.length; i++) {
                if (seg.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) throw bad(file, "missing the .npy magic \"\\x93NUMPY\" (not a .npy file)");
            }
            int major = seg.get(ValueLayout.JAVA_BYTE, 6), minor = seg.get(ValueLayout.JAVA_BYTE, 7);
            long headerLen;
            int prefix;
            if (major == 1) {
                prefix = 10;
                headerLen = Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
            } else if (major == 2 || major == 3) {
                prefix = 12;
                if (size < 12) throw bad(file, "file is " + size + " bytes, too short for a version " + major + " header length");
                headerLen = Integer.toUnsignedLong(seg.get(I4, 8));
            } else {
                throw bad(file, "unsupported .npy version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
            }
            if (headerLen > size - prefix || headerLen > MAX_HEADER) {
                throw bad(file, "header length " + headerLen + " is larger than the " + (size - prefix) + " bytes after the prefix (truncated file?)");
            }
            byte[] hb = seg.asSlice(prefix, headerLen).toArray(ValueLayout.JAVA_BYTE);
            String text = major == 3 ? Json.decodeUtf8(hb, file + " (header)") : new String(hb, StandardCharsets.ISO_8859_1);
            Map<String, Object> dict = new HeaderParser(file, text).dict();
            Object descrObj = dict.get("descr"), fortran = dict.get("fortran_order"), shapeObj = dict.get("shape");
            if (dict.size() != 3 || !(descrObj instanceof String descr) || !(fortran instanceof Boolean f) || !(shapeObj instanceof List<?> dims)) {
                throw bad(file, "header must be {'descr': str, 'fortran_order': bool, 'shape': tuple}, found " + text.strip());
            }
            int itemSize = switch (descr) {
                case "|i1", "|u1" -> 1;
                case "<i2", "<u2" -> 2;
                case "<f4", "<i4", "<u4" -> 4;
                case "<i8" -> 8;
                default -> throw bad(file, "unsupported dtype '" + descr + "' (supported: '<f4' float32, " + INTEGER_DTYPES + ")");
            };
            int[] shape = new int[dims.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                long d = (Long) dims.get(i);
                if (d < 0 || d > Integer.MAX_VALUE) throw bad(file, "shape " + dims + ": dimension " + i + " = " + d + " out of range");
                shape[i] = (int) d;
                numel = Math.min(numel * d, Long.MAX_VALUE / 16); // d < 2^31: no overflow before the cap
            }
            if (f && shape.length > 1) throw bad(file, "fortran_order True (column-major) arrays are not supported; save with C order");
            long dataStart = prefix + headerLen;
            long dataBytes = size - dataStart;
            long need = numel * itemSize;
            if (dataBytes != need) {
                throw bad(file, "shape " + Arrays.toString(shape) + " of " + descr + " needs " + need + " data bytes but the file has "
                        + dataBytes + (dataBytes < need ? " (truncated)" : " (trailing bytes)"));
            }
            if (numel > Integer.MAX_VALUE - 8) throw bad(file, numel + " elements do not fit one Java array");
            int n = (int) numel;
            return switch (descr) {
                case "<f4" -> {
                    float[] a = new float[n];
                    MemorySegment.copy(seg, F4, dataStart, a, 0, n);
                    yield new Array(file, descr, shape, a, null, null);
                }
                case "<i4" -> {
                    int[] a = new int[n];
                    MemorySegment.copy(seg, I4, dataStart, a, 0, n);
                    yield new Array(file, descr, shape, null, a, null);
                }
                case "<i8" -> {
                    long[] a = new long[n];
                    MemorySegment.copy(seg, I8, dataStart, a, 0, n);
                    yield new Array(file, descr, shape, null, null, a);
                }
                case "<u4" -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = Integer.toUnsignedLong(seg.get(I4, dataStart + 4L * i));
                    yield new Array(file, descr, shape, null, null, a);
                }
                default -> new Array(file, descr, shape, null, narrow(seg, dataStart, n, descr), null);
            };
        }
    }

    /** The 8- and 16-bit integers widened to int (an element-wise loop: these files are small next to the model). */
    private static int[] narrow(MemorySegment seg, long at, int n, String descr) {
        int[] a = new int[n];
        switch (descr) {
            case "|i1" -> { for (int i = 0; i < n; i++) a[i] = seg.get(ValueLayout.JAVA_BYTE, at + i); }
            case "|u1" -> { for (int i = 0; i < n; i++) a[i] = Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, at + i)); }
            case "<i2" -> { for (int i = 0; i < n; i++) a[i] = seg.get(I2, at + 2L * i); }
            case "<u2" -> { for (int i = 0; i < n; i++) a[i] = Short.toUnsignedInt(seg.get(I2, at + 2L * i)); }
            default -> throw new AssertionError(descr);
        }
        return a;
    }

    /** Reads a {@code <f4} array whose shape must equal {@code expectedShape}. */
    public static float[] readF32(Path file, int... expectedShape) throws IOException {
        return read(file).requireShape(expectedShape).requireFloats();
    }

    /** Reads a 1-D token file of any supported integer dtype, values in {@code [0, 2^31)}. */
    public static int[] readTokens(Path file) throws IOException {
        Array a = read(file);
        if (a.shape().length != 1) throw bad(file, "expected a 1-D array of token ids (N,), found shape " + Arrays.toString(a.shape()));
        return a.requireTokens();
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }

    /**
     * Parses the header: a Python dict literal with str keys and str / bool / int-tuple values,
     * followed by spaces and a newline. Nothing else is accepted.
     */
    private static final class HeaderParser {
        private final Path file;
        private final String s;
        private int pos;

        HeaderParser(Path file, String s) {
            this.file = file;
            this.s = s;
        }

        Map<String, Object> dict() {
            ws();
            expect('{');
            Map<String, Object> out = new LinkedHashMap<>();
            while (true) {
                ws();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                String key = str();
                ws();
                expect(':');
                ws();
                if (out.put(key, value()) != null) throw error("duplicate key '" + key + "'");
                ws();
                if (peek() == ',') pos++;
                else if (peek() != '}') throw error("expected ',' or '}'");
            }
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\0')) pos++;
            if (pos != s.length()) throw error("unexpected text after the header dict");
            return out;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') return str();
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (c == '(') {
                pos++;
                List<Long> items = new ArrayList<>();
                while (true) {
                    ws();
                    if (peek() == ')') {
                        pos++;
                        return items;
                    }
                    items.add(integer());
                    ws();
                    if (peek() == ',') pos++;
                    else if (peek() != ')') throw error("expected ',' or ')' in the shape tuple");
                }
            }
            throw error("expected a string, True, False or a tuple");
        }

        private long integer() {
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
            if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 long suffix
            String digits = s.substring(start, pos).replace("L", "");
            if (digits.isEmpty() || digits.length() > 18) throw error("expected a non-negative integer in the shape tuple");
            return Long.parseLong(digits);
        }

        private String str() {
            char q = peek();
            if (q != '\'' && q != '"') throw error("expected a quoted string");
            int end = s.indexOf(q, pos + 1);
            if (end < 0) throw error("unterminated string");
            String out = s.substring(pos + 1, end);
            pos = end + 1;
            return out;
        }

        private void ws() {
            while (pos < s.length() && s.charAt(pos) == ' ') pos++;
        }

        private char peek() {
            if (pos >= s.length()) throw error("header ends too early");
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        private IllegalArgumentException error(String what) {
            return bad(file, "malformed header at character " + pos + ": " + what + " in " + s.strip());
        }
    }
}
