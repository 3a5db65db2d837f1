package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ssm4j.core.model.ForwardOptions.Logits;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The training hook records consistent intermediates and does not change the results; the
 * model also runs on a flat parameter array (the trainer's layout) with identical numbers, and
 * Logits.LAST equals the last rows of Logits.ALL.
 */
class ActivationStoreTest {
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2"})
    void recordsConsistentIntermediates(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            checkStore(lm, g.tokens);
        }
    }

    /** Mamba-1's saved scan states: entry k of a row is the SSM state just before token 32·k. */
    @org.junit.jupiter.api.Test
    void scanCheckpointsAreTheStatesEvery32Tokens() throws IOException {
        Golden g = new Golden("mamba1");
        try (MambaLM lm = MambaLM.load(g.dir)) {
            ModelSpec s = lm.spec();
            int l = 40, ss = s.ssmStateSize;
            int[] toks = new int[2 * l];
            for (int t = 0; t < toks.length; t++) toks[t] = g.tokens[(t * 7) % g.tokens.length];
            InferenceState start = lm.newState(2);
            Workspace ws = lm.newWorkspace(2, l);
            lm.forward(Arrays.copyOf(toks, 6), 2, 3, start, ws, new ForwardOptions().logits(Logits.NONE), null);
            ActivationStore as = ActivationStore.allocate(s, 2, l);
            lm.forward(toks, 2, l, start.copy(), ws, new ForwardOptions().logits(Logits.NONE).activations(as), null);
            for (int r = 0; r < 2; r++) {
                InferenceState st = lm.newState(1);
                start.copyRow(r, st, 0);
                // rows hold ceil(40/32) = 2 checkpoints each: (b, 2, d, n)
                for (int i = 0; i < s.layers; i++) {
                    float[] cp = as.layer(i).scanCheckpoints;
                    assertArrayEquals(Arrays.copyOfRange(st.ssm(i), 0, ss), Arrays.copyOfRange(cp, (r * 2) * ss,
                            (r * 2 + 1) * ss), "checkpoint 0 = initial state, row " + r + " layer " + i);
                }
                lm.forward(Arrays.copyOfRange(toks, r * l, r * l + 32), 1, 32, st, ws,
                        new ForwardOptions().logits(Logits.NONE), null);
                for (int i = 0; i < s.layers; i++) {
                    float[] cp = as.layer(i).scanCheckpoints;
                    Golden.assertClose("checkpoint 1, row " + r + " layer " + i, st.ssm(i), 0, cp,
                            (r * 2 + 1) * ss, ss, 1e-5);
                }
            }
        }
    }

    /** Mamba-2 with mamba_ssm's per-group gated norm (group = d / n_groups) on flat parameters. */
    @org.junit.jupiter.api.Test
    void perGroupGatedNorm() throws IOException {
        Golden g = new Golden("mamba2");
        try (MambaLM lm = MambaLM.load(g.dir)) {
            ModelSpec s = lm.spec();
            ModelSpec grouped = ModelSpec.builder(ModelSpec.Kind.MAMBA2).vocab(s.vocab).hidden(s.hidden).layers(s.layers)
                    .dInner(s.dInner).dState(s.dState).convWidth(s.convWidth).heads(s.heads).headDim(s.headDim)
                    .groups(s.groups).chunkSize(s.chunkSize).useBias(s.useBias).useConvBias(s.useConvBias)
                    .tieEmbeddings(s.tieEmbeddings).eps(s.eps).normGroupSize(s.dInner / s.groups).build();
            float[] flat = new float[lm.layout().flatSize()];
            for (ParameterLayout.Entry e : lm.layout().entries()) {
                System.arraycopy(lm.parameter(e.name()), 0, flat, (int) e.offset(), (int) e.size());
            }
            MambaLM m = MambaLM.fromFlat(grouped, flat);
            checkStore(m, g.tokens);
            float[] a = lm.logits(g.tokens), b = m.logits(g.tokens);
            org.junit.jupiter.api.Assertions.assertTrue(Golden.maxAbs(a, 0, b, 0, a.length) > 1e-3,
                    "per-group and whole-width gated norms differ");
        }
    }

    private static void checkStore(MambaLM lm, int[] tokens) {
        ModelSpec s = lm.spec();
        int b = 2, l = 7, T = b * l, H = s.hidden, V = s.vocab, d = s.dInner;
        int[] toks = Arrays.copyOf(tokens, T);
        InferenceState st = lm.newState(b);
        Workspace ws = lm.newWorkspace(b, l);
        lm.forward(Arrays.copyOfRange(tokens, 14, 14 + 2 * 3), b, 3, st, ws, null, new float[6 * V]);
        InferenceState st2 = st.copy();

        float[] plain = new float[T * V], rec = new float[T * V];
        float[][] hidden = new float[s.layers + 1][T * H];
        lm.forward(toks, b, l, st, ws, new ForwardOptions().hidden(hidden), plain);
        ActivationStore as = ActivationStore.allocate(s, 3, 8);
        lm.forward(toks, b, l, st2, ws, new ForwardOptions().activations(as), rec);
        assertArrayEquals(plain, rec, "recording must not change the logits");
        assertEquals(b, as.batch());
        assertEquals(l, as.length());
        for (int i = 0; i < s.layers; i++) {
            assertArrayEquals(st.ssm(i), st2.ssm(i));
            float[] next = i + 1 < s.layers ? as.layer(i + 1).input : as.finalInput;
            assertArrayEquals(Arrays.copyOf(hidden[i], T * H), Arrays.copyOf(next, T * H), "layer output " + i);
        }
        assertArrayEquals(Arrays.copyOf(hidden[s.layers], T * H), Arrays.copyOf(as.finalNormed, T * H));

        ActivationStore.Layer L0 = as.layer(0);
        String p = ParameterLayout.layerPrefix(0) + "mixer.";
        float[] normW = lm.parameter(ParameterLayout.layerPrefix(0) + "norm.weight");
        float[] inW = lm.parameter(p + "in_proj.weight"), inB = lm.parameter(p + "in_proj.bias");
        for (int t = 0; t < T; t++) {
            double ss = 0;
            for (int k = 0; k < H; k++) ss += (double) L0.input[t * H + k] * L0.input[t * H + k];
            assertEquals(1 / Math.sqrt(ss / H + s.eps), L0.rstd[t], 1e-4 * L0.rstd[t], "rstd " + t);
            for (int k = 0; k < H; k += 7) {
                assertEquals(normW[k] * L0.input[t * H + k] * L0.rstd[t], L0.normed[t * H + k], 1e-5);
            }
            for (int o = 0; o < s.inProjDim; o += 5) {
                double acc = inB[o];
                for (int k = 0; k < H; k++) acc += (double) L0.normed[t * H + k] * inW[o * H + k];
                assertEquals(acc, L0.proj[t * s.inProjDim + o], 1e-4, "in_proj " + t + "," + o);
            }
        }
        // The states the chunk started from.
        InferenceState before = lm.newState(b);
        lm.forward(Arrays.copyOfRange(tokens, 14, 14 + 2 * 3), b, 3, before, ws, null, new float[6 * V]);
        assertArrayEquals(Arrays.copyOf(before.ssm(1), b * s.ssmStateSize),
                Arrays.copyOf(as.layer(1).ssmState0, b * s.ssmStateSize));
        assertArrayEquals(Arrays.copyOf(before.conv(1), b * s.convStateSize),
                Arrays.copyOf(as.layer(1).convState0, b * s.convStateSize));
        if (s.kind == ModelSpec.Kind.MAMBA1) {
            assertNull(L0.gatedOut);
            int X = s.xProjDim, R = s.dtRank;
            float[] dtW = lm.parameter(p + "dt_proj.weight");
            for (int t = 0; t < T; t++) {
                for (int c = 0; c < d; c += 3) {
                    double acc = 0;
                    for (int r = 0; r < R; r++) acc += (double) L0.xdbl[t * X + r] * dtW[c * R + r];
                    assertEquals(acc, L0.dt[t * d + c], 1e-4);
                }
            }
        } else {
            assertNull(L0.xdbl);
            float[] gw = lm.parameter(p + "norm.weight");
            int P = s.inProjDim;
            for (int t = 0; t < T; t++) {
                for (int c = 0; c < d; c += 4) {
                    float z = L0.proj[t * P + c];
                    double gated = L0.y[t * d + c] * z / (1 + Math.exp(-z));
                    int grp = c / s.normGroupSize;
                    assertEquals(gw[c] * gated * L0.gatedRstd[t * (d / s.normGroupSize) + grp],
                            L0.gatedOut[t * d + c], 1e-4);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1_tied", "mamba2"})
    void flatParametersGiveTheSameNumbers(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            ParameterLayout layout = lm.layout();
            float[] flat = new float[layout.flatSize()];
            for (ParameterLayout.Entry e : layout.entries()) {
                float[] v = lm.parameter(e.name());
                System.arraycopy(v, 0, flat, (int) e.offset(), v.length);
            }
            MambaLM viewed = MambaLM.fromFlat(lm.spec(), flat);
            int L = g.tokens.length, V = lm.spec().vocab;
            float[] a = lm.logits(g.tokens), b = viewed.logits(g.tokens);
            // Same numbers up to float rounding (mapped-segment and float[] GEMM paths may sum differently).
            Golden.assertClose(name + " flat vs mapped", a, 0, b, 0, L * V, 1e-5);
            MambaLM frozen = viewed.copy(LoadOptions.Matrices.F32);
            // Views: a change to the flat array is seen by the next call; a copy does not see it.
            ParameterLayout.Entry nf = layout.get(ParameterLayout.NORM_F);
            for (int k = 0; k < nf.size(); k++) flat[(int) nf.offset() + k] *= 2f;
            float[] c = viewed.logits(g.tokens);
            assertEquals(2.0, c[0] / a[0], 1e-3);
            assertArrayEquals(b, frozen.logits(g.tokens), "copy(F32) is independent of the flat array");
            // LAST = last row of ALL (up to rounding: one row takes the GEMM's decode path).
            float[] last = new float[V];
            viewed.forward(g.tokens, 1, L, null, viewed.newWorkspace(1, L),
                    new ForwardOptions().logits(Logits.LAST), last);
            Golden.assertClose("LAST vs ALL", c, (L - 1) * V, last, 0, V, 1e-5);
        }
    }
}
