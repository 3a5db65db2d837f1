package dev.ssm4j.train.data;

import java.nio.charset.StandardCharsets;

/**
 * The byte tokenizer: a text's UTF-8 bytes are its tokens (token = unsigned byte value, 0..255), so
 * the vocabulary is exactly {@link #VOCAB} = 256 and nothing is unknown.
 */
public final class ByteTokenizer {
    private ByteTokenizer() {}

    public static final int VOCAB = 256;

    /** Tokens of a text: its UTF-8 bytes as values 0..255. */
    public static int[] encode(String text) {
        return fromBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes as tokens 0..255. */
    public static int[] fromBytes(byte[] bytes) {
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = bytes[i] & 0xFF;
        return out;
    }

    /** The text of tokens 0..255 (bytes that are not valid UTF-8 become U+FFFD). */
    public static String decode(int[] tokens) {
        byte[] b = new byte[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= VOCAB) {
                throw new IllegalArgumentException("token " + tokens[i] + " at index " + i + " is not a byte (0..255)");
            }
            b[i] = (byte) tokens[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
