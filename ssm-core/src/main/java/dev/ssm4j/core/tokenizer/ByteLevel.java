package dev.ssm4j.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.regex.Pattern;

/**
 * The pieces of GPT-2's byte-level BPE that are not the merges themselves.
 *
 * <ul>
 *   <li>{@link #SPLIT}: the GPT-2 pre-tokenization regex. It cuts text into contractions
 *       ('s 't 're 've 'm 'll 'd), letter runs, digit runs and runs of other symbols — each
 *       optionally led by one space — and whitespace runs; a whitespace run followed by a
 *       non-space gives up its last space to the next piece ({@code \s+(?!\S)}).
 *       {@code UNICODE_CHARACTER_CLASS} makes {@code \s} Unicode White_Space, as in the
 *       Oniguruma regex Hugging Face tokenizers uses.</li>
 *   <li>The byte ↔ character map: every byte 0..255 gets a printable character, so a token is an
 *       ordinary string. Printable Latin-1 bytes (33..126, 161..172, 174..255) map to themselves;
 *       the other 68 (controls, space, 127..160, 173) map to U+0100, U+0101, ... in byte order —
 *       so a space becomes 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).</li>
 *   <li>{@link #decodeUtf8Lossy}: bytes → String, each maximal invalid subsequence replaced by one
 *       U+FFFD (the Unicode "maximal subpart" practice, as Rust's {@code from_utf8_lossy} does),
 *       which is what a decode of a partial multi-byte character must produce.</li>
 * </ul>
 */
final class ByteLevel {
    private ByteLevel() {}

    static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /** byte (0..255) → its character. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** character → byte, or -1; indexed by char (all mapped chars are < 0x144). */
    static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The byte-level string of {@code piece}: one character per UTF-8 byte. */
    static String toByteChars(String piece) {
        byte[] bytes = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
        return new String(out);
    }

    /**
     * Appends the bytes a token stands for, as Hugging Face's ByteLevel decoder does: if every
     * character of the token is a byte character, those bytes; otherwise (e.g. an added token
     * made of real spaces) the token's own UTF-8 bytes.
     */
    static void appendTokenBytes(String token, ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                out.writeBytes(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) out.write(CHAR_TO_BYTE[token.charAt(i)]);
    }

    /** UTF-8 decoding that replaces each maximal invalid subsequence with one U+FFFD. */
    static String decodeUtf8Lossy(byte[] b, int n) {
        StringBuilder sb = new StringBuilder(n);
        int i = 0;
        while (i < n) {
            int b0 = b[i] & 0xff;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            // Number of continuation bytes and the allowed range of the FIRST one (Unicode Table 3-7).
            int need, lo = 0x80, hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
            else if (b0 == 0xE0) { need = 2; lo = 0xA0; }
            else if (b0 == 0xED) { need = 2; hi = 0x9F; }
            else if (b0 >= 0xE1 && b0 <= 0xEF) need = 2;
            else if (b0 == 0xF0) { need = 3; lo = 0x90; }
            else if (b0 >= 0xF1 && b0 <= 0xF3) need = 3;
            else if (b0 == 0xF4) { need = 3; hi = 0x8F; }
            else {
                sb.append('\uFFFD'); // 0x80..0xC1 or 0xF5..0xFF can never start a character
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int c = j < n ? b[j] & 0xff : -1;
                int l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
                if (c < l || c > h) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
            } else {
                sb.append('\uFFFD'); // the bytes i..j-1 are a maximal subpart; resume at j
            }
            i = j;
        }
        return sb.toString();
    }
}
