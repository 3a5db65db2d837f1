package dev.ssm4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1f, 3f, 2f, 0f, 3f, -1f};

    private static int[] histogram(SamplingConfig cfg, float[] logits, int draws) {
        Sampler s = new Sampler(cfg);
        int[] h = new int[logits.length];
        for (int i = 0; i < draws; i++) h[s.sample(logits, 0, logits.length, new int[0], 0)]++;
        return h;
    }

    @Test
    void greedyTakesArgmaxAndLowestIndexOnTies() {
        assertEquals(1, new Sampler(SamplingConfig.greedy()).sample(LOGITS, 0, 6, new int[0], 0));
    }

    @Test
    void temperatureOneMatchesSoftmaxFrequencies() {
        int n = 200_000;
        int[] h = histogram(SamplingConfig.random(7), LOGITS, n);
        double z = 0;
        for (float x : LOGITS) z += Math.exp(x);
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i]) / z;
            double sd = Math.sqrt(p * (1 - p) / n);
            assertEquals(p, h[i] / (double) n, 5 * sd + 1e-4, "token " + i);
        }
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        int[] h = histogram(new SamplingConfig(1f, 2, 1f, 0f, 1f, 3), LOGITS, 20_000);
        assertTrue(h[1] > 0 && h[4] > 0, "both tied best tokens are drawn");
        assertEquals(20_000, h[1] + h[4]);
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        // probabilities ≈ [.06 .37 .14 .02 .37 .01]: the two best already hold 0.74
        int[] h = histogram(new SamplingConfig(1f, 0, 0.7f, 0f, 1f, 5), LOGITS, 20_000);
        assertEquals(20_000, h[1] + h[4]);
        int[] h2 = histogram(new SamplingConfig(1f, 0, 0.8f, 0f, 1f, 5), LOGITS, 20_000);
        assertEquals(20_000, h2[1] + h2[4] + h2[2]);
        assertTrue(h2[2] > 0);
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheBest() {
        // p(2)/p(best) = e^-1 ≈ 0.37; p(0)/p(best) = e^-2 ≈ 0.135
        int[] h = histogram(new SamplingConfig(1f, 0, 1f, 0.3f, 1f, 9), LOGITS, 20_000);
        assertEquals(0, h[0] + h[3] + h[5]);
        assertTrue(h[2] > 0);
    }

    @Test
    void repetitionPenaltyFollowsCtrlOncePerToken() {
        float[] x = {2f, -2f, 1f};
        Sampler s = new Sampler(new SamplingConfig(0f, 0, 1f, 0f, 4f, 0));
        // token 0 penalised 2 → 0.5, so token 2 (1.0) wins
        assertEquals(2, s.sample(x, 0, 3, new int[] {0, 0, 0, 1}, 4));
        // penalising token 2 too (1 → 0.25) gives token 0 (0.5) back; token 1 stays -8
        assertEquals(0, s.sample(x, 0, 3, new int[] {0, 2, 1}, 3));
    }

    @Test
    void sameSeedSameDraws() {
        Sampler a = new Sampler(SamplingConfig.random(42)), b = new Sampler(SamplingConfig.random(42));
        for (int i = 0; i < 100; i++) {
            assertEquals(a.sample(LOGITS, 0, 6, new int[0], 0), b.sample(LOGITS, 0, 6, new int[0], 0));
        }
    }

    @Test
    void badSettingsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(1f, 0, 1.5f, 0f, 1f, 0));
        assertTrue(e.getMessage().contains("top-p"));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(-1f, 0, 1f, 0f, 1f, 0));
        assertThrows(IllegalStateException.class,
                () -> new Sampler(SamplingConfig.random(1)).sample(new float[] {0f, Float.NaN}, 0, 2, new int[0], 0));
    }
}
