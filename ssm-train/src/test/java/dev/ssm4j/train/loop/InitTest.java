package dev.ssm4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.ModelSpec;
import org.junit.jupiter.api.Test;

/** Mamba's initialisation rules, per tensor, and seeding. */
class InitTest {
    private static final ModelSpec M1 = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(50).hidden(32).layers(2)
            .dInner(64).dState(8).dtRank(2).useBias(true).tieEmbeddings(false).build();
    private static final ModelSpec M2 = ModelSpec.builder(ModelSpec.Kind.MAMBA2).vocab(50).hidden(32).layers(2)
            .dInner(64).dState(8).heads(4).headDim(16).groups(2).build();

    private static double std(float[] a) {
        double s = 0, s2 = 0;
        for (float v : a) {
            s += v;
            s2 += (double) v * v;
        }
        double m = s / a.length;
        return Math.sqrt(s2 / a.length - m * m);
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    @Test
    void mamba1TensorsFollowTheRules() {
        TrainModel m = TrainModel.initialised(M1, Init.defaults(), 3);
        String l = "backbone.layers.1.mixer.";
        assertEquals(0.02, std(m.store().copyData("backbone.embeddings.weight")), 0.002);
        float[] aLog = m.store().copyData(l + "A_log");
        for (int c = 0; c < 64; c++) {
            for (int s = 0; s < 8; s++) assertEquals((float) Math.log(s + 1), aLog[c * 8 + s], "A_log S4D-real");
        }
        for (float v : m.store().copyData(l + "D")) assertEquals(1f, v);
        for (float v : m.store().copyData("backbone.layers.0.norm.weight")) assertEquals(1f, v);
        for (float v : m.store().copyData(l + "conv1d.bias")) assertEquals(0f, v);
        for (float v : m.store().copyData(l + "in_proj.bias")) assertEquals(0f, v);
        for (float v : m.store().copyData(l + "dt_proj.bias")) {
            double dt = softplus(v);
            assertTrue(dt >= 0.001 * 0.999 && dt <= 0.1 * 1.001, "softplus(dt bias) = " + dt + " in [dt_min, dt_max]");
        }
        assertTrue(maxAbs(m.store().copyData(l + "conv1d.weight")) <= 1 / Math.sqrt(4));
        assertTrue(maxAbs(m.store().copyData(l + "dt_proj.weight")) <= 1 / Math.sqrt(2));
        assertTrue(maxAbs(m.store().copyData(l + "out_proj.weight")) <= 1 / Math.sqrt(64));
        assertTrue(maxAbs(m.store().copyData(l + "in_proj.weight")) <= 1 / Math.sqrt(32));
        assertEquals(1 / Math.sqrt(32) / Math.sqrt(3), std(m.store().copyData(l + "in_proj.weight")), 0.01);
        TrainModel r = TrainModel.initialised(M1, Init.defaults().withRescale(true), 3);
        assertTrue(maxAbs(r.store().copyData(l + "out_proj.weight")) <= 1 / Math.sqrt(64) / Math.sqrt(2));
        TrainModel t = TrainModel.initialised(M1, Init.transformers(), 3);
        assertEquals(0.1, std(t.store().copyData(l + "in_proj.weight")), 0.01);
    }

    @Test
    void mamba2TensorsAndSeeding() {
        TrainModel m = TrainModel.initialised(M2, Init.defaults(), 5);
        String l = "backbone.layers.0.mixer.";
        assertArrayEquals(new float[] {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)},
                m.store().copyData(l + "A_log"));
        for (float v : m.store().copyData(l + "norm.weight")) assertEquals(1f, v);
        for (float v : m.store().copyData(l + "dt_bias")) assertTrue(softplus(v) >= 0.000999 && softplus(v) <= 0.1001);
        assertArrayEquals(m.params(), TrainModel.initialised(M2, Init.defaults(), 5).params(), "same seed, same model");
        float[] other = TrainModel.initialised(M2, Init.defaults(), 6).params();
        int diff = 0;
        for (int k = 0; k < other.length; k++) if (other[k] != m.params()[k]) diff++;
        assertTrue(diff > other.length / 2, "another seed draws other weights");
    }
}
