package dev.ssm4j.core.tokenizer;

import dev.ssm4j.core.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;

/**
 * A Hugging Face {@code tokenizer.json} with a byte-level BPE model — the GPT-NeoX tokenizer of
 * state-spaces/mamba-*-hf and the GPT-2 family. Encoding and decoding give the same ids and text
 * as the {@code tokenizers} library (checked against goldens it produced).
 *
 * <h2>encode(text)</h2>
 * <ol>
 *   <li>Added tokens with {@code normalized: false} (specials like {@code <|endoftext|>}) are cut
 *       out of the raw text ({@link AddedTokens}).</li>
 *   <li>Each remaining piece is normalized (NFC for GPT-NeoX; NFD/NFKC/NFKD/Lowercase and
 *       sequences of them are supported), then added tokens with {@code normalized: true} (GPT-NeoX's
 *       runs of spaces) are cut out of it.</li>
 *   <li>Each remaining piece gets a leading space if {@code add_prefix_space} and it has none,
 *       is split with the GPT-2 regex (if {@code use_regex}), and each part's UTF-8 bytes are
 *       mapped to byte characters ({@link ByteLevel}).</li>
 *   <li>Each part is merged by {@link BpeModel} and its tokens' ids are emitted.</li>
 * </ol>
 * Post-processors are not applied: the result equals Hugging Face's
 * {@code encode(text, add_special_tokens=False)} (for GPT-NeoX's ByteLevel post-processor that is
 * also the default).
 *
 * <h2>decode(ids)</h2>
 * Each id becomes its token string (added tokens first, then the model vocabulary); the ByteLevel
 * decoder turns the byte characters back into bytes, and the bytes are decoded as UTF-8 with
 * U+FFFD for invalid sequences. Ids outside the vocabulary are an error (the reference skips them
 * silently).
 *
 * <h2>Accepted tokenizer.json</h2>
 * model {@code BPE} (vocab, merges as {@code "a b"} strings or {@code ["a", "b"]} pairs,
 * unk_token, fuse_unk, ignore_merges; no dropout, no byte_fallback, no subword prefix/suffix);
 * pre_tokenizer {@code ByteLevel} (alone or as the only member of a Sequence); decoder
 * {@code ByteLevel}; normalizer null, NFC, NFD, NFKC, NFKD, Lowercase or a Sequence of these. Anything
 * else is rejected when loading, with the file and the JSON field in the message.
 */
public final class BpeTokenizer implements Tokenizer {
    /** Largest vocabulary accepted (ids are dense array indexes). */
    public static final int MAX_VOCAB = 1 << 24;
    private final String source;
    private final BpeModel model;
    private final UnaryOperator<String> normalizer;
    private final boolean addPrefixSpace;
    private final boolean useRegex;
    private final AddedTokens rawAdded;        // normalized = false: matched in the raw text
    private final AddedTokens normalizedAdded; // normalized = true: matched in normalized pieces
    private final String[] idToToken;          // vocab then added tokens (added win), null = unused id
    private final boolean[] special;
    private final Map<String, Integer> specialIds;
    private final Map<String, Integer> addedIds;
    private final int eos, bos, pad;

    private BpeTokenizer(String source, BpeModel model, UnaryOperator<String> normalizer, boolean addPrefixSpace, boolean useRegex,
                         List<AddedTokens.Token> added, int vocabSize, String[] idToToken, SpecialNames names) {
        this.source = source;
        this.model = model;
        this.normalizer = normalizer;
        this.addPrefixSpace = addPrefixSpace;
        this.useRegex = useRegex;
        this.idToToken = idToToken;
        this.special = new boolean[vocabSize];
        List<AddedTokens.Token> raw = new ArrayList<>(), norm = new ArrayList<>();
        Map<String, Integer> specials = new LinkedHashMap<>();
        Map<String, Integer> addedMap = new HashMap<>();
        for (AddedTokens.Token t : added) {
            (t.normalized() ? norm : raw).add(t);
            if (t.special()) {
                special[t.id()] = true;
                specials.put(t.content(), t.id());
            }
            addedMap.put(t.content(), t.id());
        }
        this.rawAdded = new AddedTokens(raw, UnaryOperator.identity());
        this.normalizedAdded = new AddedTokens(norm, normalizer);
        this.specialIds = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(specials));
        this.addedIds = addedMap;
        this.eos = names.resolve(this, names.eos, "<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>");
        this.bos = names.resolve(this, names.bos, "<s>", "<|begin_of_text|>", "<bos>", "<|endoftext|>");
        this.pad = names.resolve(this, names.pad, "<|padding|>", "<pad>");
    }

    // ------------------------------------------------------------------------------ loading

    /**
     * Loads {@code path}: a tokenizer.json file, or a model directory containing one. The names
     * of the eos/bos/pad tokens are taken from a {@code tokenizer_config.json} or
     * {@code special_tokens_map.json} next to it, when present; otherwise they are guessed from
     * the usual names ({@code <|endoftext|>} serves as eos and bos, as in GPT-NeoX).
     */
    public static BpeTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(path + ": no tokenizer.json");
        Object parsed = Json.parse(file);
        if (!(parsed instanceof Map<?, ?> m)) throw new IllegalArgumentException(file + ": expected a JSON object");
        SpecialNames names = new SpecialNames();
        Path dir = file.toAbsolutePath().getParent();
        for (String side : List.of("special_tokens_map.json", "tokenizer_config.json")) {
            Path p = dir.resolve(side);
            if (Files.isRegularFile(p) && Json.parse(p) instanceof Map<?, ?> cfg) names.readFrom(cfg);
        }
        @SuppressWarnings("unchecked")
        Map<String, ?> json = (Map<String, ?>) m;
        return build(json, file.toString(), names);
    }

    /** Builds a tokenizer from a parsed tokenizer.json; {@code source} names it in errors. */
    public static BpeTokenizer fromJson(Map<String, ?> json, String source) {
        return build(json, source, new SpecialNames());
    }

    private static BpeTokenizer build(Map<String, ?> json, String source, SpecialNames names) {
        TokenizerJson tj = new TokenizerJson(json, source);
        Map<String, Integer> vocab = tj.vocab();
        List<AddedTokens.Token> added = tj.addedTokens();
        int maxId = -1;
        for (int id : vocab.values()) maxId = Math.max(maxId, id);
        for (AddedTokens.Token t : added) maxId = Math.max(maxId, t.id());
        if (maxId >= MAX_VOCAB) throw new IllegalArgumentException(source + ": token id " + maxId + " is beyond the supported " + MAX_VOCAB + " ids");
        int vocabSize = maxId + 1;
        String[] idToToken = new String[vocabSize];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (AddedTokens.Token t : added) idToToken[t.id()] = t.content();
        BpeModel model = new BpeModel(vocab, tj.merges(vocab), tj.unkId(vocab), tj.fuseUnk(), tj.ignoreMerges());
        UnaryOperator<String> normalizer = tj.normalizer();
        boolean[] byteLevel = tj.preTokenizer(); // {add_prefix_space, use_regex}
        tj.checkDecoder();
        return new BpeTokenizer(source, model, normalizer, byteLevel[0], byteLevel[1], added, vocabSize, idToToken, names);
    }

    /** Names of eos/bos/pad from tokenizer_config.json or special_tokens_map.json. */
    private static final class SpecialNames {
        String eos, bos, pad;

        void readFrom(Map<?, ?> cfg) {
            eos = name(cfg.get("eos_token"), eos);
            bos = name(cfg.get("bos_token"), bos);
            pad = name(cfg.get("pad_token"), pad);
        }

        private static String name(Object v, String def) {
            if (v instanceof String s) return s;
            if (v instanceof Map<?, ?> m && m.get("content") instanceof String s) return s;
            return def;
        }

        int resolve(BpeTokenizer t, String configured, String... guesses) {
            if (configured != null) {
                OptionalInt id = t.tokenToId(configured);
                if (id.isEmpty()) throw new IllegalArgumentException(t.source + ": special token \"" + configured + "\" named in the tokenizer config is not in the vocabulary");
                return id.getAsInt();
            }
            for (String g : guesses) if (t.addedIds.containsKey(g)) return t.addedIds.get(g);
            return -1;
        }
    }

    // ------------------------------------------------------------------------------ encode

    @Override
    public int[] encode(String text) {
        return encode(text, null);
    }

    /** Encodes; if {@code tokens} is non-null, appends each token's string (as Hugging Face's Encoding.tokens). */
    private int[] encode(String text, List<String> tokens) {
        int[] out = new int[Math.max(16, text.length() / 3)];
        int n = 0;
        List<AddedTokens.Piece> rawPieces = new ArrayList<>();
        rawAdded.split(text, rawPieces);
        List<AddedTokens.Piece> pieces = new ArrayList<>();
        for (AddedTokens.Piece rp : rawPieces) {
            if (rp.id() >= 0) {
                pieces.add(rp);
                continue;
            }
            normalizedAdded.split(normalizer.apply(rp.text()), pieces);
        }
        for (AddedTokens.Piece p : pieces) {
            if (p.id() >= 0) {
                out = ensure(out, n + 1);
                out[n++] = p.id();
                if (tokens != null) tokens.add(p.text()); // the matched text, with any stripped whitespace
                continue;
            }
            int first = n;
            String s = p.text();
            if (s.isEmpty()) continue;
            if (addPrefixSpace && s.charAt(0) != ' ') s = " " + s;
            Matcher m = ByteLevel.SPLIT.matcher(s);
            int last = 0;
            while (useRegex && m.find()) {
                if (m.start() > last) n = word(s.substring(last, m.start()), out = ensure(out, n + 4 * (m.start() - last)), n);
                n = word(m.group(), out = ensure(out, n + 4 * (m.end() - m.start())), n);
                last = m.end();
            }
            if (last < s.length()) n = word(s.substring(last), out = ensure(out, n + 4 * (s.length() - last)), n);
            if (tokens != null) for (int i = first; i < n; i++) tokens.add(idToToken[out[i]]);
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** BPE of one pre-tokenized part; {@code out} has room for 4 ids per char (≥ its UTF-8 bytes). */
    private int word(String part, int[] out, int n) {
        return model.tokenize(ByteLevel.toByteChars(part), out, n);
    }

    private static int[] ensure(int[] a, int need) {
        return need <= a.length ? a : java.util.Arrays.copyOf(a, Math.max(need, a.length * 2));
    }

    /**
     * The token strings of {@code text}, as Hugging Face's {@code Encoding.tokens}: byte characters
     * for model tokens (e.g. "Ġthe"), the matched text for added tokens (including whitespace an
     * lstrip/rstrip token swallowed). For inspection and tests.
     */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        encode(text, out);
        return out;
    }

    // ------------------------------------------------------------------------------ decode

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
                throw new IllegalArgumentException(source + ": ids[" + k + "] = " + id + " is not a token id (vocabulary [0, " + idToToken.length + "))");
            }
            if (skipSpecialTokens && special[id]) continue;
            ByteLevel.appendTokenBytes(idToToken[id], bytes);
        }
        byte[] b = bytes.toByteArray();
        return ByteLevel.decodeUtf8Lossy(b, b.length);
    }

    // ------------------------------------------------------------------------------ vocabulary

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    /** The token string of {@code id} (byte characters for model tokens), or null if unused. */
    public String idToToken(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /** The id of token string {@code token} (added tokens first, then the vocabulary). */
    public OptionalInt tokenToId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) id = model.vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return specialIds;
    }

    @Override
    public OptionalInt eosTokenId() {
        return eos < 0 ? OptionalInt.empty() : OptionalInt.of(eos);
    }

    @Override
    public OptionalInt bosTokenId() {
        return bos < 0 ? OptionalInt.empty() : OptionalInt.of(bos);
    }

    @Override
    public OptionalInt padTokenId() {
        return pad < 0 ? OptionalInt.empty() : OptionalInt.of(pad);
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + source + ", vocab " + vocabSize() + "]";
    }

    // ------------------------------------------------------------------------------ normalizers

    /** The normalizer named by a tokenizer.json "normalizer" object (null = none). */
    static UnaryOperator<String> normalizer(Object spec, String where) {
        if (spec == null) return UnaryOperator.identity();
        if (!(spec instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)) {
            throw new IllegalArgumentException(where + ": expected an object with a \"type\", found " + Json.write(spec));
        }
        return switch (type) {
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            case "Sequence" -> {
                if (!(m.get("normalizers") instanceof List<?> list)) throw new IllegalArgumentException(where + ".normalizers: expected a list");
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) steps.add(normalizer(list.get(i), where + ".normalizers[" + i + "]"));
                yield s -> {
                    for (UnaryOperator<String> f : steps) s = f.apply(s);
                    return s;
                };
            }
            default -> throw new IllegalArgumentException(where + ": unsupported normalizer type \"" + type
                    + "\" (supported: NFC, NFD, NFKC, NFKD, Lowercase, Sequence)");
        };
    }
}
