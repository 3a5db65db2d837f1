package dev.ssm4j.core.tokenizer;

import java.util.Map;
import java.util.OptionalInt;

/**
 * Text ↔ token ids. Implementations are immutable and safe to share between threads.
 *
 * <ul>
 *   <li>{@link ByteTokenizer}: one token per UTF-8 byte (plus optional specials) — the default
 *       for models trained with ssm4j.</li>
 *   <li>{@link BpeTokenizer}: a Hugging Face byte-level BPE {@code tokenizer.json}, e.g. the
 *       GPT-NeoX tokenizer of state-spaces/mamba-*-hf.</li>
 * </ul>
 */
public interface Tokenizer {
    /**
     * Token ids of {@code text}. Special tokens written in the text (e.g. {@code <|endoftext|>})
     * become their ids; nothing is added around the text (Hugging Face's
     * {@code encode(text, add_special_tokens=False)}).
     */
    int[] encode(String text);

    /** Text of {@code ids}, special tokens included as their text. Unknown ids are an error. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Text of {@code ids}; with {@code skipSpecialTokens} special tokens are left out. Bytes that
     * do not form valid UTF-8 (e.g. half of an emoji) become U+FFFD.
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Number of ids: every id is in [0, vocabSize). */
    int vocabSize();

    /** Special tokens: content → id (read-only). */
    Map<String, Integer> specialTokens();

    /** The end-of-text id, if the tokenizer has one. */
    OptionalInt eosTokenId();

    /** The beginning-of-text id, if the tokenizer has one. */
    OptionalInt bosTokenId();

    /** The padding id, if the tokenizer has one. */
    OptionalInt padTokenId();
}
