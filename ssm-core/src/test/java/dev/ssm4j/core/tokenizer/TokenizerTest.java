package dev.ssm4j.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    @TempDir Path dir;

    static final String MIXED = "Hello, wörld! 12.5%  tabs\t\tnewlines\n\n東京 😀👍🏽 e\u0301 <|endoftext|> end";

    @Test
    void byteTokenizerRoundTripsAnyText() {
        ByteTokenizer t = new ByteTokenizer();
        assertEquals(256, t.vocabSize());
        assertEquals(Map.of(), t.specialTokens());
        assertTrue(t.eosTokenId().isEmpty() && t.padTokenId().isEmpty() && t.bosTokenId().isEmpty());
        int[] ids = t.encode(MIXED);
        byte[] utf8 = MIXED.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, ids.length);
        for (int i = 0; i < ids.length; i++) assertEquals(utf8[i] & 0xff, ids[i]);
        assertEquals(MIXED, t.decode(ids), "without specials the special's text is plain bytes");
        assertArrayEquals(new int[0], t.encode(""));
        assertEquals("", t.decode(new int[0]));
        // Half an emoji: the 4-byte sequence F0 9F 98 80 cut after 2 bytes is one U+FFFD.
        assertEquals("a\uFFFDb", t.decode(new int[] {'a', 0xF0, 0x9F, 'b'}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {65, 256}));
        assertTrue(e.getMessage().contains("ids[1] = 256") && e.getMessage().contains("[0, 256)"), e.getMessage());
    }

    @Test
    void byteTokenizerSpecials() {
        ByteTokenizer t = new ByteTokenizer(List.of("<|endoftext|>", "<|padding|>", "<|end"));
        assertEquals(259, t.vocabSize());
        assertEquals(OptionalInt.of(256), t.eosTokenId());
        assertEquals(OptionalInt.of(256), t.bosTokenId());
        assertEquals(OptionalInt.of(257), t.padTokenId());
        int[] ids = t.encode("a<|endoftext|>b<|end<|padding|>");
        assertArrayEquals(new int[] {'a', 256, 'b', 258, 257}, ids, "leftmost-longest: <|endoftext|> beats its prefix <|end");
        assertEquals("a<|endoftext|>b<|end<|padding|>", t.decode(ids));
        assertEquals("ab", t.decode(ids, true));
        assertEquals(257, ByteTokenizer.withEndOfText().vocabSize());
        String text = "é" + MIXED;
        assertEquals(text, t.decode(t.encode(text)));
        assertThrows(IllegalArgumentException.class, () -> new ByteTokenizer(List.of("x", "x")));
        assertThrows(IllegalArgumentException.class, () -> new ByteTokenizer(List.of("")));
    }

    @Test
    void bpeRoundTripsRandomText() throws Exception {
        BpeTokenizer tok = BpeTokenizer.fromJson(TokenizerGoldenTest.base(), "tokenizer.json");
        // Any NFC text round-trips exactly (byte-level BPE loses nothing); specials stay specials.
        Random r = new Random(11);
        String alphabet = "abcdefghijklmnopqrstuvwxyz ABCZ 0123456789 .,;:!?'\"()[]{}<>|-_=+*/\\ \t\n\r  éüñçøß 東京日本語 😀👍🏽🎉 ";
        int[] cps = alphabet.codePoints().toArray();
        for (int trial = 0; trial < 200; trial++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(60);
            for (int i = 0; i < len; i++) {
                if (r.nextInt(40) == 0) sb.append("<|endoftext|>");
                else sb.appendCodePoint(cps[r.nextInt(cps.length)]);
            }
            String s = sb.toString();
            int[] ids = tok.encode(s);
            assertEquals(s, tok.decode(ids), "round trip of " + Json.write(s));
            for (int id : ids) assertTrue(id >= 0 && id < tok.vocabSize());
        }
        // Long inputs: a single 20 000-letter word (the merge heap), and a long mixed text.
        String longWord = "ab".repeat(10_000);
        assertEquals(longWord, tok.decode(tok.encode(longWord)));
        String longText = MIXED.repeat(300);
        assertEquals(java.text.Normalizer.normalize(longText, java.text.Normalizer.Form.NFC), tok.decode(tok.encode(longText)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {5, tok.vocabSize()}));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("ids[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void loadsFromADirectoryWithTokenizerConfig() throws Exception {
        Path d = Files.createDirectories(dir.resolve("model"));
        Files.copy(TokenizerGoldenTest.resource("tokenizer.json"), d.resolve("tokenizer.json"));
        Json.write(d.resolve("tokenizer_config.json"), Map.of("eos_token", "<|padding|>", "pad_token", Map.of("content", "<|endoftext|>")));
        BpeTokenizer tok = BpeTokenizer.load(d);
        assertEquals(OptionalInt.of(1), tok.eosTokenId());
        assertEquals(OptionalInt.of(0), tok.padTokenId());
        Json.write(d.resolve("tokenizer_config.json"), Map.of("eos_token", "</s>"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(d));
        assertTrue(e.getMessage().contains("\"</s>\"") && e.getMessage().contains("not in the vocabulary"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(dir.resolve("nothing")));
    }

    @Test
    void unsupportedOrBrokenTokenizerJsonIsRejectedWithThePath() throws Exception {
        expectBad(j -> model(j).put("type", "WordPiece"), "model.type", "only \"BPE\"");
        expectBad(j -> model(j).put("dropout", 0.1), "model.dropout");
        expectBad(j -> model(j).put("byte_fallback", true), "model.byte_fallback");
        expectBad(j -> model(j).put("continuing_subword_prefix", "##"), "model.continuing_subword_prefix");
        expectBad(j -> model(j).put("unk_token", "<unk>"), "model.unk_token", "\"<unk>\" is not a token");
        expectBad(j -> merges(j).set(3, List.of("Ġ", "nonexistent")), "model.merges[3]", "\"nonexistent\" is not in model.vocab");
        expectBad(j -> merges(j).set(4, "a b c"), "model.merges[4]", "one space");
        expectBad(j -> merges(j).set(5, 42L), "model.merges[5]");
        expectBad(j -> vocab(j).put("dup", 5L), "model.vocab", "id 5 is used by two tokens");
        expectBad(j -> vocab(j).put("neg", -3L), "model.vocab", "\"neg\" has id -3");
        expectBad(j -> j.put("pre_tokenizer", Map.of("type", "Whitespace")), "pre_tokenizer", "only the ByteLevel pre-tokenizer");
        expectBad(j -> j.put("decoder", null), "decoder", "only the ByteLevel decoder");
        expectBad(j -> j.put("normalizer", Map.of("type", "Replace")), "normalizer", "unsupported normalizer type \"Replace\"");
        expectBad(j -> added(j).add(Map.of("id", 5L, "content", "")), "added_tokens[6].content", "non-empty");
        expectBad(j -> added(j).add(Map.of("id", 5L, "content", "<|endoftext|>")), "added_tokens[6].content", "listed twice");
        expectBad(j -> added(j).add(Map.of("id", "7", "content", "x")), "added_tokens[6].id");
        expectBad(j -> added(j).add(Map.of("id", 2000L, "content", "<x>", "special", "yes")), "added_tokens[6].special", "true or false");
        expectBad(j -> added(j).add(Map.of("id", 1L << 30, "content", "<far>")), "beyond the supported");

        // Supported variations load: Sequence normalizer and a one-element pre-tokenizer Sequence.
        Map<String, Object> ok = TokenizerGoldenTest.base();
        ok.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(Map.of("type", "NFKC"), Map.of("type", "Lowercase"))));
        ok.put("pre_tokenizer", Map.of("type", "Sequence", "pretokenizers", List.of(Map.of("type", "ByteLevel", "add_prefix_space", false))));
        BpeTokenizer lower = BpeTokenizer.fromJson(ok, "ok.json");
        assertEquals("hello fi → fi", lower.decode(lower.encode("HELLO \uFB01 → FI")), "NFKC unfolds the ligature, then lowercase");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> model(Map<String, Object> j) {
        return (Map<String, Object>) j.get("model");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> vocab(Map<String, Object> j) {
        return (Map<String, Object>) model(j).get("vocab");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> merges(Map<String, Object> j) {
        return (List<Object>) model(j).get("merges");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> added(Map<String, Object> j) {
        return (List<Object>) j.get("added_tokens");
    }

    private void expectBad(Consumer<Map<String, Object>> edit, String... fragments) throws Exception {
        Map<String, Object> j = TokenizerGoldenTest.base();
        edit.accept(j);
        Path f = dir.resolve("bad-tokenizer.json");
        Json.write(f, j);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.load(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        List<String> missing = new ArrayList<>();
        for (String s : fragments) if (!e.getMessage().contains(s)) missing.add(s);
        assertTrue(missing.isEmpty(), "lacks " + missing + ": " + e.getMessage());
    }
}
