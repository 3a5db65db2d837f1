package dev.ssm4j.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The tokenizer of models trained with ssm4j: ids 0..255 are the bytes of the UTF-8 text, so any
 * text round-trips and nothing needs to be trained or stored.
 *
 * <p>Optional special tokens take the ids 256, 257, ... in the order given, and vocabSize is
 * 256 + their count. A special token written in the text is encoded as its id (leftmost, longest
 * match first), like Hugging Face's added tokens. The conventional specials are
 * {@link #END_OF_TEXT} (the document separator, also returned as eos) and {@link #PADDING} (pad).
 *
 * <pre>
 *   new ByteTokenizer()                         vocab 256, no specials
 *   ByteTokenizer.withEndOfText()               vocab 257, "&lt;|endoftext|&gt;" = 256 (eos, bos)
 *   new ByteTokenizer(List.of("&lt;|endoftext|&gt;", "&lt;|padding|&gt;"))   vocab 258, pad = 257
 * </pre>
 */
public final class ByteTokenizer implements Tokenizer {
    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String PADDING = "<|padding|>";

    private final List<String> specials;
    private final Map<String, Integer> specialIds;

    /** Plain bytes, no special tokens. */
    public ByteTokenizer() {
        this(List.of());
    }

    /** Bytes plus {@code specials} at ids 256, 257, ... (non-empty, distinct). */
    public ByteTokenizer(List<String> specials) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String s : specials) {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("special tokens must be non-empty, got " + specials);
            if (ids.put(s, 256 + ids.size()) != null) throw new IllegalArgumentException("duplicate special token \"" + s + "\" in " + specials);
        }
        this.specials = List.copyOf(specials);
        this.specialIds = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(ids));
    }

    /** Bytes plus {@code <|endoftext|>} = 256. */
    public static ByteTokenizer withEndOfText() {
        return new ByteTokenizer(List.of(END_OF_TEXT));
    }

    @Override
    public int[] encode(String text) {
        int[] ids = new int[Math.max(16, text.length())];
        int n = 0;
        int plainStart = 0;
        int i = 0;
        while (i < text.length() && !specials.isEmpty()) {
            String match = longestSpecialAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            byte[] plain = text.substring(plainStart, i).getBytes(StandardCharsets.UTF_8);
            ids = grow(ids, n + plain.length + 1);
            for (byte b : plain) ids[n++] = b & 0xff;
            ids[n++] = specialIds.get(match);
            i += match.length();
            plainStart = i;
        }
        byte[] rest = text.substring(plainStart).getBytes(StandardCharsets.UTF_8);
        ids = grow(ids, n + rest.length);
        for (byte b : rest) ids[n++] = b & 0xff;
        return java.util.Arrays.copyOf(ids, n);
    }

    private String longestSpecialAt(String text, int i) {
        String best = null;
        for (String s : specials) {
            if ((best == null || s.length() > best.length()) && text.startsWith(s, i)) best = s;
        }
        return best;
    }

    private static int[] grow(int[] a, int need) {
        return need <= a.length ? a : java.util.Arrays.copyOf(a, Math.max(need, a.length * 2));
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            if (id >= 0 && id < 256) {
                out.write(id);
            } else if (id >= 256 && id < vocabSize()) {
                if (!skipSpecialTokens) out.writeBytes(specials.get(id - 256).getBytes(StandardCharsets.UTF_8));
            } else {
                throw new IllegalArgumentException("ids[" + k + "] = " + id + " is outside the vocabulary [0, " + vocabSize() + ")");
            }
        }
        byte[] bytes = out.toByteArray();
        return ByteLevel.decodeUtf8Lossy(bytes, bytes.length);
    }

    @Override
    public int vocabSize() {
        return 256 + specials.size();
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return specialIds;
    }

    /** {@code <|endoftext|>} if it is one of the specials. */
    @Override
    public OptionalInt eosTokenId() {
        Integer id = specialIds.get(END_OF_TEXT);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Same as eos: documents are separated, not opened, by {@code <|endoftext|>} (GPT-NeoX convention). */
    @Override
    public OptionalInt bosTokenId() {
        return eosTokenId();
    }

    /** {@code <|padding|>} if it is one of the specials. */
    @Override
    public OptionalInt padTokenId() {
        Integer id = specialIds.get(PADDING);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String toString() {
        return "ByteTokenizer[vocab " + vocabSize() + ", specials " + specials + "]";
    }
}
