package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.TrainModel;
import dev.ssm4j.train.optim.AdamW;
import dev.ssm4j.train.optim.MambaGrouping;
import dev.ssm4j.train.optim.ParamGroup;
import dev.ssm4j.train.testing.Goldens;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Five AdamW steps on the golden batch give PyTorch's loss trajectory (adamw.json: lr, betas, eps,
 * weight decay with the no-decay suffix rule; the loss of each step's batch before its update).
 */
class AdamWTrajectoryTest {
    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void fiveStepsMatchTorch(String name) throws Exception {
        Map<String, Object> fx = Goldens.adamw(name);
        @SuppressWarnings("unchecked")
        Map<String, Object> hp = (Map<String, Object>) fx.get("hyper_parameters");
        double lr = ((Number) hp.get("lr")).doubleValue(), eps = ((Number) hp.get("eps")).doubleValue();
        double wd = ((Number) hp.get("weight_decay")).doubleValue();
        double[] betas = Goldens.doubles(hp.get("betas"));
        double[] want = Goldens.doubles(fx.get("losses"));
        List<?> suffixes = (List<?>) fx.get("no_weight_decay_suffixes");
        assertEquals(MambaGrouping.NO_DECAY_SUFFIXES, suffixes, "the fixture's no-decay rule is ours");

        TrainModel m = TrainModel.load(Goldens.modelDir(name));
        Batch batch = GoldenGradsTest.goldenBatch(name);
        Backprop bp = new Backprop(m, batch.b(), batch.s(), Backprop.Options.threads(1));
        AdamW opt = new AdamW(m.store(), betas[0], betas[1], eps, ParamGroup.decayRule(wd));
        for (int step = 0; step < want.length; step++) {
            double loss = bp.lossAndGrad(batch).loss();
            assertEquals(want[step], loss, 2e-4 * Math.max(1, Math.abs(want[step])), name + " step " + step);
            opt.step(lr);
        }
    }
}
