package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parallel forward against transformers: logits and every hidden state. */
class GoldenForwardTest {
    static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void parallelLogitsAndHiddenStates(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir)) {
            ModelSpec s = lm.spec();
            int L = g.tokens.length, V = s.vocab, H = s.hidden;
            float[][] hidden = new float[s.layers + 1][L * H];
            float[] logits = new float[L * V];
            lm.forward(g.tokens, 1, L, null, lm.newWorkspace(1, L), new ForwardOptions().hidden(hidden), logits);
            Golden.assertClose(name + " logits", g.expected("logits"), 0, logits, 0, L * V, TOL);
            for (int i = 0; i <= s.layers; i++) {
                assertEquals(L * H, g.expected("hidden." + i).length);
                Golden.assertClose(name + " hidden." + i, g.expected("hidden." + i), 0, hidden[i], 0, L * H, TOL);
            }
        }
    }
}
