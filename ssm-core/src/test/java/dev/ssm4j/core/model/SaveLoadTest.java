package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ssm4j.core.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** save() writes an HF directory that load() reads back to the same model (tied lm_head omitted). */
class SaveLoadTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void saveThenLoadGivesTheSameLogits(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            Path out = tmp.resolve(name);
            lm.save(out);
            try (MambaLM back = MambaLM.load(out); SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertEquals(lm.spec(), back.spec());
                assertEquals(lm.layout().size(), f.names().size());
                if (lm.spec().tieEmbeddings) assertFalse(f.contains(ParameterLayout.LM_HEAD));
                assertArrayEquals(lm.logits(g.tokens), back.logits(g.tokens));
            }
            // A model built from a spec (the trainer's path) writes a config from the spec.
            float[] flat = new float[lm.layout().flatSize()];
            for (ParameterLayout.Entry e : lm.layout().entries()) {
                System.arraycopy(lm.parameter(e.name()), 0, flat, (int) e.offset(), (int) e.size());
            }
            Path out2 = tmp.resolve(name + "-flat");
            MambaLM.fromFlat(lm.spec(), flat).save(out2);
            try (MambaLM back = MambaLM.load(out2)) {
                assertEquals(lm.spec(), back.spec());
                Golden.assertClose(name + " flat save", g.expected("logits"), 0, back.logits(g.tokens), 0,
                        g.tokens.length * lm.spec().vocab, 1e-4);
            }
        }
    }
}
