package dev.ssm4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.MambaLM;
import java.io.InputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ./ssm generate on copies of the small golden models (byte tokenizer: ASCII below the vocab size). */
class GenerateCommandTest {
    @TempDir
    Path tmp;

    private Path copyGolden(String name) throws Exception {
        // from ssm-core's test resources (a directory or its test-jar)
        Path dst = tmp.resolve(name);
        Files.createDirectories(dst);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            try (InputStream in = GenerateCommandTest.class.getResourceAsStream("/golden/" + name + "/" + f)) {
                if (in == null) throw new IOException("test resource /golden/" + name + "/" + f + " not found");
                Files.copy(in, dst.resolve(f));
            }
        }
        return dst;
    }

    @Test
    void generatesGreedySampledAndResumes() throws Exception {
        for (String name : new String[] {"mamba1", "mamba2"}) {
            Path dir = copyGolden(name);
            String m = dir.toString();
            assertEquals(0, Main.run(new String[] {"generate", "--model", m, "--prompt", "ABC ", "--max-tokens", "6"}));
            assertEquals(0, Main.run(new String[] {"generate", "--model", m, "--prompt", "ABC ", "--max-tokens", "6",
                    "--temperature", "0.8", "--top-k", "10", "--top-p", "0.9", "--min-p", "0.05",
                    "--repetition-penalty", "1.1", "--seed", "7", "--stop", "10,11", "--bf16", "--quiet"}));
            Path st = tmp.resolve(name + ".state");
            assertEquals(0, Main.run(new String[] {"generate", "--model", m, "--prompt", "ABC", "--max-tokens", "4",
                    "--state-out", st.toString()}));
            try (MambaLM lm = MambaLM.load(dir)) {
                assertEquals(3 + 4, InferenceState.load(st, lm.spec()).position(0));
                assertEquals(0, Main.run(new String[] {"generate", "--model", m, "--prompt", "D", "--max-tokens", "3",
                        "--state-in", st.toString(), "--state-out", st.toString(), "--stop", "X"}));
                long pos = InferenceState.load(st, lm.spec()).position(0);
                assertTrue(pos >= 7 + 1 + 1 && pos <= 7 + 1 + 3, "position " + pos);
            }
        }
    }

    @Test
    void clearErrors() throws Exception {
        Path dir = copyGolden("mamba1");
        String m = dir.toString();
        assertTrue(Main.run(new String[] {"generate", "--model", tmp.resolve("nope").toString(), "--prompt", "A"}) != 0);
        assertEquals(2, Main.run(new String[] {"generate", "--model", m}), "missing --prompt");
        int bad = Main.run(new String[] {"generate", "--model", m, "--prompt", "A", "--top-p", "1.5"});
        assertTrue(bad != 0);
        assertTrue(Main.run(new String[] {"generate", "--model", m, "--prompt", "A", "--greedy", "--seed", "3"}) != 0);
        assertTrue(Main.run(new String[] {"generate", "--model", m, "--prompt", "zzz"}) != 0, "ids beyond the vocab");
        assertTrue(Main.run(new String[] {"generate", "--model", m, "--prompt", "A", "--max-tokens", "0"}) != 0);
    }
}
