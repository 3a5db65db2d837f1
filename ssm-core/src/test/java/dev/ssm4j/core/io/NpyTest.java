package dev.ssm4j.core.io;

import static dev.ssm4j.core.io.SafetensorsTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir Path dir;

    @Test
    void writesTheSameBytesAsNumpySave() throws IOException {
        // np.save(f, (np.arange(12, dtype=np.float32) / 7).reshape(3, 4)) → 176 bytes, this header:
        float[] a = new float[12];
        for (int i = 0; i < a.length; i++) a[i] = (float) i / 7;
        Path f = dir.resolve("a.npy");
        Npy.writeF32(f, a, 3, 4);
        byte[] bytes = Files.readAllBytes(f);
        assertEquals(176, bytes.length);
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        String expectedHeader = "\u0093NUMPY\u0001\u0000v\u0000" + dict + " ".repeat(128 - 10 - dict.length() - 1) + "\n";
        assertEquals(expectedHeader, new String(bytes, 0, 128, StandardCharsets.ISO_8859_1));
        assertEquals(1 / 7f, ByteBuffer.wrap(bytes, 128 + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());

        Path t = dir.resolve("t.npy");
        Npy.writeI32(t, new int[] {5, -1, 7});
        assertEquals(140, Files.size(t), "np.save of int32 [5, -1, 7]");
        assertEquals("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                new String(Files.readAllBytes(t), 10, 57, StandardCharsets.ISO_8859_1));
        Npy.writeI64(t, new long[] {1, 2, 50279});
        assertEquals(152, Files.size(t));
        Npy.writeF32(t, new float[] {2.5f});
        assertEquals(132, Files.size(t), "np.save of a float32 scalar");
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left");
        }
    }

    @Test
    void roundTrips() throws IOException {
        Path f = dir.resolve("x.npy");
        float[] logits = new float[7 * 33];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i) * 100;
        logits[3] = Float.NaN;
        logits[4] = Float.NEGATIVE_INFINITY;
        Npy.writeF32(f, logits, 7, 33);
        Npy.Array r = Npy.read(f);
        assertEquals("<f4", r.descr());
        assertArrayEquals(new int[] {7, 33}, r.shape());
        assertEquals(7 * 33, r.numel());
        assertArrayEquals(logits, r.floats());
        assertNull(r.ints());
        assertArrayEquals(logits, Npy.readF32(f, 7, 33));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readF32(f, 33, 7)), f.toString(), "shape [7, 33], expected [33, 7]");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "expected a 1-D array of token ids (N,), found shape [7, 33]");

        Npy.writeF32(f, new float[] {2.5f});
        assertArrayEquals(new int[0], Npy.read(f).shape());
        assertArrayEquals(new float[] {2.5f}, Npy.readF32(f));
        Npy.writeF32(f, new float[0], 0, 4);
        assertArrayEquals(new int[] {0, 4}, Npy.read(f).shape());

        int[] ids = {0, 50279, 7, Integer.MAX_VALUE};
        Npy.writeI32(f, ids);
        assertArrayEquals(ids, Npy.readTokens(f));
        Npy.writeI32(f, new int[] {4, -3});
        assertArrayEquals(new int[] {4, -3}, Npy.read(f).ints());
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.read(f).requireFloats()), "expected dtype <f4", "found <i4");
        long[] big = {1, 2, 50279};
        Npy.writeI64(f, big);
        assertArrayEquals(big, Npy.read(f).longs());
        assertArrayEquals(new int[] {1, 2, 50279}, Npy.readTokens(f));
        Npy.writeI64(f, new long[] {1, 1L << 40});
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "element 1 = 1099511627776 is not a token id");
        Npy.writeI32(f, new int[0]);
        assertArrayEquals(new int[0], Npy.readTokens(f));

        assertThrows(IllegalArgumentException.class, () -> Npy.writeF32(f, new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Npy.writeF32(f, new float[0], -1, 0));
    }

    @Test
    void readsVersion2Headers() throws IOException {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
        String header = dict + " ".repeat(64 - (12 + dict.length() + 1) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(12 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(header.length())
                .put(header.getBytes(StandardCharsets.US_ASCII)).putInt(11).putInt(-12);
        Path f = dir.resolve("v2.npy");
        Files.write(f, b.array());
        assertArrayEquals(new int[] {11, -12}, Npy.read(f).ints());
    }

    @Test
    void readsEveryIntegerDtypeWidened() throws IOException {
        // Each dtype with its extremes, little endian, as numpy.save writes them.
        Path f = dir.resolve("i.npy");
        Files.write(f, npy("|i1", 3, le().put((byte) -128).put((byte) 127).put((byte) 5)));
        assertArrayEquals(new int[] {-128, 127, 5}, Npy.read(f).ints());
        Files.write(f, npy("|u1", 3, le().put((byte) 0).put((byte) 0xff).put((byte) 0x80)));
        assertArrayEquals(new int[] {0, 255, 128}, Npy.readTokens(f));
        Files.write(f, npy("<i2", 3, le().putShort((short) -32768).putShort((short) 32767).putShort((short) 7)));
        assertArrayEquals(new int[] {-32768, 32767, 7}, Npy.read(f).ints());
        Files.write(f, npy("<u2", 3, le().putShort((short) 0xffff).putShort((short) 0x8000).putShort((short) 50279)));
        assertArrayEquals(new int[] {65535, 32768, 50279}, Npy.readTokens(f));
        Files.write(f, npy("<u4", 3, le().putInt(0).putInt(Integer.MAX_VALUE).putInt(123456)));
        Npy.Array u4 = Npy.read(f);
        assertEquals("<u4", u4.descr());
        assertArrayEquals(new long[] {0, Integer.MAX_VALUE, 123456}, u4.longs());
        assertArrayEquals(new int[] {0, Integer.MAX_VALUE, 123456}, Npy.readTokens(f));
        Files.write(f, npy("<u4", 2, le().putInt(1).putInt(-1)));
        assertArrayEquals(new long[] {1, 0xffffffffL}, Npy.read(f).longs());
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(),
                "element 1 = 4294967295 is not a token id");
    }

    @Test
    void tokenErrorsNameTheFileDtypeShapeOrValue() throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.write(f, npy("|i1", 2, le().put((byte) 3).put((byte) -1)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "element 1 = -1 is not a token id");
        Files.write(f, npy("<i2", 1, le().putShort((short) -5)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "element 0 = -5");
        Files.write(f, npy("<i8", 2, le().putLong(1).putLong(-7)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "element 1 = -7");
        for (String descr : new String[] {"<u8", ">i4", "<f8", "<f2", "|b1"}) {
            int size = Integer.parseInt(descr.substring(2));
            Files.write(f, npy(descr, 1, le().put(new byte[size])));
            assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f), descr), f.toString(),
                    "unsupported dtype '" + descr + "'", "'|u1' uint8", "'<u4' uint32");
        }
        Npy.writeF32(f, new float[] {1, 2}, 2);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(),
                "dtype '<f4' is not an integer type", "'<i2' int16");
        Files.write(f, npy("<u2", "(2, 2)", le().putShort((short) 1).putShort((short) 2).putShort((short) 3).putShort((short) 4)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "1-D", "shape [2, 2]");
        Files.write(f, npy("<u2", "()", le().putShort((short) 9)));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Npy.readTokens(f)), f.toString(), "1-D", "shape []");
    }

    private static ByteBuffer le() {
        return ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A version-1.0 .npy of a 1-D array of n items whose bytes were put into {@code data}. */
    private static byte[] npy(String descr, int n, ByteBuffer data) {
        return npy(descr, "(" + n + ",)", data);
    }

    private static byte[] npy(String descr, String shape, ByteBuffer data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.position()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
                .put(header.getBytes(StandardCharsets.US_ASCII)).put(data.array(), 0, data.position());
        return b.array();
    }

    @Test
    void corruptFilesNameTheFileAndTheProblem() throws IOException {
        Path good = dir.resolve("good.npy");
        Npy.writeF32(good, new float[6], 2, 3);
        byte[] g = Files.readAllBytes(good);

        expect("short", Arrays.copyOf(g, 5), "too short");
        byte[] magic = g.clone();
        magic[1] = 'X';
        expect("magic", magic, "missing the .npy magic");
        byte[] version = g.clone();
        version[6] = 9;
        expect("version", version, "unsupported .npy version 9.0");
        byte[] hlen = g.clone();
        hlen[8] = (byte) 0xff;
        hlen[9] = (byte) 0xff;
        expect("hlen", hlen, "header length 65535 is larger than");
        for (int cut : new int[] {10, 60, 127}) expect("cut" + cut, Arrays.copyOf(g, cut), "header length 118");
        expect("truncdata", Arrays.copyOf(g, g.length - 1), "needs 24 data bytes but the file has 23 (truncated)");
        expect("trailing", Arrays.copyOf(g, g.length + 4), "needs 24 data bytes but the file has 28 (trailing bytes)");
        expect("be", replace(g, "'<f4'", "'>f4'"), "unsupported dtype '>f4'");
        expect("f8", replace(g, "'<f4'", "'<f8'"), "unsupported dtype '<f8'");
        expect("fortran", replace(g, "False", "True "), "fortran_order True");
        expect("shape", replace(g, "(2, 3)", "(2, 4)"), "needs 32 data bytes but the file has 24");
        expect("negshape", replace(g, "(2, 3)", "(-2, 3)"), "malformed header", "non-negative integer");
        expect("key", replace(g, "'descr'", "'dtype'"), "header must be {'descr'");
        expect("garbage", replace(g, "{'descr'", "[[descr'"), "malformed header", "expected '{'");
        expect("tail", replace(g, ", }", ", }x"), "malformed header");
    }

    private static byte[] replace(byte[] file, String from, String to) {
        String s = new String(file, StandardCharsets.ISO_8859_1);
        int i = s.indexOf(from);
        String r = s.substring(0, i) + to + s.substring(i + from.length());
        if (to.length() != from.length()) {
            // keep the header length field consistent by eating/adding padding spaces
            int delta = to.length() - from.length();
            int nl = r.indexOf('\n');
            r = delta > 0 ? r.substring(0, nl - delta) + r.substring(nl) : r.substring(0, nl) + " ".repeat(-delta) + r.substring(nl);
        }
        return r.getBytes(StandardCharsets.ISO_8859_1);
    }

    private void expect(String name, byte[] content, String... fragments) throws IOException {
        Path f = dir.resolve(name + ".npy");
        Files.write(f, content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(f), name);
        assertMentions(e, f.toString());
        assertMentions(e, fragments);
    }
}
