package dev.ssm4j.core.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Finding added tokens (e.g. {@code <|endoftext|>}, or GPT-NeoX's runs of spaces) in text before
 * it is pre-tokenized, with Hugging Face's rules:
 *
 * <ul>
 *   <li>Matches are found left to right; at the leftmost position where any token starts, the
 *       longest one wins ("leftmost-longest"); the search resumes after it.</li>
 *   <li>{@code single_word}: the match is dropped unless the characters on both sides are not
 *       word characters (Unicode {@code \w}) or the text ends there.</li>
 *   <li>{@code lstrip} / {@code rstrip}: the match swallows the whitespace to its left (not going
 *       back past the previous match) / right; that whitespace becomes part of the token.</li>
 *   <li>Tokens with {@code normalized = false} are matched in the raw text first; those with
 *       {@code normalized = true} are matched, in their normalized form, inside the normalized
 *       remaining pieces. That is why there are two instances of this class per tokenizer.</li>
 * </ul>
 */
final class AddedTokens {
    /** One entry of tokenizer.json's "added_tokens". */
    record Token(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized, boolean special) {}

    /** A piece of text: an added token ({@code id >= 0}) or plain text ({@code id == -1}). */
    record Piece(String text, int id) {}

    /** Patterns by first char, longest first. */
    private final Map<Character, List<Pattern>> byFirstChar = new HashMap<>();

    private record Pattern(String text, Token token) {}

    /** Matcher for {@code tokens}; each is looked for as {@code form(content)}. */
    AddedTokens(List<Token> tokens, UnaryOperator<String> form) {
        for (Token t : tokens) {
            String p = form.apply(t.content());
            if (p.isEmpty()) continue;
            byFirstChar.computeIfAbsent(p.charAt(0), c -> new ArrayList<>()).add(new Pattern(p, t));
        }
        for (List<Pattern> l : byFirstChar.values()) l.sort(Comparator.comparingInt((Pattern p) -> p.text.length()).reversed());
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Splits {@code s} into added-token pieces and the plain text between them (no empty pieces). */
    void split(String s, List<Piece> out) {
        if (byFirstChar.isEmpty()) {
            if (!s.isEmpty()) out.add(new Piece(s, -1));
            return;
        }
        int startOffset = 0; // end of the last emitted piece
        int searchFrom = 0;  // where the next match may start (after the previous match proper)
        int n = s.length();
        while (searchFrom < n) {
            int start = -1;
            Pattern found = null;
            for (int i = searchFrom; i < n && found == null; i++) {
                List<Pattern> cands = byFirstChar.get(s.charAt(i));
                if (cands == null) continue;
                for (Pattern p : cands) {
                    if (s.startsWith(p.text, i)) {
                        found = p;
                        start = i;
                        break;
                    }
                }
            }
            if (found == null) break;
            int stop = start + found.text.length();
            searchFrom = stop;
            Token t = found.token;
            if (t.singleWord()) {
                boolean spaceBefore = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean spaceAfter = stop == n || !isWordChar(s.codePointAt(stop));
                if (!spaceBefore || !spaceAfter) continue;
            }
            if (t.lstrip()) {
                int newStart = start;
                while (newStart > 0 && isWhiteSpace(s.codePointBefore(newStart))) newStart -= Character.charCount(s.codePointBefore(newStart));
                start = Math.max(newStart, startOffset);
            }
            if (t.rstrip()) {
                while (stop < n && isWhiteSpace(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
            }
            if (startOffset < start) out.add(new Piece(s.substring(startOffset, start), -1));
            out.add(new Piece(s.substring(start, stop), t.id()));
            startOffset = stop;
        }
        if (startOffset < n) out.add(new Piece(s.substring(startOffset), -1));
    }

    /** Unicode White_Space (what {@code \s} means in the Rust and Oniguruma regexes). */
    static boolean isWhiteSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** Unicode {@code \w}: Alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ. */
    static boolean isWordChar(int c) {
        if (Character.isAlphabetic(c) || c == 0x200C || c == 0x200D) return true;
        int type = Character.getType(c);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.DECIMAL_DIGIT_NUMBER || type == Character.CONNECTOR_PUNCTUATION;
    }
}
