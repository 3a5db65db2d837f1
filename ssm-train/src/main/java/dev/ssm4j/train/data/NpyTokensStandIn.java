package dev.ssm4j.train.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * STAND-IN: a minimal reader/writer of 1-D integer {@code .npy} token files, private to this
 * package. {@code dev.ssm4j.core.io.Npy} is being written on another branch; when it is merged,
 * {@link TokenFile#readNpy} should call it and this class should be deleted.
 *
 * <p>Format (NumPy NEP 1): magic {@code \x93NUMPY}, version byte major, minor, header length
 * (uint16 LE for version 1, uint32 LE for versions 2 and 3), then a Python dict literal
 * {@code {'descr': '<i4', 'fortran_order': False, 'shape': (N,), }} padded with spaces and a
 * newline, then the raw data (fortran_order does not matter for 1-D). Read here: 1-D arrays of
 * i1/u1/i2/u2/i4/u4/i8/u8 in either byte order, values in {@code [0, 2^31)}.
 */
final class NpyTokensStandIn {
    private NpyTokensStandIn() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([iu])([1248])'");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    static int[] read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, pre, path);
            pre.flip();
            for (byte m : MAGIC) {
                if (pre.get() != m) throw bad(path, "does not start with the .npy magic \\x93NUMPY");
            }
            int major = pre.get() & 0xFF;
            pre.get(); // minor
            long headerLen;
            long dataStart;
            if (major == 1) {
                headerLen = pre.getShort(8) & 0xFFFF;
                dataStart = 10 + headerLen;
            } else if (major == 2 || major == 3) {
                headerLen = pre.getInt(8) & 0xFFFFFFFFL;
                dataStart = 12 + headerLen;
            } else {
                throw bad(path, "has .npy version " + major + ", expected 1, 2 or 3");
            }
            if (headerLen > 1 << 20) throw bad(path, "has an implausible header length " + headerLen);
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            ch.position(dataStart - headerLen);
            readFully(ch, hb, path);
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

            Matcher d = DESCR.matcher(header);
            if (!d.find()) {
                throw bad(path, "has dtype header " + header.trim() + "; expected an integer dtype (<i4, <i8, <u2, |u1, ...)");
            }
            ByteOrder order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            boolean unsigned = d.group(2).equals("u");
            int width = Integer.parseInt(d.group(3));
            Matcher s = SHAPE.matcher(header);
            if (!s.find()) throw bad(path, "has no shape in its header " + header.trim());
            String[] dims = s.group(1).split(",");
            long n = -1;
            int rank = 0;
            for (String dim : dims) {
                if (dim.isBlank()) continue;
                rank++;
                n = Long.parseLong(dim.trim());
            }
            if (rank != 1) {
                throw bad(path, "has shape (" + s.group(1).trim() + "); expected a 1-D array of tokens (N,)");
            }
            if (n > Integer.MAX_VALUE - 16) throw bad(path, "has " + n + " tokens; at most 2^31 - 16 fit in an int[]");
            long expectBytes = n * width;
            if (ch.size() - dataStart < expectBytes) {
                throw bad(path, "is truncated: " + (ch.size() - dataStart) + " data bytes, expected " + expectBytes);
            }
            int[] out = new int[(int) n];
            ch.position(dataStart);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(order);
            int i = 0;
            while (i < n) {
                buf.clear();
                long want = Math.min(buf.capacity() / width * (long) width, (n - i) * width);
                buf.limit((int) want);
                readFully(ch, buf, path);
                buf.flip();
                while (buf.remaining() >= width) {
                    long v = switch (width) {
                        case 1 -> unsigned ? buf.get() & 0xFF : buf.get();
                        case 2 -> unsigned ? buf.getShort() & 0xFFFF : buf.getShort();
                        case 4 -> unsigned ? buf.getInt() & 0xFFFFFFFFL : buf.getInt();
                        default -> buf.getLong();
                    };
                    if (v < 0 || v > Integer.MAX_VALUE) { // (a u8 above 2^63 reads as negative)
                        throw bad(path, "has token " + (unsigned && width == 8 ? Long.toUnsignedString(v) : v)
                                + " at index " + i + "; expected token ids in [0, 2^31)");
                    }
                    out[i++] = (int) v;
                }
            }
            return out;
        }
    }

    /** Writes {@code tokens} as a 1-D little-endian int32 {@code .npy} (version 1). */
    static void writeInt32(Path path, int[] tokens) throws IOException {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + tokens.length + ",), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (int t : tokens) b.putInt(t);
        Files.write(path, b.array());
    }

    private static void readFully(FileChannel ch, ByteBuffer b, Path path) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw bad(path, "ends early (truncated .npy file)");
        }
    }

    private static IOException bad(Path path, String what) {
        return new IOException(path + " " + what);
    }
}
