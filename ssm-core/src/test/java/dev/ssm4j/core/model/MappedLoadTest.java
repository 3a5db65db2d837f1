package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Loading a checkpoint memory-mapped (weights used in place) against copying it: the same
 * numbers bit for bit, for F32 and for BF16 checkpoints, in both execution modes; each of the
 * four ways decodes the golden fixtures; mapped matrices are not copied, are handed to the kernels
 * as plain native segments, and refuse to be read after close (no crash).
 */
class MappedLoadTest {
    @TempDir
    Path tmp;

    /** The golden F32 checkpoint, and the same model saved all-BF16 (save(dir, BF16)). */
    private Path bf16Copy(Golden g) throws IOException {
        Path dir = tmp.resolve(g.name + "-bf16");
        try (MambaLM lm = MambaLM.load(g.dir, LoadOptions.COPIED)) {
            lm.save(dir, DType.BF16);
        }
        return dir;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void mappedAndCopiedGiveIdenticalLogits(String name) throws IOException {
        Golden g = new Golden(name);
        Path bf16 = bf16Copy(g);
        try (MambaLM f32c = MambaLM.load(g.dir, LoadOptions.COPIED);
             MambaLM f32m = MambaLM.load(g.dir, LoadOptions.DEFAULT.withMapped(true));
             MambaLM bfc = MambaLM.load(bf16, LoadOptions.COPIED);
             MambaLM bfm = MambaLM.load(bf16, LoadOptions.DEFAULT.withMapped(true))) {
            assertArrayEquals(f32c.logits(g.tokens), f32m.logits(g.tokens), name + " F32 parallel");
            assertArrayEquals(recurrent(f32c, g.tokens), recurrent(f32m, g.tokens), name + " F32 recurrent");
            assertArrayEquals(bfc.logits(g.tokens), bfm.logits(g.tokens), name + " BF16 parallel");
            assertArrayEquals(recurrent(bfc, g.tokens), recurrent(bfm, g.tokens), name + " BF16 recurrent");
            assertEquals(f32c.weightBytes(), f32m.weightBytes());
            assertEquals(bfc.weightBytes(), bfm.weightBytes());
            assertTrue(bfm.weightBytes() < f32m.weightBytes(), "BF16 matrices stay BF16");
        }
    }

    /** Each loaded kind decodes the fixtures: F32 exactly as transformers, BF16 within its rounding. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void everyKindDecodesTheGoldenFixtures(String name) throws IOException {
        Golden g = new Golden(name);
        Path bf16 = bf16Copy(g);
        float[] exp = g.expected("logits_recurrent");
        double scale = 0;
        for (float v : exp) scale = Math.max(scale, Math.abs(v));
        for (boolean mapped : new boolean[] {false, true}) {
            LoadOptions o = LoadOptions.DEFAULT.withMapped(mapped);
            String how = mapped ? " mapped" : " copied";
            try (MambaLM lm = MambaLM.load(g.dir, o)) {
                Golden.assertClose(name + " F32" + how + " recurrent", exp, 0, recurrent(lm, g.tokens), 0, exp.length,
                        GoldenModesTest.TOL);
                assertArrayEquals(g.greedyOutput, GoldenModesTest.greedy(lm, g), name + " F32" + how + " greedy output");
            }
            try (MambaLM lm = MambaLM.load(bf16, o)) {
                double err = Golden.maxAbs(exp, 0, recurrent(lm, g.tokens), 0, exp.length);
                assertTrue(err > 0 && err <= Bf16Test.REL_TOL_VS_FP32 * scale, name + " BF16" + how
                        + " recurrent vs fp32 golden: " + err + " (scale " + scale + ")");
                assertArrayEquals(g.greedyOutput, GoldenModesTest.greedy(lm, g), name + " BF16" + how + " greedy output");
            }
        }
    }

    /** Mapped matrices live in the mapping as plain native segments; copies are float[] or off-heap. */
    @Test
    void mappedMatricesAreNativeViewsOfTheFileAndCopiesAreNot() throws IOException {
        Golden g = new Golden("mamba1");
        Path bf16 = bf16Copy(g);
        String[] names = {ParameterLayout.EMBEDDINGS, ParameterLayout.LM_HEAD,
                ParameterLayout.layerPrefix(1) + "mixer.in_proj.weight", ParameterLayout.layerPrefix(0) + "mixer.x_proj.weight"};
        try (MambaLM f32c = MambaLM.load(g.dir, LoadOptions.COPIED);
             MambaLM f32m = MambaLM.load(g.dir, LoadOptions.F32.withMapped(true));
             MambaLM bfc = MambaLM.load(bf16, LoadOptions.COPIED);
             MambaLM bfm = MambaLM.load(bf16, LoadOptions.DEFAULT.withMapped(true));
             MambaLM converted = MambaLM.load(g.dir, LoadOptions.BF16.withMapped(true))) {
            for (String n : names) {
                assertNull(((Linear) f32c.tensor(n)).segment(), n + ": copied F32 is a float[]");
                for (MambaLM m : new MambaLM[] {f32m, bfc, bfm, converted}) {
                    MemorySegment s = ((Linear) m.tensor(n)).segment();
                    assertNotNull(s, n);
                    assertTrue(s.isNative(), n + ": off-heap");
                    assertFalse(s.isMapped(), n + ": a plain native segment, not the mapped segment class");
                }
                assertTrue(((Linear) bfm.tensor(n)).segment().isReadOnly(), n + ": the view keeps the mapping read-only");
            }
            // A matrix that must change type on load is converted, even when mapping is asked for.
            assertArrayEquals(MambaLM.load(g.dir, LoadOptions.BF16.withMapped(false)).logits(g.tokens), converted.logits(g.tokens));
        }
    }

    /** Zero-copy: a mapped load allocates a small fraction of the matrices' bytes, a copied one all of them. */
    @Test
    void mappedLoadDoesNotCopyTheMatrices() throws IOException {
        // A model whose embedding (16384 × 64 F32 = 4 MiB) dwarfs the rest of what loading allocates
        // (config and header parsing, the small tensors, and — until the JIT has compiled it —
        // boxed vectors of A = −exp(A_log)); loads are repeated first so the JIT state settles.
        ModelSpec spec = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(16384).hidden(64).layers(1).dInner(128).dState(4)
                .dtRank(4).convWidth(4).tieEmbeddings(true).build();
        float[] p = new float[new ParameterLayout(spec).flatSize()];
        for (int i = 0; i < p.length; i++) p[i] = (float) Math.sin(i * 0.37) * 0.05f;
        Path dir = tmp.resolve("zero-copy");
        MambaLM.fromFlat(spec, p).save(dir);
        long matrices = 4L * (16384 * 64 + 256 * 64 + 12 * 128 + 64 * 128);
        for (int i = 0; i < 3; i++) {
            MambaLM.load(dir, LoadOptions.DEFAULT.withMapped(true)).close();
            MambaLM.load(dir, LoadOptions.COPIED).close();
        }
        long mapped = allocatedDuring(() -> MambaLM.load(dir, LoadOptions.DEFAULT.withMapped(true)));
        long copied = allocatedDuring(() -> MambaLM.load(dir, LoadOptions.COPIED));
        assertTrue(copied >= matrices, "copied load allocated " + copied + " bytes, matrices are " + matrices);
        assertTrue(mapped < matrices / 4, "mapped load allocated " + mapped + " bytes, matrices are " + matrices);
    }

    /** The view keeps the mapping's lifetime: a closed mapped model refuses to run instead of crashing. */
    @Test
    void aClosedMappedModelThrowsInsteadOfReadingUnmappedMemory() throws IOException {
        Golden g = new Golden("mamba2_tied");
        MambaLM lm = MambaLM.load(g.dir, LoadOptions.DEFAULT.withMapped(true));
        lm.logits(g.tokens);
        lm.close();
        assertThrows(IllegalStateException.class, () -> lm.logits(g.tokens));
    }

    private interface Load {
        MambaLM run() throws IOException;
    }

    private static long allocatedDuring(Load load) throws IOException {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long a0 = mx.getCurrentThreadAllocatedBytes();
        MambaLM lm = load.run();
        long a1 = mx.getCurrentThreadAllocatedBytes();
        lm.close();
        return a1 - a0;
    }

    /** Logits (l, V) of one sequence fed token by token through step. */
    static float[] recurrent(MambaLM lm, int[] tokens) {
        int L = tokens.length, V = lm.spec().vocab;
        float[] out = new float[L * V], row = new float[V];
        InferenceState st = lm.newState(1);
        Workspace ws = lm.newWorkspace(1, 1);
        for (int t = 0; t < L; t++) {
            lm.step(new int[] {tokens[t]}, 1, st, ws, null, row);
            System.arraycopy(row, 0, out, t * V, V);
        }
        return out;
    }
}
