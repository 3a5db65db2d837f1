package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.train.log.JsonFields;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GradClipTest {
    private static final OptimFixture FX = new OptimFixture("clip.json");

    @Test
    void matchesTorchClipGradNorm() {
        List<Object> cases = JsonFields.array(FX.json.get("cases"), "cases");
        boolean clippedOne = false, unclippedOne = false;
        for (Object o : cases) {
            Map<String, Object> c = JsonFields.object(o, "case");
            int t = (int) JsonFields.integer(c.get("grads_step"), "grads_step");
            double maxNorm = JsonFields.number(c.get("max_norm"), "max_norm");
            ParameterStore s = FX.store();
            FX.setGrads(s, t);
            double norm = GradClip.clipGlobalNorm(s, maxNorm);
            double expected = JsonFields.number(c.get("expected_norm"), "expected_norm");
            assertEquals(expected, norm, 1e-6 * expected, "norm, case " + c.get("max_norm"));
            float[] g = OptimFixture.flat(c.get("expected_grads"));
            double rel = OptimFixture.maxRel(g, s.grad(), 1e-6);
            assertTrue(rel <= 1e-6, "clipped grads max rel err " + rel);
            if (norm > maxNorm) clippedOne = true;
            else unclippedOne = true;
        }
        assertTrue(clippedOne && unclippedOne, "the fixture should have a clipped and an unclipped case");
    }

    @Test
    void normInDoubleAndOddLengths() {
        for (int n : new int[] {0, 1, 3, 5, 17}) {
            float[] g = new float[n + 2];
            double ref = 0;
            for (int i = 0; i < n; i++) {
                g[i + 1] = 1e-3f * (i + 1);
                ref += (double) g[i + 1] * g[i + 1];
            }
            g[0] = 100; // outside the range
            g[n + 1] = 100;
            assertEquals(Math.sqrt(ref), GradClip.norm(g, 1, n), 1e-15, "n=" + n);
        }
        assertThrows(IllegalArgumentException.class, () -> GradClip.norm(new float[3], 2, 2));
    }

    @Test
    void clippedNormIsMaxNormAndNonFiniteIsLeftAlone() {
        ParameterStore s = ParameterStore.builder().add("w", 3, 4).add("b.bias", 5).build();
        for (int i = 0; i < s.size(); i++) s.grad()[i] = i - 7.5f;
        double before = GradClip.clipGlobalNorm(s, 2.0);
        assertTrue(before > 2.0);
        assertEquals(2.0, GradClip.globalNorm(s), 1e-5);
        s.grad()[3] = Float.NaN;
        float[] g = s.grad().clone();
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(s, 1.0)));
        assertArrayEquals(g, s.grad());
    }
}
