package dev.ssm4j.core.generate;

import dev.ssm4j.core.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Incremental detokenisation of one row: turns each new token into the text it completes.
 *
 * <p>A byte-level tokenizer may split one UTF-8 character (é is 2 bytes, an emoji 4) across
 * tokens; decoding the first part alone gives U+FFFD. The stream keeps a window of tokens
 * {@code [start, n)} and how many characters of its decoded text were already shown. Each new
 * token re-decodes the window and shows the text up to (not including) its trailing run of
 * U+FFFD — bytes that may still become a character. UTF-8 is self-synchronising, so text before
 * that run never changes when more bytes arrive. When the window's text ends cleanly its bytes
 * form complete characters, and the window restarts empty: each step decodes only a few tokens.
 * The pieces therefore concatenate to {@code tokenizer.decode(allTokens)} for tokenizers whose
 * decode is the UTF-8 decoding of the concatenated token bytes (byte and byte-level BPE). A window
 * that never ends cleanly (a stream of invalid bytes) is cut at {@link #MAX_WINDOW} tokens.
 */
final class TextStream {
    static final int MAX_WINDOW = 64;
    private final Tokenizer tok;
    private int[] window = new int[8];
    private int n;        // tokens in the window
    private int shown;    // chars of decode(window) already returned

    TextStream(Tokenizer tok) {
        this.tok = tok;
    }

    /** Text completed by {@code token} ("" while only an incomplete character was added). */
    String push(int token) {
        if (n == window.length) window = Arrays.copyOf(window, 2 * n);
        window[n++] = token;
        String s = tok.decode(Arrays.copyOf(window, n), false);
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\uFFFD') end--;
        if (end < s.length() && n < MAX_WINDOW) {
            String piece = s.substring(Math.min(shown, end), end);
            shown = Math.max(shown, end);
            return piece;
        }
        String piece = s.substring(Math.min(shown, s.length()));
        n = 0;
        shown = 0;
        return piece;
    }

    /** Text still held back (bytes that never completed a character), "" if none; empties the window. */
    String flush() {
        if (n == 0) return "";
        String s = tok.decode(Arrays.copyOf(window, n), false);
        String piece = s.substring(Math.min(shown, s.length()));
        n = 0;
        shown = 0;
        return piece;
    }
}
