package dev.ssm4j.core.tokenizer;

import dev.ssm4j.core.io.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Strict reading of the parts of a Hugging Face tokenizer.json that {@link BpeTokenizer} uses.
 * Every problem is an IllegalArgumentException naming the file and the JSON path
 * (e.g. {@code tokenizer.json: model.merges[12]: ...}).
 */
final class TokenizerJson {
    private final Map<String, ?> json;
    private final String source;
    private final Map<?, ?> model;

    TokenizerJson(Map<String, ?> json, String source) {
        this.json = json;
        this.source = source;
        Object m = json.get("model");
        if (!(m instanceof Map<?, ?> mm)) throw bad("model", "expected an object, found " + describe(m));
        if (!"BPE".equals(mm.get("type"))) throw bad("model.type", "only \"BPE\" models are supported, found " + describe(mm.get("type")));
        this.model = mm;
        if (mm.get("dropout") != null) throw bad("model.dropout", "BPE dropout is not supported (it makes encoding random), found " + describe(mm.get("dropout")));
        if (Boolean.TRUE.equals(mm.get("byte_fallback"))) throw bad("model.byte_fallback", "byte_fallback is not supported (byte-level BPE does not need it)");
        for (String k : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            Object v = mm.get(k);
            if (v != null && !"".equals(v)) throw bad("model." + k, "not supported with a byte-level tokenizer, found " + describe(v));
        }
    }

    private IllegalArgumentException bad(String path, String what) {
        return new IllegalArgumentException(source + ": " + path + ": " + what);
    }

    private static String describe(Object v) {
        if (v == null) return "null";
        String s = Json.write(v);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    Map<String, Integer> vocab() {
        if (!(model.get("vocab") instanceof Map<?, ?> v) || v.isEmpty()) throw bad("model.vocab", "expected a non-empty object {token: id}");
        Map<String, Integer> out = new HashMap<>(v.size() * 2);
        Set<Integer> seen = new HashSet<>();
        for (Map.Entry<?, ?> e : v.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE - 8) {
                throw bad("model.vocab", "token " + describe(e.getKey()) + " has id " + describe(e.getValue()) + ", expected a non-negative integer");
            }
            if (!seen.add(id.intValue())) throw bad("model.vocab", "id " + id + " is used by two tokens (one is " + describe(e.getKey()) + ")");
            out.put((String) e.getKey(), id.intValue());
        }
        return out;
    }

    BpeModel.LongLongMap merges(Map<String, Integer> vocab) {
        if (!(model.get("merges") instanceof List<?> list)) throw bad("model.merges", "expected a list, found " + describe(model.get("merges")));
        BpeModel.LongLongMap out = new BpeModel.LongLongMap(list.size());
        for (int rank = 0; rank < list.size(); rank++) {
            Object m = list.get(rank);
            String a, b;
            if (m instanceof String s) {
                String[] parts = s.split(" ", -1);
                if (parts.length != 2) throw bad("model.merges[" + rank + "]", "expected \"left right\" (one space), found " + describe(s));
                a = parts[0];
                b = parts[1];
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String l && pair.get(1) instanceof String r) {
                a = l;
                b = r;
            } else {
                throw bad("model.merges[" + rank + "]", "expected \"left right\" or [\"left\", \"right\"], found " + describe(m));
            }
            Integer ia = vocab.get(a), ib = vocab.get(b), merged = vocab.get(a + b);
            if (ia == null || ib == null || merged == null) {
                String missing = ia == null ? a : ib == null ? b : a + b;
                throw bad("model.merges[" + rank + "]", "merge " + describe(List.of(a, b)) + ": token " + describe(missing) + " is not in model.vocab");
            }
            out.put(BpeModel.pair(ia, ib), ((long) rank << 32) | merged);
        }
        return out;
    }

    int unkId(Map<String, Integer> vocab) {
        Object u = model.get("unk_token");
        if (u == null) return -1;
        if (!(u instanceof String s) || !vocab.containsKey(s)) throw bad("model.unk_token", describe(u) + " is not a token of model.vocab");
        return vocab.get(s);
    }

    boolean fuseUnk() {
        return Boolean.TRUE.equals(model.get("fuse_unk"));
    }

    boolean ignoreMerges() {
        return Boolean.TRUE.equals(model.get("ignore_merges"));
    }

    List<AddedTokens.Token> addedTokens() {
        Object a = json.get("added_tokens");
        if (a == null) return List.of();
        if (!(a instanceof List<?> list)) throw bad("added_tokens", "expected a list, found " + describe(a));
        List<AddedTokens.Token> out = new ArrayList<>();
        Set<String> contents = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "added_tokens[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> t)) throw bad(path, "expected an object, found " + describe(list.get(i)));
            if (!(t.get("id") instanceof Long id) || id < 0 || id > Integer.MAX_VALUE - 8) throw bad(path + ".id", "expected a non-negative integer, found " + describe(t.get("id")));
            if (!(t.get("content") instanceof String content) || content.isEmpty()) throw bad(path + ".content", "expected a non-empty string, found " + describe(t.get("content")));
            if (!contents.add(content)) throw bad(path + ".content", describe(content) + " is listed twice");
            out.add(new AddedTokens.Token(id.intValue(), content, flag(t, path, "single_word", false), flag(t, path, "lstrip", false),
                    flag(t, path, "rstrip", false), flag(t, path, "normalized", true), flag(t, path, "special", false)));
        }
        return out;
    }

    private boolean flag(Map<?, ?> t, String path, String key, boolean def) {
        Object v = t.get(key);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        throw bad(path + "." + key, "expected true or false, found " + describe(v));
    }

    UnaryOperator<String> normalizer() {
        return BpeTokenizer.normalizer(json.get("normalizer"), source + ": normalizer");
    }

    /** {add_prefix_space, use_regex} of the ByteLevel pre-tokenizer. */
    boolean[] preTokenizer() {
        Object p = json.get("pre_tokenizer");
        String path = "pre_tokenizer";
        if (p instanceof Map<?, ?> m && "Sequence".equals(m.get("type")) && m.get("pretokenizers") instanceof List<?> l && l.size() == 1) {
            p = l.get(0);
            path = "pre_tokenizer.pretokenizers[0]";
        }
        if (!(p instanceof Map<?, ?> m) || !"ByteLevel".equals(m.get("type"))) {
            throw bad(path, "only the ByteLevel pre-tokenizer is supported, found " + describe(p));
        }
        return new boolean[] {flag(m, path, "add_prefix_space", true), flag(m, path, "use_regex", true)};
    }

    void checkDecoder() {
        Object d = json.get("decoder");
        if (!(d instanceof Map<?, ?> m) || !"ByteLevel".equals(m.get("type"))) {
            throw bad("decoder", "only the ByteLevel decoder is supported, found " + describe(d));
        }
    }
}
