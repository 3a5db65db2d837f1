package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssm4j.core.model.ForwardOptions.Logits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The execution modes against transformers and against each other: token-by-token recurrence,
 * prefill then decode, chunked continuation, padded batch with a mask, greedy decoding, rows at
 * different positions, state fork / save / load.
 */
class GoldenModesTest {
    static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void recurrentTokenByToken(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int L = g.tokens.length, V = lm.spec().vocab;
            float[] got = new float[L * V], row = new float[V];
            InferenceState st = lm.newState(1);
            Workspace ws = lm.newWorkspace(1, 1);
            ForwardOptions o = new ForwardOptions();
            for (int t = 0; t < L; t++) {
                lm.step(new int[] {g.tokens[t]}, 1, st, ws, o, row);
                System.arraycopy(row, 0, got, t * V, V);
            }
            assertEquals(L, st.position(0));
            Golden.assertClose(name + " recurrent", g.expected("logits_recurrent"), 0, got, 0, L * V, TOL);
            Golden.assertClose(name + " recurrent vs parallel", g.expected("logits"), 0, got, 0, L * V, TOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void prefillThenDecode(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int L = g.tokens.length, V = lm.spec().vocab, P = g.prefill;
            float[] got = new float[L * V];
            InferenceState st = lm.newState(1);
            Workspace ws = lm.newWorkspace(1, L);
            lm.forward(Arrays.copyOf(g.tokens, P), 1, P, st, ws, new ForwardOptions(), got);
            float[] row = new float[V];
            for (int t = P; t < L; t++) {
                lm.step(new int[] {g.tokens[t]}, 1, st, ws, null, row);
                System.arraycopy(row, 0, got, t * V, V);
            }
            Golden.assertClose(name + " prefill+decode", g.expected("logits_prefill_decode"), 0, got, 0, L * V, TOL);
        }
    }

    /** Continuing a multi-token chunk from a state equals one pass over the whole sequence. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void chunkedContinuation(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int L = g.tokens.length, V = lm.spec().vocab;
            for (int[] cuts : new int[][] {{0, 9, L}, {0, 1, 2, 4, 11, L}, {0, 20, 22, L}}) {
                float[] got = new float[L * V];
                InferenceState st = lm.newState(1);
                Workspace ws = lm.newWorkspace(1, L);
                for (int k = 0; k + 1 < cuts.length; k++) {
                    int a = cuts[k], n = cuts[k + 1] - a;
                    float[] part = new float[n * V];
                    lm.forward(Arrays.copyOfRange(g.tokens, a, a + n), 1, n, st, ws, null, part);
                    System.arraycopy(part, 0, got, a * V, n * V);
                }
                Golden.assertClose(name + " chunks " + Arrays.toString(cuts), g.expected("logits"), 0, got, 0, L * V,
                        TOL);
            }
        }
    }

    /** transformers' attention-mask semantics on a left-padded batch of two rows. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void paddedBatchWithMask(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int L = g.tokens.length, V = lm.spec().vocab, pad = L - g.batchRow1.length;
            int[] toks = new int[2 * L], mask = new int[2 * L];
            System.arraycopy(g.tokens, 0, toks, 0, L);
            Arrays.fill(mask, 0, L, 1);
            for (int t = 0; t < L; t++) {
                toks[L + t] = t < pad ? lm.spec().padTokenId : g.batchRow1[t - pad];
                mask[L + t] = t < pad ? 0 : 1;
            }
            float[] got = new float[2 * L * V];
            lm.forward(toks, 2, L, null, lm.newWorkspace(2, L), new ForwardOptions().mask(mask), got);
            float[] exp = g.expected("logits_batch");
            for (int t = 0; t < 2 * L; t++) {
                if (mask[t] == 1) Golden.assertClose(name + " batch token " + t, exp, t * V, got, t * V, V, TOL);
            }
        }
    }

    /** Greedy decoding (prefill with last-row logits, then argmax steps) reproduces transformers' generate. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void greedyContinuation(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            assertArrayEquals(g.greedyOutput, greedy(lm, g), name + " greedy output");
        }
    }

    /** The golden prompt prefilled, then g.greedyNew greedy tokens decoded step by step. */
    static int[] greedy(MambaLM lm, Golden g) {
        int V = lm.spec().vocab, P = g.greedyPrompt.length;
        InferenceState st = lm.newState(1);
        Workspace ws = lm.newWorkspace(1, P);
        ForwardOptions o = new ForwardOptions().logits(Logits.LAST);
        float[] logits = new float[V];
        int[] out = Arrays.copyOf(g.greedyPrompt, P + g.greedyNew);
        lm.forward(g.greedyPrompt, 1, P, st, ws, o, logits);
        int[] next = new int[1];
        for (int k = 0; k < g.greedyNew; k++) {
            next[0] = argmax(logits, 0, V);
            out[P + k] = next[0];
            if (k + 1 < g.greedyNew) lm.step(next, 1, st, ws, o, logits);
        }
        return out;
    }

    /**
     * Two rows at different positions in one batched state: row 1 is prefilled alone (stateRows),
     * row 0 with another prompt; then both decode together and each matches its own single-row run.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2"})
    void rowsAtDifferentPositions(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int V = lm.spec().vocab, L = g.tokens.length;
            int[] a = g.tokens, b = g.batchRow1;
            int pa = 12, pb = 5;
            // Reference: each row alone, all logits.
            float[] refA = lm.logits(a);
            int[] bb = Arrays.copyOf(b, pb + 4);
            System.arraycopy(a, 0, bb, pb, 4);  // row 1 continues with tokens of its own choosing
            float[] refB = lm.logits(bb);

            InferenceState st = lm.newState(3);                        // row 2 stays unused
            Workspace ws = lm.newWorkspace(2, L);
            ForwardOptions o = new ForwardOptions().logits(Logits.LAST);
            float[] last = new float[2 * V];
            lm.forward(Arrays.copyOf(b, pb), 1, pb, st, ws, o.stateRows(new int[] {1}), last);
            Golden.assertClose("row 1 prefill", refB, (pb - 1) * V, last, 0, V, TOL);
            lm.forward(Arrays.copyOf(a, pa), 1, pa, st, ws, o.stateRows(new int[] {0}), last);
            Golden.assertClose("row 0 prefill", refA, (pa - 1) * V, last, 0, V, TOL);
            assertEquals(pb, st.position(1));
            assertEquals(pa, st.position(0));
            assertEquals(0, st.position(2));
            // Decode both rows together, in the order (row 1, row 0) to exercise a non-contiguous mapping.
            o.stateRows(new int[] {1, 0});
            for (int k = 0; k < 4; k++) {
                lm.step(new int[] {bb[pb + k], a[pa + k]}, 2, st, ws, o, last);
                Golden.assertClose("row 1 step " + k, refB, (pb + k) * V, last, 0, V, TOL);
                Golden.assertClose("row 0 step " + k, refA, (pa + k) * V, last, V, V, TOL);
            }
            // Rows 0..1 contiguous in order as a parallel chunk of 2 tokens each.
            o.stateRows(null).logits(Logits.ALL);
            float[] two = new float[2 * 2 * V];
            lm.forward(new int[] {a[pa + 4], a[pa + 5], bb[pb], bb[pb + 1]}, 2, 2, st, ws, o, two);
            Golden.assertClose("row 0 chunk", refA, (pa + 4) * V, two, 0, 2 * V, TOL);
            assertEquals(pa + 6, st.position(0));
        }
    }

    /** Fork, save and load: continuing from a copy or a loaded state equals continuing the original. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2_tied"})
    void stateForkSaveLoad(String name, @TempDir Path tmp) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            int L = g.tokens.length, V = lm.spec().vocab, P = 9;
            Workspace ws = lm.newWorkspace(1, L);
            InferenceState st = lm.newState(1);
            lm.forward(Arrays.copyOf(g.tokens, P), 1, P, st, ws, new ForwardOptions().logits(Logits.NONE), null);
            InferenceState fork = st.copy();
            Path file = tmp.resolve("state.safetensors");
            st.save(file);
            InferenceState loaded = InferenceState.load(file, lm.spec());
            assertEquals(P, loaded.position(0));
            InferenceState wide = lm.newState(3);
            st.copyRow(0, wide, 2);

            int[] rest = Arrays.copyOfRange(g.tokens, P, L);
            float[] a = new float[(L - P) * V], b = new float[(L - P) * V], c = new float[(L - P) * V];
            float[] d = new float[(L - P) * V];
            lm.forward(rest, 1, L - P, st, ws, null, a);
            lm.forward(rest, 1, L - P, fork, ws, null, b);
            lm.forward(rest, 1, L - P, loaded, ws, null, c);
            lm.forward(rest, 1, L - P, wide, ws, new ForwardOptions().stateRows(new int[] {2}), d);
            Golden.assertClose("original vs golden", g.expected("logits"), P * V, a, 0, (L - P) * V, TOL);
            assertArrayEquals(a, b, "fork");
            assertArrayEquals(a, c, "loaded");
            assertArrayEquals(a, d, "copied row");
            for (int i = 0; i < lm.spec().layers; i++) {
                assertArrayEquals(st.ssm(i), fork.ssm(i));
                assertArrayEquals(st.conv(i), loaded.conv(i));
            }
            st.reset();
            assertEquals(0, st.position(0));
            lm.forward(g.tokens, 1, L, st, ws, null, new float[L * V]);
            wide.reset(2);
            assertEquals(0, wide.position(2));
        }
    }

    /**
     * One workspace shared by two models of the same spec (different weights), stepping in turn:
     * each gets exactly what it gets with a workspace of its own (the workspace caches kernel
     * bindings per layer; they must never carry one model's weights into the other's step).
     */
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2"})
    void workspaceSharedByTwoModels(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM a = MambaLM.load(g.dir)) {
            // b: other small tensors (A_log, D, Δ bias), a trainer-style flat model
            float[] flat = new float[a.layout().flatSize()];
            for (ParameterLayout.Entry e : a.layout().entries()) {
                float[] v = a.parameter(e.name());
                String n = e.name();
                float shift = n.endsWith("A_log") || n.endsWith(".D") || n.endsWith("dt_proj.bias") || n.endsWith("dt_bias")
                        ? 0.25f : 0f;
                for (int i = 0; i < v.length; i++) flat[(int) e.offset() + i] = v[i] + shift;
            }
            MambaLM b = MambaLM.fromFlat(a.spec(), flat);
            int L = g.tokens.length, V = a.spec().vocab;
            float[] refA = MappedLoadTest.recurrent(a, g.tokens), refB = MappedLoadTest.recurrent(b, g.tokens);
            Workspace ws = a.newWorkspace(1, 1);
            InferenceState sa = a.newState(1), sb = b.newState(1);
            float[] row = new float[V];
            for (int t = 0; t < L; t++) {
                a.step(new int[] {g.tokens[t]}, 1, sa, ws, null, row);
                assertArrayEquals(Arrays.copyOfRange(refA, t * V, (t + 1) * V), row, "model a, token " + t);
                b.step(new int[] {g.tokens[t]}, 1, sb, ws, null, row);
                assertArrayEquals(Arrays.copyOfRange(refB, t * V, (t + 1) * V), row, "model b, token " + t);
            }
        }
    }

    static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }
}
