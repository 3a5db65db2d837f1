package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.train.log.JsonFields;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SgdTest {
    private static final OptimFixture FX = new OptimFixture("sgd.json");

    @Test
    void matchesTorchSgdInEverySetting() {
        List<Object> cases = JsonFields.array(FX.json.get("cases"), "cases");
        assertEquals(4, cases.size());
        for (Object o : cases) {
            Map<String, Object> c = JsonFields.object(o, "case");
            Map<String, Object> hp = JsonFields.object(c.get("hyper_parameters"), "hyper_parameters");
            double mom = JsonFields.number(hp.get("momentum"), "momentum");
            double damp = JsonFields.number(hp.get("dampening"), "dampening");
            boolean nesterov = (Boolean) hp.get("nesterov");
            double wd = JsonFields.number(hp.get("weight_decay"), "weight_decay");
            Map<String, ParamGroup> groups = new LinkedHashMap<>();
            groups.put(ParameterStore.DECAY, new ParamGroup(wd, 1.0));
            groups.put(ParameterStore.NO_DECAY, new ParamGroup(0.0, FX.noDecayLrScale));
            ParameterStore s = FX.store();
            Sgd opt = new Sgd(s, mom, damp, nesterov, groups);
            for (int t = 0; t < FX.lrs.length; t++) {
                FX.setGrads(s, t);
                opt.step(FX.lrs[t]);
            }
            float[] p = OptimFixture.flat(c.get("expected_params"));
            double rp = OptimFixture.maxRel(p, s.data(), 1e-6);
            assertTrue(rp <= 1e-6, hp + ": params max rel err " + rp);
            if (mom != 0) {
                float[] b = OptimFixture.flat(c.get("expected_momentum_buffer"));
                double rb = OptimFixture.maxRel(b, opt.state().get("momentum_buffer"), 1e-12);
                assertTrue(rb <= 1e-6, hp + ": momentum buffer max rel err " + rb);
            } else {
                assertTrue(opt.state().isEmpty());
            }
        }
    }

    @Test
    void simdEqualsScalarOnOddLengths() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int n : new int[] {1, 3, 7, 17, 33, 37, 100}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                for (boolean first : new boolean[] {false, true}) {
                    float[] p1 = AdamWTest.rand(rng, n), g = AdamWTest.rand(rng, n), b1 = AdamWTest.rand(rng, n);
                    float[] p2 = p1.clone(), b2 = b1.clone();
                    SgdKernels.updateScalar(p1, g, b1, 0, n, 0.1f, 0.01f, 0.9f, 1f, nesterov, first);
                    SgdKernels.updateSimd(p2, g, b2, 0, n, 0.1f, 0.01f, 0.9f, 1f, nesterov, first);
                    assertArrayEquals(p1, p2, "p n=" + n);
                    assertArrayEquals(b1, b2, "buf n=" + n);
                }
            }
            float[] p1 = AdamWTest.rand(rng, n), g = AdamWTest.rand(rng, n), p2 = p1.clone();
            SgdKernels.updateScalar(p1, g, null, 0, n, 0.1f, 0f, 0f, 1f, false, false);
            SgdKernels.updateSimd(p2, g, null, 0, n, 0.1f, 0f, 0f, 1f, false, false);
            assertArrayEquals(p1, p2, "plain sgd n=" + n);
        }
    }

    @Test
    void gradientIsNotModifiedAndNesterovNeedsMomentum() {
        ParameterStore s = FX.store();
        FX.setGrads(s, 0);
        float[] g = s.grad().clone();
        new Sgd(s, 0.9, 0, true, ParamGroup.decayRule(0.1)).step(0.1);
        assertArrayEquals(g, s.grad());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(s, 0.0, 0, true, ParamGroup.decayRule(0)));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(s, 0.9, 0.1, true, ParamGroup.decayRule(0)));
    }
}
