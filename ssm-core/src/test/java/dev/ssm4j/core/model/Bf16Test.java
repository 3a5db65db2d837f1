package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BF16 weight matrices (LoadOptions.BF16): the golden models' matrices rounded to bfloat16 (8
 * significant bits, relative rounding error ≤ 2⁻⁹ ≈ 0.2%), activations and accumulation in fp32.
 * Tolerance: max |error| ≤ 2% of the largest |logit| of the fp32 golden (logits here reach 1.6–2.6;
 * the observed errors are 0.3–0.8% of it: a few bf16 rounding steps accumulated through two layers).
 * Parallel and recurrent modes still agree to 1e-4 with each other (same weights).
 */
class Bf16Test {
    static final double REL_TOL_VS_FP32 = 0.02;

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void bf16WeightsStayCloseAndModesAgree(String name) throws IOException {
        Golden g = new Golden(name);
        try (MambaLM lm = MambaLM.load(g.dir, LoadOptions.BF16)) {
            int L = g.tokens.length, V = lm.spec().vocab;
            try (MambaLM fp32 = MambaLM.load(g.dir)) {
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
