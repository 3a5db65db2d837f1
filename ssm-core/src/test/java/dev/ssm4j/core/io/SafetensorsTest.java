package dev.ssm4j.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir Path dir;

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 3);
        return a;
    }

    @Test
    void roundTripF32Bf16F16ValuesExactly() throws IOException {
        float[] f32 = random(37, 1);
        f32[0] = Float.MIN_VALUE;
        f32[1] = -0.0f;
        f32[2] = Float.POSITIVE_INFINITY;
        f32[3] = Float.NaN;
        f32[4] = Float.MAX_VALUE;
        // Values representable in the narrow types survive exactly; others are rounded once, at write.
        float[] bf16 = random(3 * 17, 2);
        float[] f16 = random(3 * 17, 3);
        float[] bf16Expected = new float[bf16.length], f16Expected = new float[f16.length];
        for (int i = 0; i < bf16.length; i++) bf16Expected[i] = DType.bf16ToFloat(DType.floatToBf16(bf16[i]));
        for (int i = 0; i < f16.length; i++) f16Expected[i] = Float.float16ToFloat(Float.floatToFloat16(f16[i]));

        Path f = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("format", "pt").metadata("note", "é")
                .addF32("a.f32", f32, 37)
                .addBF16("b.bf16", bf16, 3, 17)
                .addF16("c.f16", f16, 3, 1, 17)
                .addF32("scalar", new float[] {42f})
                .addF32("empty", new float[0], 0, 5)
                .write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(List.of("a.f32", "b.bf16", "c.f16", "scalar", "empty"), st.names());
            assertEquals(Map.of("format", "pt", "note", "é"), st.metadata());
            assertEquals(0, st.dataStart() % 8, "data region 8-byte aligned");
            SafeTensor a = st.tensor("a.f32");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[] {37}, a.shape());
            assertEquals(37 * 4, a.segment().byteSize());
            assertArrayEquals(f32, a.toFloatArray());
            SafeTensor b = st.tensor("b.bf16");
            assertEquals(DType.BF16, b.dtype());
            assertArrayEquals(new int[] {3, 17}, b.intShape());
            assertArrayEquals(bf16Expected, b.toFloatArray());
            SafeTensor c = st.tensor("c.f16");
            assertEquals(DType.F16, c.dtype());
            assertArrayEquals(new long[] {3, 1, 17}, c.shape());
            assertArrayEquals(f16Expected, c.toFloatArray());
            assertEquals(f16Expected[20], c.getFloat(20));
            assertEquals(bf16Expected[50], b.getFloat(50));
            SafeTensor s = st.tensor("scalar");
            assertEquals(0, s.rank());
            assertEquals(1, s.numel());
            assertEquals(42f, s.getFloat(0));
            assertEquals(0, st.tensor("empty").numel());
            assertArrayEquals(new float[0], st.tensor("empty").toFloatArray());
        }
        // Writing again over the same path replaces the file, leaving no temporary behind.
        new SafetensorsWriter().addF32("x", new float[] {1, 2}, 2).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(List.of("x"), st.names());
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, DType.floatToBf16(1.0f));
        // 1 + 2^-8 is exactly half-way between bf16 1.0 and 1.0078125: ties to even (1.0).
        assertEquals((short) 0x3f80, DType.floatToBf16(Float.intBitsToFloat(0x3f808000)));
        // 1.0078125 + half ulp ties to even (1.015625).
        assertEquals((short) 0x3f82, DType.floatToBf16(Float.intBitsToFloat(0x3f818000)));
        assertEquals((short) 0x3f81, DType.floatToBf16(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(DType.bf16ToFloat(DType.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, DType.bf16ToFloat(DType.floatToBf16(Float.MAX_VALUE)));
    }

    @Test
    void mapsAFileLargerThanOneTensorAndCopiesAtOffsets() throws IOException {
        int n = 300_000;
        float[] a = random(n, 4), b = random(n, 5), c = random(n, 6);
        Path f = dir.resolve("big.safetensors");
        new SafetensorsWriter().addF32("a", a, 300, 1000).addBF16("b", b, n).add("c", DType.F32, c, 0, n).write(f);
        assertTrue(Files.size(f) > 3L * n * 3);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            SafeTensor tc = st.tensor("c");
            float[] dst = new float[n + 10];
            tc.copyTo(dst, 7);
            assertEquals(0f, dst[6]);
            assertArrayEquals(c, Arrays.copyOfRange(dst, 7, 7 + n));
            assertEquals(0f, dst[7 + n]);
            assertArrayEquals(a, st.tensor("a").toFloatArray());
            assertEquals(DType.bf16ToFloat(DType.floatToBf16(b[n - 1])), st.tensor("b").getFloat(n - 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tc.copyTo(new float[n], 1));
            assertMentions(e, f.toString(), "'c'", "offset 1");
        }
    }

    @Test
    void readsUnalignedHeadersAndOtherDtypes() throws IOException {
        // Written by hand as another tool might: header length 61 (data unaligned), an I64 tensor.
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putLong(7);
        Path f = craft("hand.safetensors", header, data.array());
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(8 + header.length(), st.dataStart());
            assertArrayEquals(new float[] {1.5f, -2f}, st.tensor("w").toFloatArray());
            SafeTensor ids = st.tensor("ids");
            assertEquals(DType.I64, ids.dtype());
            assertEquals(7L, ids.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, ids::toFloatArray);
            assertMentions(e, f.toString(), "'ids'", "I64", "not supported");
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> st.tensor("nope"));
            assertMentions(missing, f.toString(), "no tensor 'nope'");
        }
    }

    @Test
    void closedFileCannotBeRead() throws IOException {
        Path f = dir.resolve("c.safetensors");
        new SafetensorsWriter().addF32("x", new float[] {1}, 1).write(f);
        SafetensorsFile st = SafetensorsFile.open(f);
        SafeTensor x = st.tensor("x");
        st.close();
        st.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, x::toFloatArray);
        assertMentions(e, f.toString(), "'x'", "closed");
    }

    // ------------------------------------------------------------------------------ corruption

    @Test
    void truncatedFilesAreRejectedAtEveryCut() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafetensorsWriter().metadata("format", "pt").addF32("w1", random(10, 7), 2, 5).addBF16("w2", random(6, 8), 6).write(good);
        byte[] all = Files.readAllBytes(good);
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int dataStart = (int) (8 + headerLen);
        int[] cuts = {0, 1, 7, 8, 9, dataStart / 2, dataStart - 1, dataStart, dataStart + 1, dataStart + 40, all.length - 1};
        for (int cut : cuts) {
            Path t = dir.resolve("cut" + cut + ".safetensors");
            Files.write(t, Arrays.copyOf(all, cut));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(t).close(), "cut at " + cut);
            assertMentions(e, t.toString());
            if (cut < 8) assertMentions(e, "shorter than the 8-byte header length");
            else if (cut < dataStart) assertMentions(e, "header length is " + headerLen);
            else if (cut < dataStart + 40) assertMentions(e, "tensor 'w1'", "reach past the end of the data region");
            else assertMentions(e, "tensor 'w2'", "reach past the end of the data region");
        }
        // Trailing garbage after the last tensor is also an error.
        Path longer = dir.resolve("longer.safetensors");
        Files.write(longer, Arrays.copyOf(all, all.length + 3));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(longer)), longer.toString(), "trailing bytes after tensor 'w2'");
    }

    @Test
    void garbageHeaderLengthsNeverAllocate() throws IOException {
        for (long len : new long[] {1L << 62, -1L, 1L << 40, 0x7fffffffL, 200_000_000L}) {
            ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
            Path f = dir.resolve("len.safetensors");
            Files.write(f, b.array());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f));
            assertMentions(e, f.toString(), "header length is " + Long.toUnsignedString(len), "only 56 bytes");
        }
        // A plausible length within a big file is still bounded by the format's limit.
        Path big = dir.resolve("sparse.safetensors");
        try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 150_000_000L), 0);
            ch.write(ByteBuffer.wrap(new byte[] {'{'}), 150_000_100L); // sparse: no disk space used
        }
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(big)), big.toString(), "exceeds the limit");
    }

    @Test
    void headersThatAreNotJsonObjects() throws IOException {
        expectError(craft("a", "{\"w\": ", new byte[0]), "header is not valid JSON", ":1:7:");
        expectError(craft("b", "[1, 2]", new byte[0]), "header is not a JSON object");
        expectError(craft("c", "\u0000\u0001garbage", new byte[0]), "header is not a JSON object");
        expectRawHeader("d", new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'}, "not valid UTF-8");
        expectError(craft("e", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", new byte[4]), "not valid JSON", "expected end of input");
        expectError(craft("f", "{\"__metadata__\":{\"format\":1}}", new byte[0]), "__metadata__", "'format' must be a string");
        expectError(craft("g", "{\"w\": 3}", new byte[0]), "tensor 'w'", "expected an object {dtype, shape, data_offsets}");
    }

    @Test
    void lyingEntriesNameTheTensorAndTheMismatch() throws IOException {
        byte[] d16 = new byte[16];
        expectError(craft("dt", entry("w", "\"F31\"", "[4]", "[0,16]"), d16), "tensor 'w'", "unknown dtype \"F31\"");
        expectError(craft("dt2", entry("w", "4", "[4]", "[0,16]"), d16), "tensor 'w'", "\"dtype\" to be a string");
        expectError(craft("neg", entry("w", "\"F32\"", "[-4]", "[0,16]"), d16), "tensor 'w'", "dimension 0 is negative (-4)");
        expectError(craft("frac", entry("w", "\"F32\"", "[4.0]", "[0,16]"), d16), "tensor 'w'", "dimension 0 must be an integer");
        expectError(craft("shp", entry("w", "\"F32\"", "\"4\"", "[0,16]"), d16), "tensor 'w'", "\"shape\" to be an array");
        expectError(craft("ovf", entry("w", "\"F32\"", "[1099511627776,1099511627776]", "[0,16]"), d16), "tensor 'w'", "more bytes than a 64-bit size");
        expectError(craft("ovf2", entry("w", "\"F32\"", "[4611686018427387904]", "[0,16]"), d16), "tensor 'w'", "more bytes than a 64-bit size");
        expectError(craft("size", entry("w", "\"F32\"", "[3]", "[0,16]"), d16), "tensor 'w'", "span 16 bytes but F32 x shape [3] needs 12 bytes");
        expectError(craft("dtsize", entry("w", "\"BF16\"", "[4]", "[0,16]"), d16), "tensor 'w'", "needs 8 bytes");
        expectError(craft("past", entry("w", "\"F32\"", "[4]", "[4,20]"), d16), "tensor 'w'", "[4, 20] reach past the end of the data region, which has 16 bytes");
        expectError(craft("rev", entry("w", "\"F32\"", "[0]", "[8,4]"), d16), "tensor 'w'", "begin <= end");
        expectError(craft("negoff", entry("w", "\"F32\"", "[1]", "[-4,0]"), d16), "tensor 'w'", "begin <= end");
        expectError(craft("arity", entry("w", "\"F32\"", "[4]", "[0]"), d16), "tensor 'w'", "[begin, end] (two integers), found [0]");
        expectError(craft("nooff", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", d16), "tensor 'w'", "found no data_offsets");
        expectError(craft("hole", entry("w", "\"F32\"", "[2]", "[8,16]"), d16), "tensor 'w'", "leave a hole of 8 bytes");
        String two = "{" + entry("a", "\"F32\"", "[3]", "[0,12]").substring(1, entry("a", "\"F32\"", "[3]", "[0,12]").length() - 1)
                + "," + entry("b", "\"F32\"", "[2]", "[8,16]").substring(1);
        expectError(craft("overlap", two, d16), "tensor 'b'", "[8, 16] overlap tensor 'a' at [0, 12]");
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "{\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    }

    private Path craft(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return craftRaw(name, h, data);
    }

    private Path craftRaw(String name, byte[] h, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve(name.endsWith(".safetensors") ? name : name + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    private void expectRawHeader(String name, byte[] header, String... fragments) throws IOException {
        expectError(craftRaw(name, header, new byte[0]), fragments);
    }

    private static void expectError(Path f, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f).close(), f.toString());
        assertMentions(e, f.toString());
        assertMentions(e, fragments);
    }

    static void assertMentions(Throwable e, String... fragments) {
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "message lacks \"" + s + "\": " + e.getMessage());
    }

    // ------------------------------------------------------------------------------ shards, checkpoints

    @Test
    void shardedCheckpointIsOneTensorSet() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"mamba\"}");
        float[] e = random(12, 9), w = random(6, 10), h = random(4, 11);
        new SafetensorsWriter().addF32("emb", e, 4, 3).write(model.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addF32("w", w, 6).addBF16("h", h, 2, 2).write(model.resolve("model-00002-of-00002.safetensors"));
        Json.write(model.resolve(Checkpoint.INDEX), Map.of("metadata", Map.of("total_size", 84),
                "weight_map", new java.util.TreeMap<>(Map.of("emb", "model-00001-of-00002.safetensors",
                        "h", "model-00002-of-00002.safetensors", "w", "model-00002-of-00002.safetensors"))));
        try (Checkpoint ck = Checkpoint.open(model)) {
            assertTrue(ck.tensors() instanceof ShardedSafetensors);
            assertEquals(List.of("emb", "h", "w"), ck.names());
            assertEquals("84", ck.tensors().metadata().get("total_size"));
            assertEquals("mamba", ck.config().get("model_type"));
            assertArrayEquals(e, ck.requireFloats("emb", 4, 3));
            assertArrayEquals(w, ck.require("w", 6).toFloatArray());
            assertEquals(List.of("h"), ck.unused());
            IllegalStateException unused = assertThrows(IllegalStateException.class, ck::requireAllUsed);
            assertMentions(unused, Checkpoint.INDEX, "1 of 3 tensors were not used", "h");
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> ck.require("h", 4));
            assertMentions(shape, "model-00002-of-00002.safetensors", "tensor 'h'", "shape [2, 2] (BF16), expected [4]");
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ck.require("lm_head.weight", 4, 3));
            assertMentions(missing, Checkpoint.INDEX, "no tensor 'lm_head.weight'", "expected shape [4, 3]");
            assertTrue(ck.optional("bias", 3).isEmpty());
            assertTrue(ck.optional("h", 2, 2).isPresent());
            ck.requireAllUsed();
        }

        // One shard deleted: the error names it.
        Files.delete(model.resolve("model-00002-of-00002.safetensors"));
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(model));
        assertMentions(e2, Checkpoint.INDEX, "1 of 2 shard files are missing", "model-00002-of-00002.safetensors");
        assertFalse(e2.getMessage().contains("model-00001-of-00002.safetensors"), e2.getMessage());
    }

    @Test
    void inconsistentIndexesAreRejected() throws IOException {
        Path d = Files.createDirectories(dir.resolve("idx"));
        new SafetensorsWriter().addF32("a", new float[] {1}, 1).addF32("b", new float[] {2}, 1).write(d.resolve("s1.safetensors"));
        Path index = d.resolve(Checkpoint.INDEX);
        Json.write(index, Map.of("weight_map", Map.of("a", "s1.safetensors", "c", "s1.safetensors")));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ShardedSafetensors.open(index)), index.toString(), "tensor 'c' in s1.safetensors, but that shard has no such tensor");
        Json.write(index, Map.of("weight_map", Map.of("a", "s1.safetensors")));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ShardedSafetensors.open(index)), "shard s1.safetensors holds tensor 'b', which weight_map does not list");
        Json.write(index, Map.of("weight_map", Map.of("a", "../s1.safetensors")));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ShardedSafetensors.open(index)), "outside the directory");
        Json.write(index, Map.of("metadata", Map.of()));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ShardedSafetensors.open(index)), "\"weight_map\"", "found no weight_map");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"s1.safetensors\",}}");
        assertMentions(assertThrows(JsonException.class, () -> ShardedSafetensors.open(index)), index + ":1:39:");
    }

    @Test
    void checkpointDirectoryRules() throws IOException {
        Path d = Files.createDirectories(dir.resolve("ck"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(d)), "no config.json");
        Files.writeString(d.resolve("config.json"), "{}");
        Files.writeString(d.resolve("pytorch_model.bin"), "");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(d)), "no model.safetensors", "PyTorch");
        new SafetensorsWriter().addF32("x", new float[] {3}).write(d.resolve(Checkpoint.SINGLE));
        Json.write(d.resolve(Checkpoint.INDEX), Map.of("weight_map", Map.of("y", "missing.safetensors")));
        try (Checkpoint ck = Checkpoint.open(d)) {
            assertTrue(ck.tensors() instanceof SafetensorsFile, "single file wins over the index");
            assertEquals(3f, ck.require("x").getFloat(0));
            IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class, () -> ck.require("x", 1));
            assertMentions(scalar, "shape [] (F32), expected [1]");
        }
    }
}
