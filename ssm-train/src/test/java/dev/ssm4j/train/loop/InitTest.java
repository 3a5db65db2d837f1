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

    @Test
    void dtRangeAndAScale() {
        Init init = Init.defaults().withDt(1e-9, 1e-7).withAScale(0.01);
        assertEquals(1e-9, init.dtFloor(), 0, "a range below the reference floor lowers the floor");
        assertEquals(1e-4, Init.defaults().withDt(0.01, 0.1).dtFloor(), 0, "a range above it keeps it");
        TrainModel m = TrainModel.initialised(M1, init, 3);
        String l = "backbone.layers.0.mixer.";
        double lo = Double.MAX_VALUE, hi = 0;
        for (float v : m.store().copyData(l + "dt_proj.bias")) {
            double dt = Math.exp(v);   // softplus(x) = e^x (1 + O(e^x)) this far below 0
            lo = Math.min(lo, dt);
            hi = Math.max(hi, dt);
        }
        assertTrue(lo >= 1e-9 * 0.999 && hi <= 1e-7 * 1.001, "Δ in [1e-9, 1e-7]: " + lo + " … " + hi);
        assertTrue(hi / lo > 10, "log-uniform over two decades, got " + lo + " … " + hi);
        float[] aLog = m.store().copyData(l + "A_log");
        for (int c = 0; c < 64; c++) {
            for (int s = 0; s < 8; s++) assertEquals((float) Math.log(0.01 * (s + 1)), aLog[c * 8 + s], "A = -0.01·(s+1)");
        }
        float[] aLog2 = TrainModel.initialised(M2, Init.defaults().withAScale(0.5), 5).store()
                .copyData("backbone.layers.0.mixer.A_log");
        assertArrayEquals(new float[] {(float) Math.log(0.5), 0f, (float) Math.log(1.5), (float) Math.log(2)}, aLog2);
        // every other tensor is drawn as before: the Rng sequence does not depend on the Δ range or A scale
        float[] w0 = TrainModel.initialised(M1, Init.defaults(), 3).store().copyData(l + "in_proj.weight");
        assertArrayEquals(w0, m.store().copyData(l + "in_proj.weight"));
    }

    @Test
    void badDtRangeOrAScaleIsNamed() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Init.defaults().withDt(1e-6, 1e-8));
        assertTrue(e.getMessage().contains("dt_min <= dt_max"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Init.defaults().withAScale(0));
        assertTrue(e.getMessage().contains("A scale"), e.getMessage());
    }
}
