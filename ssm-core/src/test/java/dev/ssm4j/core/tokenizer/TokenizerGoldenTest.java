package dev.ssm4j.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * BpeTokenizer against Hugging Face {@code tokenizers}: ids, token strings and decodes recorded by
 * tools/golden/make_tokenizer_fixture.py for a GPT-NeoX-style tokenizer trained there, in several
 * configuration variants (patches applied here exactly as the script applied them).
 */
class TokenizerGoldenTest {
    static Path resource(String name) throws URISyntaxException {
        return Path.of(TokenizerGoldenTest.class.getResource("/tokenizer/" + name).toURI());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> base() throws Exception {
        return (Map<String, Object>) Json.parse(resource("tokenizer.json"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> goldens() throws Exception {
        return (Map<String, Object>) Json.parse(resource("goldens.json"));
    }

    @Test
    void allVariantsMatchTheReference() throws Exception {
        Map<String, Object> base = base();
        List<?> variants = (List<?>) goldens().get("variants");
        assertEquals(6, variants.size());
        int checked = 0;
        for (Object vo : variants) {
            Map<?, ?> v = (Map<?, ?>) vo;
            String name = (String) v.get("name");
            BpeTokenizer tok = BpeTokenizer.fromJson(applyPatches(base, (List<?>) v.get("patches")), "tokenizer.json[" + name + "]");
            assertEquals(((Long) v.get("vocab_size")).intValue(), tok.vocabSize(), name + ": vocab size");
            for (Object co : (List<?>) v.get("cases")) {
                Map<?, ?> c = (Map<?, ?>) co;
                String text = (String) c.get("text");
                String what = name + " / " + Json.write(text);
                int[] ids = tok.encode(text);
                List<String> expectedTokens = strings(c.get("tokens"));
                if (!expectedTokens.equals(tok.tokenize(text))) {
                    assertEquals(expectedTokens, tok.tokenize(text), what + ": tokens"); // shows the first difference
                }
                assertArrayEquals(ints(c.get("ids")), ids, what + ": ids");
                assertEquals(c.get("decoded"), tok.decode(ids), what + ": decode");
                assertEquals(c.get("decoded_skip_special"), tok.decode(ids, true), what + ": decode skipping specials");
                if (c.get("decode_each") instanceof List<?> each) {
                    for (int i = 0; i < ids.length; i++) {
                        assertEquals(each.get(i), tok.decode(new int[] {ids[i]}), what + ": decode of id " + ids[i] + " alone");
                    }
                }
                checked++;
            }
        }
        assertTrue(checked >= 6 * 17, "cases checked: " + checked);
    }

    @Test
    void gptNeoxConventions() throws Exception {
        BpeTokenizer tok = BpeTokenizer.load(resource("tokenizer.json"));
        assertEquals(OptionalInt.of(0), tok.eosTokenId(), "<|endoftext|> is id 0, as in GPT-NeoX");
        assertEquals(OptionalInt.of(0), tok.bosTokenId());
        assertEquals(OptionalInt.of(1), tok.padTokenId());
        assertEquals(Map.of("<|endoftext|>", 0, "<|padding|>", 1), tok.specialTokens());
        assertEquals("<|endoftext|>", tok.idToToken(0));
        assertEquals(OptionalInt.of(tok.vocabSize() - 1), tok.tokenToId("  "));
        assertEquals("Ġthe", tok.idToToken(tok.tokenToId("Ġthe").getAsInt()));
        // Lossy decoding of arbitrary byte tokens: a lone continuation byte and a truncated 3-byte sequence.
        int cont = tok.tokenToId(String.valueOf(ByteLevel.BYTE_TO_CHAR[0x80])).getAsInt();
        int lead = tok.tokenToId(String.valueOf(ByteLevel.BYTE_TO_CHAR[0xE6])).getAsInt();
        int a = tok.tokenToId("a").getAsInt();
        assertEquals("\uFFFDa", tok.decode(new int[] {lead, cont, a}), "E6 80 'a': one replacement for the maximal subpart E6 80");
        assertEquals("\uFFFD\uFFFD", tok.decode(new int[] {cont, cont}));
    }

    /** The same edits as apply() in make_tokenizer_fixture.py. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> applyPatches(Map<String, Object> base, List<?> patches) {
        Map<String, Object> j = (Map<String, Object>) deepCopy(base);
        for (Object po : patches) {
            Map<?, ?> p = (Map<?, ?>) po;
            switch ((String) p.get("op")) {
                case "set" -> {
                    List<?> path = (List<?>) p.get("path");
                    Map<String, Object> node = j;
                    for (int i = 0; i < path.size() - 1; i++) node = (Map<String, Object>) node.get((String) path.get(i));
                    node.put((String) path.getLast(), p.get("value"));
                }
                case "append" -> {
                    Object node = j;
                    for (Object k : (List<?>) p.get("path")) node = ((Map<?, ?>) node).get((String) k);
                    ((List<Object>) node).add(p.get("value"));
                }
                case "merges_to_strings" -> {
                    Map<String, Object> model = (Map<String, Object>) j.get("model");
                    List<Object> merges = new ArrayList<>();
                    for (Object m : (List<?>) model.get("merges")) merges.add(((List<?>) m).get(0) + " " + ((List<?>) m).get(1));
                    model.put("merges", merges);
                }
                default -> throw new IllegalArgumentException("unknown patch " + p);
            }
        }
        return j;
    }

    static Object deepCopy(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> c = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) c.put((String) e.getKey(), deepCopy(e.getValue()));
            return c;
        }
        if (o instanceof List<?> l) {
            List<Object> c = new ArrayList<>();
            for (Object x : l) c.add(deepCopy(x));
            return c;
        }
        return o;
    }

    private static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = ((Long) l.get(i)).intValue();
        return a;
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) o) out.add((String) x);
        return out;
    }
}
