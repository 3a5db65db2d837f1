package dev.ssm4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.core.tokenizer.ByteTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    static Path golden(String name) throws Exception {
        return Path.of(GeneratorTest.class.getResource("/golden/" + name).toURI());
    }

    static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = ((Number) l.get(i)).intValue();
        return a;
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2"})
    void greedyReproducesGolden(String name) throws Exception {
        Map<String, Object> g = (Map<String, Object>) Json.parse(golden(name).resolve("golden.json"));
        int[] prompt = ints(g.get("greedy_prompt")), full = ints(g.get("greedy_output"));
        int n = ((Number) g.get("greedy_new_tokens")).intValue();
        try (MambaLM lm = MambaLM.load(golden(name))) {
            GenerationResult res = new Generator(lm).generate(new int[][] {prompt}, new GenerateOptions().maxNewTokens(n));
            assertArrayEquals(Arrays.copyOfRange(full, prompt.length, full.length), res.tokens()[0], name);
            assertEquals(StopReason.MAX_TOKENS, res.reasons()[0]);
            assertEquals(prompt.length, res.promptTokens());
            assertEquals(n - 1, res.decodeTokens());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba2"})
    void batchOfDifferentLengthsMatchesRowsAlone(String name) throws Exception {
        try (MambaLM lm = MambaLM.load(golden(name))) {
            Generator gen = new Generator(lm);
            int[][] prompts = {{5, 17, 3}, {22, 70, 92, 77, 35, 87, 75, 87, 35, 59}, {1}, {40, 41, 42, 43, 44, 45}};
            // chunk 4 also exercises chunked prefill of the longer prompts
            GenerationResult batch = gen.generate(prompts, new GenerateOptions().maxNewTokens(9).prefillChunk(4)
                    .stopSequencesPerRow(new int[][][] {null, null, {{-7}}}));
            for (int r = 0; r < prompts.length; r++) {
                GenerationResult alone = gen.generate(new int[][] {prompts[r]}, new GenerateOptions().maxNewTokens(9));
                assertArrayEquals(alone.tokens()[0], batch.tokens()[r], name + " row " + r);
            }
        }
    }

    @Test
    void stopTokensPerRowAndLimit() throws Exception {
        try (MambaLM lm = MambaLM.load(golden("mamba1"))) {
            Generator gen = new Generator(lm);
            int[][] prompts = {{22, 70, 92}, {5, 6, 7, 8}};
            int[][] free = gen.generate(prompts, new GenerateOptions().maxNewTokens(10)).tokens();
            assertEquals(10, free[0].length);
            // stop row 0 at its 3rd token (first occurrence), row 1 runs to the limit
            int stop = free[0][2];
            int first = 0;
            while (free[0][first] != stop) first++;
            GenerationResult res = gen.generate(prompts, new GenerateOptions().maxNewTokens(10)
                    .stopSequencesPerRow(new int[][][] {{{stop}}}));
            assertArrayEquals(Arrays.copyOf(free[0], first + 1), res.tokens()[0]);
            assertEquals(StopReason.STOP_SEQUENCE, res.reasons()[0]);
            assertArrayEquals(free[1], res.tokens()[1]);
            assertEquals(StopReason.MAX_TOKENS, res.reasons()[1]);
            // a two-token stop sequence for all rows
            int[] seq = {free[1][3], free[1][4]};
            GenerationResult s2 = gen.generate(prompts, new GenerateOptions().maxNewTokens(10).stopSequences(seq));
            int[] r1 = s2.tokens()[1];
            assertEquals(StopReason.STOP_SEQUENCE, s2.reasons()[1]);
            assertTrue(r1.length <= 5 && r1[r1.length - 2] == seq[0] && r1[r1.length - 1] == seq[1]);
            // the limit
            GenerationResult lim = gen.generate(prompts, new GenerateOptions().maxNewTokens(1));
            assertEquals(1, lim.tokens()[0].length);
            assertEquals(1, lim.tokens()[1].length);
            assertEquals(0, lim.decodeTokens());
            assertArrayEquals(new StopReason[] {StopReason.MAX_TOKENS, StopReason.MAX_TOKENS}, lim.reasons());
        }
    }

    @Test
    void seededSamplingIsReproducible() throws Exception {
        try (MambaLM lm = MambaLM.load(golden("mamba2"))) {
            Generator gen = new Generator(lm);
            int[][] prompts = {{3, 4, 5}, {9, 8}};
            GenerateOptions a = new GenerateOptions().maxNewTokens(30)
                    .sampling(new SamplingConfig(1.3f, 40, 0.95f, 0.01f, 1.2f, 42));
            int[][] x = gen.generate(prompts, a).tokens(), y = gen.generate(prompts, a).tokens();
            assertArrayEquals(x[0], y[0]);
            assertArrayEquals(x[1], y[1]);
            int[][] z = gen.generate(prompts, new GenerateOptions().maxNewTokens(30)
                    .sampling(new SamplingConfig(1.3f, 40, 0.95f, 0.01f, 1.2f, 43))).tokens();
            assertFalse(Arrays.equals(x[0], z[0]) && Arrays.equals(x[1], z[1]), "another seed, other tokens");
        }
    }

    @Test
    void stateResumeContinuesTheSequence() throws Exception {
        try (MambaLM lm = MambaLM.load(golden("mamba1"))) {
            Generator gen = new Generator(lm);
            int[] a = {22, 70, 92, 77}, b = {35, 87};
            InferenceState st = lm.newState(1);
            int[] g1 = gen.generate(new int[][] {a}, st, new GenerateOptions().maxNewTokens(5).feedLastToken(true))
                    .tokens()[0];
            assertEquals(a.length + 5, st.position(0));
            int[] g2 = gen.generate(new int[][] {b}, st, new GenerateOptions().maxNewTokens(6)).tokens()[0];
            int[] all = new int[a.length + g1.length + b.length];
            System.arraycopy(a, 0, all, 0, a.length);
            System.arraycopy(g1, 0, all, a.length, g1.length);
            System.arraycopy(b, 0, all, a.length + g1.length, b.length);
            int[] ref = gen.generate(new int[][] {all}, new GenerateOptions().maxNewTokens(6)).tokens()[0];
            assertArrayEquals(ref, g2);
        }
    }

    @Test
    void streamedTextEqualsDecodedText() {
        ModelSpec spec = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(256).hidden(16).layers(2).dInner(32)
                .dState(4).convWidth(4).dtRank(2).build();
        float[] p = new float[new ParameterLayout(spec).flatSize()];
        Random rnd = new Random(3);
        for (int i = 0; i < p.length; i++) p[i] = (rnd.nextFloat() - 0.5f) * 0.6f;
        MambaLM lm = MambaLM.fromFlat(spec, p);
        ByteTokenizer tok = new ByteTokenizer();
        int[] prompt = tok.encode("héllo € 😀 ");
        for (long seed = 0; seed < 2; seed++) {
            StringBuilder[] sb = {new StringBuilder(), new StringBuilder()};
            List<Integer> seen = new ArrayList<>();
            TokenListener l = new TokenListener() {
                @Override
                public void onToken(int row, int token, String text) {
                    sb[row].append(text);
                    if (row == 0) seen.add(token);
                }

                @Override
                public void onFinish(int row, StopReason reason, String rest) {
                    sb[row].append(rest);
                }
            };
            GenerationResult res = new Generator(lm).generate(new int[][] {prompt, {0xC3}}, new GenerateOptions()
                    .maxNewTokens(80).sampling(new SamplingConfig(1.5f, 0, 1f, 0f, 1f, seed)).tokenizer(tok).listener(l));
            for (int r = 0; r < 2; r++) assertEquals(tok.decode(res.tokens()[r]), sb[r].toString(), "seed " + seed + " row " + r);
            assertEquals(seen, Arrays.stream(res.tokens()[0]).boxed().toList());
        }
    }

    @Test
    void textStreamHoldsSplitCharacters() {
        ByteTokenizer tok = new ByteTokenizer();
        String s = "aé€😀b";
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        TextStream ts = new TextStream(tok);
        StringBuilder sb = new StringBuilder();
        List<String> pieces = new ArrayList<>();
        for (byte x : bytes) {
            String piece = ts.push(x & 0xff);
            assertFalse(piece.contains("\uFFFD"), "piece " + piece);
            pieces.add(piece);
            sb.append(piece);
        }
        assertEquals("", ts.flush());
        assertEquals(s, sb.toString());
        assertEquals(List.of("a", "", "é", "", "", "€", "", "", "", "😀", "b"), pieces);
        // an incomplete tail is handed out by flush
        ts.push(0xE2);
        assertEquals("\uFFFD", ts.flush());
    }

    @Test
    void badInput() throws Exception {
        try (MambaLM lm = MambaLM.load(golden("mamba1"))) {
            Generator gen = new Generator(lm);
            assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[][] {{}}, null));
            assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[][] {{1, 101}}, null));
            assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[0][], null));
            assertThrows(IllegalArgumentException.class,
                    () -> gen.generate(new int[][] {{1}, {2}}, lm.newState(1), new GenerateOptions()));
            assertThrows(IllegalArgumentException.class, () -> new GenerateOptions().maxNewTokens(0));
            assertThrows(IllegalArgumentException.class, () -> new GenerateOptions().stopSequences(new int[0]));
        }
    }
}
