package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.TrainModel;
import dev.ssm4j.train.testing.Goldens;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model gradients against transformers' autograd (tools/golden/make_model_goldens.py): the
 * mean next-token cross-entropy of adamw.json's train_tokens (labels = inputs, shifted inside the
 * model) and the gradient of every parameter, by HF name.
 */
class GoldenGradsTest {
    /** The golden batch: targets[t] = inputs[t + 1] within a row, the last position has none. */
    static Batch goldenBatch(String name) {
        int[][] rows = Goldens.trainTokens(name);
        int b = rows.length, s = rows[0].length;
        int[] in = new int[b * s], tg = new int[b * s];
        for (int r = 0; r < b; r++) {
            for (int t = 0; t < s; t++) {
                in[r * s + t] = rows[r][t];
                tg[r * s + t] = t + 1 < s ? rows[r][t + 1] : Batch.IGNORE;
            }
        }
        return new Batch(b, s, in, tg);
    }

    /** Asserts every gradient of the model equals the golden one (by HF name) within atol + rtol·|g|. */
    static void assertGoldenGrads(String name, TrainModel m, double loss, double atol, double rtol) {
        assertGoldenGrads(name, name, m, loss, atol, rtol);
    }

    /** As above; {@code what} labels failures. */
    static void assertGoldenGrads(String name, String what, TrainModel m, double loss, double atol, double rtol) {
        Map<String, float[]> gold = Goldens.grads(name);
        assertEquals(gold.get("loss")[0], loss, 2e-5 * Math.max(1, Math.abs(loss)), what + ": loss");
        int checked = 0;
        for (ParameterLayout.Entry e : new ParameterLayout(m.spec()).entries()) {
            float[] want = gold.get("grad." + e.name());
            assertTrue(want != null, what + ": golden has no grad." + e.name());
            float[] got = m.store().copyGrad(e.name());
            assertEquals(want.length, got.length, e.name());
            double scale = 0;
            for (float v : want) scale = Math.max(scale, Math.abs(v));
            for (int k = 0; k < want.length; k++) {
                double err = Math.abs((double) got[k] - want[k]);
                double tol = atol + rtol * Math.max(Math.abs(want[k]), scale * 1e-2);
                if (!(err <= tol)) {
                    throw new AssertionError(what + ": grad." + e.name() + "[" + k + "] = " + got[k] + ", transformers "
                            + want[k] + " (|err| " + err + " > " + tol + ", max |g| of the tensor " + scale + ")");
                }
            }
            checked++;
        }
        assertEquals(gold.size() - 1, checked, what + ": every golden gradient is a parameter of the layout");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void gradientsMatchTransformers(String name) throws Exception {
        TrainModel m = TrainModel.load(Goldens.modelDir(name));
        Batch batch = goldenBatch(name);
        Backprop bp = new Backprop(m, batch.b(), batch.s(), Backprop.Options.threads(1));
        Backprop.Result r = bp.lossAndGrad(batch);
        assertGoldenGrads(name, m, r.loss(), 1e-6, 5e-4);
    }
}
