package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafeTensor;
import dev.ssm4j.core.io.SafetensorsFile;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad checkpoints, configs, token ids, buffers and states give messages that name the problem. */
class BadInputTest {
    @TempDir
    Path tmp;

    /** A copy of a golden model dir whose tensors are rewritten by {@code edit} (name → shape or null to drop). */
    private Path editedCopy(String golden, Function<String, int[]> edit, String extraTensor) throws IOException {
        Golden g = new Golden(golden);
        Path dir = Files.createDirectories(tmp.resolve(golden + "-edited"));
        Files.copy(g.dir.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(g.dir.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                SafeTensor t = f.tensor(n);
                int[] shape = edit.apply(n);
                if (shape == null) continue;
                float[] v = t.toFloatArray();
                long need = 1;
                for (int s : shape) need *= s;
                w.add(n, DType.F32, java.util.Arrays.copyOf(v, (int) need), 0, shape);
            }
        }
        if (extraTensor != null) w.addF32(extraTensor, new float[] {1f}, 1);
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should contain '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        String gone = "backbone.layers.1.mixer.x_proj.weight";
        Path dir = editedCopy("mamba1", n -> n.equals(gone) ? null : shapeOf("mamba1", n), null);
        Exception e = assertThrows(IllegalArgumentException.class, () -> MambaLM.load(dir));
        assertMessage(e, gone, "model.safetensors", "[13, 74]");
    }

    @Test
    void misshapenTensorIsNamedWithBothShapes() throws IOException {
        String bad = "backbone.layers.0.mixer.conv1d.weight";
        Path dir = editedCopy("mamba1", n -> n.equals(bad) ? new int[] {74, 1, 2} : shapeOf("mamba1", n), null);
        Exception e = assertThrows(IllegalArgumentException.class, () -> MambaLM.load(dir));
        assertMessage(e, bad, "model.safetensors", "[74, 1, 2]", "[74, 1, 3]");
    }

    @Test
    void unexpectedTensorIsReported() throws IOException {
        Path dir = editedCopy("mamba1_tied", n -> shapeOf("mamba1_tied", n), "backbone.layers.2.norm.weight");
        Exception e = assertThrows(IllegalStateException.class, () -> MambaLM.load(dir));
        assertMessage(e, "backbone.layers.2.norm.weight", "not used");
    }

    @Test
    void unsupportedConfigIsRefusedNamingTheField() throws IOException {
        Path dir = editedCopy("mamba1_tied", n -> shapeOf("mamba1_tied", n), null);
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"silu\"", "\"gelu\""));
        Exception e = assertThrows(IllegalArgumentException.class, () -> MambaLM.load(dir));
        assertMessage(e, "hidden_act", "gelu");
        Files.writeString(cfg, Files.readString(cfg).replace("\"gelu\"", "\"silu\"").replace("\"mamba\"", "\"jamba\""));
        e = assertThrows(IllegalArgumentException.class, () -> MambaLM.load(dir));
        assertMessage(e, "model_type", "jamba");
    }

    @Test
    void badTokenIdNamesIdAndVocab() throws IOException {
        Golden g = new Golden("mamba1");
        try (MambaLM lm = MambaLM.load(g.dir)) {
            Workspace ws = lm.newWorkspace(1, 4);
            float[] logits = new float[4 * 101];
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> lm.forward(new int[] {3, 5, 101, 7}, 1, 4, null, ws, null, logits));
            assertMessage(e, "token id 101", "vocab size 101", "position 2");
            e = assertThrows(IllegalArgumentException.class,
                    () -> lm.step(new int[] {-1}, 1, lm.newState(1), ws, null, logits));
            assertMessage(e, "token id -1", "vocab size 101");
        }
    }

    @Test
    void badBuffersAndStatesAreNamed() throws IOException {
        Golden g = new Golden("mamba1");
        try (MambaLM lm = MambaLM.load(g.dir); MambaLM other = MambaLM.load(new Golden("mamba1_tied").dir)) {
            Workspace ws = lm.newWorkspace(1, 4);
            int[] toks = {3, 4, 5, 6};
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> lm.forward(toks, 1, 4, null, ws, null, new float[10]));
            assertMessage(e, "logits has length 10", "(1, 4, 101)");
            e = assertThrows(IllegalArgumentException.class,
                    () -> lm.forward(toks, 2, 2, null, ws, null, new float[4 * 101]));
            assertMessage(e, "workspace");
            e = assertThrows(IllegalArgumentException.class,
                    () -> lm.forward(toks, 1, 4, other.newState(1), ws, null, new float[4 * 101]));
            assertMessage(e, "state was made for");
            e = assertThrows(IllegalArgumentException.class, () -> lm.forward(toks, 1, 4, lm.newState(2), ws,
                    new ForwardOptions().stateRows(new int[] {5}), new float[4 * 101]));
            assertMessage(e, "stateRows[0] = 5");
            e = assertThrows(IllegalArgumentException.class, () -> lm.forward(toks, 1, 4, null, ws,
                    new ForwardOptions().mask(new int[] {1, 1, 2, 1}), new float[4 * 101]));
            assertMessage(e, "mask[2] = 2");
            Path f = tmp.resolve("s.safetensors");
            lm.newState(1).save(f);
            e = assertThrows(IllegalArgumentException.class, () -> InferenceState.load(f, other.spec()));
            assertMessage(e, f.toString(), "saved for model");
        }
    }

    private static int[] shapeOf(String golden, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(new Golden(golden).dir.resolve("model.safetensors"))) {
            return f.tensor(name).intShape();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
