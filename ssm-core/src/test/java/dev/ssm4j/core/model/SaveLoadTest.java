package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
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
                // The round trip is exact: every parameter comes back bit for bit.
                for (ParameterLayout.Entry e : lm.layout().entries()) {
                    assertArrayEquals(lm.parameter(e.name()), back.parameter(e.name()), e.name());
                }
                // ...and so do the logits: the kernels' lane sums have a fixed order (VectorMath.sumLanes),
                // so the outputs do not depend on whether the first call ran interpreted or compiled.
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

    /**
     * save(dir, BF16) stores every tensor as BF16 (as transformers after model.to(bfloat16)) with
     * torch_dtype "bfloat16"; loaded as stored it computes exactly what the F32 model with every
     * parameter rounded to BF16 computes with its matrices held in BF16.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2_tied"})
    void saveAsBf16(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            Path out = tmp.resolve(name + "-bf16");
            lm.save(out, DType.BF16);
            float[] rounded = new float[lm.layout().flatSize()];
            for (ParameterLayout.Entry e : lm.layout().entries()) {
                float[] v = lm.parameter(e.name());
                for (int i = 0; i < v.length; i++) v[i] = DType.bf16ToFloat(DType.floatToBf16(v[i]));
                System.arraycopy(v, 0, rounded, (int) e.offset(), v.length);
            }
            MambaLM ref = MambaLM.fromFlat(lm.spec(), rounded).copy(LoadOptions.Matrices.BF16);
            try (MambaLM back = MambaLM.load(out); SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                for (String n : f.names()) assertEquals(DType.BF16, f.tensor(n).dtype(), n);
                assertEquals("bfloat16", ((Map<?, ?>) Json.parse(out.resolve("config.json"))).get("torch_dtype"));
                assertEquals(lm.spec(), back.spec());
                assertEquals(ref.weightBytes(), back.weightBytes());
                assertArrayEquals(ref.logits(g.tokens), back.logits(g.tokens));
            }
            assertThrows(IllegalArgumentException.class, () -> lm.save(tmp.resolve("bad"), DType.I32));
        }
    }
}

