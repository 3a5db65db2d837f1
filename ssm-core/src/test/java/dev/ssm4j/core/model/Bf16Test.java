package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafeTensor;
import dev.ssm4j.core.io.SafetensorsFile;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BF16 weight matrices (LoadOptions.BF16.withMapped(false)): the golden models' matrices rounded to bfloat16 (8
 * significant bits, relative rounding error ≤ 2⁻⁹ ≈ 0.2%), activations and accumulation in fp32.
 * Tolerance: max |error| ≤ 2% of the largest |logit| of the fp32 golden (logits here reach 1.6–2.6;
 * the observed errors are 0.3–0.8% of it: a few bf16 rounding steps accumulated through two layers).
 * Parallel and recurrent modes still agree to 1e-4 with each other (same weights).
 */
class Bf16Test {
    static final double REL_TOL_VS_FP32 = 0.02;

    @TempDir
    Path tmp;

    /**
     * A checkpoint stored in BF16 (matrices BF16, small tensors F32), loaded as stored — copied or
     * used in place from the mapping — computes exactly what LoadOptions.BF16 makes of the F32 file;
     * the F32 file used in place (mapped) agrees with the copied F32 weights.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2_tied"})
    void storedBf16AndMappedWeights(String name) throws IOException {
        Golden g = new Golden(name);
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(g.dir.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(g.dir.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                SafeTensor t = f.tensor(n);
                boolean matrix = n.endsWith("in_proj.weight") || n.endsWith("x_proj.weight")
                        || n.endsWith("out_proj.weight") || n.endsWith("embeddings.weight") || n.equals("lm_head.weight");
                w.add(n, matrix ? DType.BF16 : DType.F32, t.toFloatArray(), 0, t.intShape());
            }
        }
        w.write(dir.resolve("model.safetensors"));
        try (MambaLM conv = MambaLM.load(g.dir, LoadOptions.BF16.withMapped(false));
             MambaLM copied = MambaLM.load(dir, LoadOptions.COPIED);
             MambaLM mapped = MambaLM.load(dir, LoadOptions.DEFAULT.withMapped(true));
             MambaLM f32 = MambaLM.load(g.dir, LoadOptions.COPIED);
             MambaLM f32mapped = MambaLM.load(g.dir, LoadOptions.F32.withMapped(true))) {
            float[] ref = conv.logits(g.tokens);
            assertArrayEquals(ref, copied.logits(g.tokens), "stored BF16, copied");
            MambaLM frozen = f32.copy(LoadOptions.Matrices.BF16);
            assertArrayEquals(ref, frozen.logits(g.tokens), "copy(BF16) of the F32 model");
            assertEquals(conv.weightBytes(), frozen.weightBytes());
            assertArrayEquals(ref, frozen.copy(LoadOptions.Matrices.AS_STORED).logits(g.tokens), "copy of a copy");
            assertArrayEquals(ref, mapped.logits(g.tokens), "stored BF16, mapped");
            assertEquals(conv.weightBytes(), mapped.weightBytes());
            float[] a = f32.logits(g.tokens);
            Golden.assertClose(name + " mapped F32", a, 0, f32mapped.logits(g.tokens), 0, a.length, 1e-5);
        }
    }

    /** An all-F16 checkpoint is widened to F32 on load (as stored = F32 for F16) and stays close. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1_tied", "mamba2"})
    void f16CheckpointIsConvertedOnLoad(String name) throws IOException {
        Golden g = new Golden(name);
        Path dir = Files.createDirectories(tmp.resolve(name + "-f16"));
        Files.copy(g.dir.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(g.dir.resolve("model.safetensors"))) {
            for (String n : f.names()) w.add(n, DType.F16, f.tensor(n).toFloatArray(), 0, f.tensor(n).intShape());
        }
        w.write(dir.resolve("model.safetensors"));
        try (MambaLM f16 = MambaLM.load(dir, LoadOptions.COPIED); MambaLM f32 = MambaLM.load(g.dir, LoadOptions.COPIED)) {
            assertEquals(f32.weightBytes(), f16.weightBytes(), "F16 matrices are held as F32");
            float[] exp = g.expected("logits");
            double err = Golden.maxAbs(exp, 0, f16.logits(g.tokens), 0, exp.length);
            assertTrue(err > 0 && err < 5e-3, name + " f16 weights vs fp32 golden: " + err);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void bf16WeightsStayCloseAndModesAgree(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir, LoadOptions.BF16.withMapped(false))) {
            int L = g.tokens.length, V = lm.spec().vocab;
            try (MambaLM fp32 = MambaLM.load(g.dir, LoadOptions.COPIED)) {
                assertTrue(lm.weightBytes() < fp32.weightBytes(), "bf16 weights take fewer bytes");
            }
            float[] par = lm.logits(g.tokens);
            float[] exp = g.expected("logits");
            double scale = 0;
            for (float v : exp) scale = Math.max(scale, Math.abs(v));
            double err = Golden.maxAbs(exp, 0, par, 0, L * V);
            assertTrue(err <= REL_TOL_VS_FP32 * scale, name + " bf16 vs fp32 golden: " + err + " > "
                    + REL_TOL_VS_FP32 + " · " + scale);
            assertTrue(err > 0, "bf16 rounding should change something");
            InferenceState st = lm.newState(1);
            Workspace ws = lm.newWorkspace(1, 1);
            float[] rec = new float[L * V], row = new float[V];
            for (int t = 0; t < L; t++) {
                lm.step(new int[] {g.tokens[t]}, 1, st, ws, null, row);
                System.arraycopy(row, 0, rec, t * V, V);
            }
            Golden.assertClose(name + " bf16 recurrent vs parallel", par, 0, rec, 0, L * V, 1e-4);
        }
    }
}
