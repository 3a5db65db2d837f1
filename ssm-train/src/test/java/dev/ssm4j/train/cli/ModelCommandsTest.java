package dev.ssm4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Npy;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ./ssm info and ./ssm forward on a small saved model. */
class ModelCommandsTest {
    @TempDir
    Path tmp;

    private Path smallModel(ModelSpec.Kind kind) throws IOException {
        ModelSpec.Builder b = ModelSpec.builder(kind).vocab(50).hidden(16).layers(2).dInner(32).dState(4).convWidth(4);
        ModelSpec spec = kind == ModelSpec.Kind.MAMBA1 ? b.dtRank(2).build() : b.heads(4).headDim(8).groups(2).build();
        float[] p = new float[new ParameterLayout(spec).flatSize()];
        Random r = new Random(7);
        for (int i = 0; i < p.length; i++) p[i] = (r.nextFloat() - 0.5f) * 0.5f;
        Path dir = tmp.resolve(kind.name());
        MambaLM.fromFlat(spec, p).save(dir);
        return dir;
    }

    @Test
    void forwardWritesLogitsInBothModes() throws IOException {
        for (ModelSpec.Kind kind : ModelSpec.Kind.values()) {
            Path dir = smallModel(kind);
            Path par = tmp.resolve(kind + "-par.npy"), rec = tmp.resolve(kind + "-rec.npy");
            int[] toks = {3, 1, 4, 1, 5, 9, 2, 6};
            assertEquals(0, Main.run(new String[] {"forward", "--model", dir.toString(), "--tokens", "3,1,4,1,5,9,2,6",
                    "--out", par.toString()}));
            assertEquals(0, Main.run(new String[] {"forward", "--model", dir.toString(), "--tokens", "3,1,4,1,5,9,2,6",
                    "--mode", "recurrent", "--out", rec.toString()}));
            float[] a = Npy.readF32(par, 8, 50), b = Npy.readF32(rec, 8, 50);
            try (MambaLM lm = MambaLM.load(dir)) {
                assertArrayEquals(lm.logits(toks), a, kind + " parallel");
            }
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4, kind + " recurrent " + i);
            assertEquals(0, Main.run(new String[] {"forward", "--model", dir.toString(), "--tokens", "3,1",
                    "--bf16", "--out", par.toString()}));
            assertEquals(2 * 50, Npy.readF32(par, 2, 50).length);
        }
    }

    @Test
    void infoAndBadInput() throws IOException {
        Path dir = smallModel(ModelSpec.Kind.MAMBA2);
        assertEquals(0, Main.run(new String[] {"info", "--model", dir.toString()}));
        assertEquals(0, Main.run(new String[] {"info", "--model", dir.toString(), "--json"}));
        assertEquals(1, Main.run(new String[] {"forward", "--model", dir.toString(), "--tokens", "3,50",
                "--out", tmp.resolve("x.npy").toString()}), "token id out of range");
        assertEquals(2, Main.run(new String[] {"forward", "--model", dir.toString(), "--tokens", "3",
                "--mode", "sideways", "--out", tmp.resolve("x.npy").toString()}));
        assertEquals(1, Main.run(new String[] {"info", "--model", tmp.resolve("missing").toString()}));
        assertTrue(dir.resolve("config.json").toFile().isFile());
    }
}
