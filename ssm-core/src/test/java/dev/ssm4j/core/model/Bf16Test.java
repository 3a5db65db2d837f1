package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BF16 weight matrices (LoadOptions.BF16): the golden models' matrices rounded to bfloat16 (8
 * significant bits, relative rounding error ≤ 2⁻⁹ ≈ 0.2%), activations and accumulation in fp32.
 * Tolerance: max |error| ≤ 2e-2 on logits whose magnitude is ~1, i.e. a few bf16 rounding steps
 * accumulated over the two layers — and parallel and recurrent modes still agree to 1e-4 with each
 * other (same weights). Greedy decoding is compared only where fp32 has a clear margin.
 */
class Bf16Test {
    static final double TOL_VS_FP32 = 2e-2;

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
            double err = Golden.maxAbs(g.expected("logits"), 0, par, 0, L * V);
            assertTrue(err <= TOL_VS_FP32, name + " bf16 vs fp32 golden: " + err);
            System.out.println(name + " bf16 max err " + err);
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
