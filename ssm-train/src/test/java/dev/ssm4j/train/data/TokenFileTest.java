package dev.ssm4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(TokenFileTest.class.getResource("/data/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource /data/" + name, e);
        }
    }

    static int[] expected() {
        int[] t = new int[11];
        for (int i = 0; i < 11; i++) t[i] = (i * 37) % 1000;
        return t;
    }

    @Test
    void readsNumpyWrittenFiles() throws IOException {
        // Written by numpy.save: (arange(11) * 37) % 1000 as int16 … int64, % 100 for the 8-bit types.
        for (String f : new String[] {"tokens_i2.npy", "tokens_u2.npy", "tokens_i4.npy", "tokens_u4.npy", "tokens_i8.npy",
                "tokens_i8_v2.npy"}) {
            assertArrayEquals(expected(), TokenFile.read(resource(f)), f);
        }
        int[] small = expected();
        for (int i = 0; i < small.length; i++) small[i] %= 100;
        for (String f : new String[] {"tokens_i1.npy", "tokens_u1.npy"}) assertArrayEquals(small, TokenFile.read(resource(f)), f);
        assertEquals(371, TokenFile.vocabNeeded(expected()));
    }

    @Test
    void rejectsWhatIsNotATokenArray() {
        var e = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(resource("tokens_2d.npy")));
        assertTrue(e.getMessage().contains("tokens_2d.npy") && e.getMessage().contains("1-D") && e.getMessage().contains("3, 4"),
                e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(resource("tokens_neg.npy")));
        assertTrue(e2.getMessage().contains("tokens_neg.npy") && e2.getMessage().contains("-3"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(resource("tokens_f4.npy")));
        assertTrue(e3.getMessage().contains("tokens_f4.npy") && e3.getMessage().contains("not an integer type"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(resource("tokens_u8.npy")));
        assertTrue(e4.getMessage().contains("tokens_u8.npy") && e4.getMessage().contains("unsupported dtype '<u8'"), e4.getMessage());
    }

    @Test
    void writeReadRoundTripAndTruncation() throws IOException {
        int[] tokens = new int[1000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i * 7919 % 50_000;
        Path p = tmp.resolve("t.npy");
        TokenFile.writeNpy(p, tokens);
        assertArrayEquals(tokens, TokenFile.readNpy(p));
        byte[] all = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 3));
        var e = assertThrows(IllegalArgumentException.class, () -> TokenFile.readNpy(p));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.writeString(p, "not numpy at all");
        assertThrows(IllegalArgumentException.class, () -> TokenFile.readNpy(p));
    }

    @Test
    void textIsTokenizedByBytes() throws IOException {
        String text = "Mamba → SSM\n";
        Path p = tmp.resolve("t.txt");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        int[] tok = TokenFile.read(p);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, tok.length);
        assertEquals('M', tok[0]);
        assertEquals(0xE2, tok[6]); // first byte of the UTF-8 arrow
        for (int t : tok) assertTrue(t >= 0 && t < 256);
        assertEquals(text, new ByteTokenizer().decode(tok, false));
    }
}
