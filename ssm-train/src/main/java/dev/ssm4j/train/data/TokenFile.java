package dev.ssm4j.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * User token data, as one flat {@code int[]} of token ids:
 * <ul>
 *   <li>{@code *.npy}: a 1-D integer array (int32, int64, uint16, ... ; values in [0, 2^31));</li>
 *   <li>anything else: UTF-8 text, tokenized by bytes ({@link ByteTokenizer}: token = byte value,
 *       vocabulary 256).</li>
 * </ul>
 */
public final class TokenFile {
    private TokenFile() {}

    /** Reads {@code path} as .npy tokens if its name ends in {@code .npy}, else as bytes of text. */
    public static int[] read(Path path) throws IOException {
        return path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npy")
                ? readNpy(path) : readBytes(path);
    }

    /** A 1-D integer .npy file. (Uses a private stand-in reader until dev.ssm4j.core.io.Npy is merged.) */
    public static int[] readNpy(Path path) throws IOException {
        return NpyTokensStandIn.read(path);
    }

    /** The bytes of a file as tokens 0..255. */
    public static int[] readBytes(Path path) throws IOException {
        return ByteTokenizer.fromBytes(Files.readAllBytes(path));
    }

    /** Writes tokens as a 1-D int32 .npy file (for preparing data and for tests). */
    public static void writeNpy(Path path, int[] tokens) throws IOException {
        NpyTokensStandIn.writeInt32(path, tokens);
    }

    /** 1 + the largest token id (0 for no tokens): the smallest vocabulary that covers the data. */
    public static int vocabNeeded(int[] tokens) {
        int max = -1;
        for (int t : tokens) max = Math.max(max, t);
        return max + 1;
    }
}
