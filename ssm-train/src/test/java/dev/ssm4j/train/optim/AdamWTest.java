package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.train.log.JsonFields;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final OptimFixture FX = new OptimFixture("adamw.json");

    private static Map<String, ParamGroup> groups() {
        Map<String, Object> hp = JsonFields.object(FX.json.get("hyper_parameters"), "hyper_parameters");
        double wd = JsonFields.number(hp.get("weight_decay"), "weight_decay");
        Map<String, ParamGroup> g = new LinkedHashMap<>();
        g.put(ParameterStore.DECAY, new ParamGroup(wd, 1.0));
        g.put(ParameterStore.NO_DECAY, new ParamGroup(0.0, FX.noDecayLrScale));
        return g;
    }

    private static AdamW adamw(ParameterStore s) {
        Map<String, Object> hp = JsonFields.object(FX.json.get("hyper_parameters"), "hyper_parameters");
        // betas are Python doubles: read them as doubles (torch computes its scalars in double)
        double b1 = JsonFields.number(JsonFields.array(hp.get("betas"), "betas").get(0), "beta1");
        double b2 = JsonFields.number(JsonFields.array(hp.get("betas"), "betas").get(1), "beta2");
        return new AdamW(s, b1, b2, JsonFields.number(hp.get("eps"), "eps"), groups());
    }

    @Test
    void groupingMatchesFixture() {
        ParameterStore s = FX.store();
        for (int i = 0; i < FX.names.size(); i++) {
            assertEquals(FX.groups.get(i), s.view(FX.names.get(i)).group(), FX.names.get(i));
        }
        assertEquals(JsonFields.array(FX.json.get("no_weight_decay_suffixes"), "suffixes"), MambaGrouping.NO_DECAY_SUFFIXES);
    }

    @Test
    void matchesTorchAdamW() {
        ParameterStore s = FX.store();
        AdamW opt = adamw(s);
        for (int t = 0; t < FX.lrs.length; t++) {
            FX.setGrads(s, t);
            opt.step(FX.lrs[t]);
        }
        assertEquals(FX.lrs.length, opt.stepCount());
        float[] p = OptimFixture.flat(FX.json.get("expected_params"));
        float[] m = OptimFixture.flat(FX.json.get("expected_exp_avg"));
        float[] v = OptimFixture.flat(FX.json.get("expected_exp_avg_sq"));
        double rp = OptimFixture.maxRel(p, s.data(), 1e-6);
        double rm = OptimFixture.maxRel(m, opt.state().get("exp_avg"), 1e-12);
        double rv = OptimFixture.maxRel(v, opt.state().get("exp_avg_sq"), 1e-20);
        assertTrue(rp <= 1e-6, "params max rel err " + rp);
        assertTrue(rm <= 1e-6, "exp_avg max rel err " + rm);
        assertTrue(rv <= 1e-6, "exp_avg_sq max rel err " + rv);
    }

    @Test
    void simdEqualsScalarOnOddLengths() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int n : new int[] {1, 3, 7, 17, 33, 37, 100}) {
            float[] p1 = rand(rng, n), g = rand(rng, n), m1 = rand(rng, n), v1 = abs(rand(rng, n));
            float[] p2 = p1.clone(), m2 = m1.clone(), v2 = v1.clone();
            int off = n > 3 ? 1 : 0, len = n - off;
            AdamWKernels.updateScalar(p1, g, m1, v1, off, len, 0.999f, 0.1f, 0.999f, 0.001f, 0.3f, 1e-8f, -0.01f);
            AdamWKernels.updateSimd(p2, g, m2, v2, off, len, 0.999f, 0.1f, 0.999f, 0.001f, 0.3f, 1e-8f, -0.01f);
            assertArrayEquals(p1, p2, "p n=" + n);
            assertArrayEquals(m1, m2, "m n=" + n);
            assertArrayEquals(v1, v2, "v n=" + n);
        }
    }

    @Test
    void stateSaveLoadContinuesIdentically() {
        ParameterStore a = FX.store();
        AdamW oa = adamw(a);
        for (int t = 0; t < 2; t++) {
            FX.setGrads(a, t);
            oa.step(FX.lrs[t]);
        }
        // checkpoint: parameters, state copies, step count
        float[] params = a.data().clone();
        Map<String, float[]> saved = new HashMap<>();
        oa.state().forEach((k, val) -> saved.put(k, val.clone()));
        long steps = oa.stepCount();
        for (int t = 2; t < 5; t++) {
            FX.setGrads(a, t);
            oa.step(FX.lrs[t]);
        }
        ParameterStore b = FX.store();
        System.arraycopy(params, 0, b.data(), 0, params.length);
        AdamW ob = adamw(b);
        ob.loadState(saved, steps);
        for (int t = 2; t < 5; t++) {
            FX.setGrads(b, t);
            ob.step(FX.lrs[t]);
        }
        assertArrayEquals(a.data(), b.data());
        assertArrayEquals(oa.state().get("exp_avg_sq"), ob.state().get("exp_avg_sq"));
    }

    @Test
    void rejectsBadInput() {
        ParameterStore s = FX.store();
        var e = assertThrows(IllegalArgumentException.class, () -> new AdamW(s, ParamGroup.decayRule(0.1)
                .entrySet().stream().filter(x -> x.getKey().equals("decay"))
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue))));
        assertTrue(e.getMessage().contains("no_decay"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AdamW(s, 1.0, 0.999, 1e-8, ParamGroup.decayRule(0)));
        AdamW opt = new AdamW(s, ParamGroup.decayRule(0.1));
        assertThrows(IllegalArgumentException.class, () -> opt.step(Double.NaN));
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> opt.loadState(Map.of("exp_avg", new float[3], "exp_avg_sq", new float[3]), 1));
        assertTrue(e2.getMessage().contains("length 3"), e2.getMessage());
    }

    static float[] rand(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }

    static float[] abs(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]);
        return a;
    }
}
