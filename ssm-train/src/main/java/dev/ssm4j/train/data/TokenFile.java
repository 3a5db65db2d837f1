package dev.ssm4j.train.data;

import dev.ssm4j.core.io.Npy;
import dev.ssm4j.core.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * User token data, as one flat {@code int[]} of token ids:
 * <ul>
 *   <li>{@code *.npy}: a 1-D integer array — int8, uint8, int16, uint16, int32, uint32 or int64,
 *       values in [0, 2^31) ({@link Npy#readTokens});</li>
 *   <li>anything else: UTF-8 text, tokenized by bytes ({@link ByteTokenizer}: token = byte value,
 *       vocabulary 256; bytes that are not valid UTF-8 are read as U+FFFD).</li>
 * </ul>
 * A bad .npy file is an IllegalArgumentException naming the file and the problem (dtype, shape,
 * the first out-of-range value).
 */
public final class TokenFile {
    private TokenFile() {}

    /** Reads {@code path} as .npy tokens if its name ends in {@code .npy}, else as bytes of text. */
    public static int[] read(Path path) throws IOException {
        return path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npy")
                ? readNpy(path) : readBytes(path);
    }

    /** A 1-D integer .npy file. */
    public static int[] readNpy(Path path) throws IOException {
        return Npy.readTokens(path);
    }

    /** A UTF-8 text file as its bytes, tokens 0..255. */
    public static int[] readBytes(Path path) throws IOException {
        return new ByteTokenizer().encode(new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
    }

    /** Writes tokens as a 1-D int32 .npy file (for preparing data and for tests). */
    public static void writeNpy(Path path, int[] tokens) throws IOException {
        Npy.writeI32(path, tokens);
    }

    /** 1 + the largest token id (0 for no tokens): the smallest vocabulary that covers the data. */
    public static int vocabNeeded(int[] tokens) {
        int max = -1;
        for (int t : tokens) max = Math.max(max, t);
        return max + 1;
    }
}
