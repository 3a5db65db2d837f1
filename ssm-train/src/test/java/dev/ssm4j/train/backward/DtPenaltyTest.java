package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.Init;
import dev.ssm4j.train.loop.TrainModel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The optional Δ regulariser (DtPenalty): its gradient matches central finite differences of its
 * value, alone (in double, per element, on both sides of softplus's bend and below the floor) and
 * added to a small random model's loss (directional derivatives through dt_proj, x_proj and the
 * conv); Backprop normalises it per batch whatever the threads and chunks.
 */
class DtPenaltyTest {
    @Test
    void elementGradientMatchesFiniteDifferences() {
        int T = 5, d = 3;
        float[] dt = new float[T * d], params = {0.3f, -2f, -21f}, ddt = new float[T * d], grads = new float[3];
        SplittableRandom rng = new SplittableRandom(3);
        for (int k = 0; k < dt.length; k++) dt[k] = (float) (rng.nextDouble() * 12 - 8);   // z in about [-29, 4]
        int[] mask = {1, 1, 0, 1, 1};
        double coef = 0.7, floor = 1e-9;
        double v = DtPenalty.addGradient(dt, params, 0, ddt, grads, T, d, mask, coef, floor);
        assertEquals(DtPenalty.value(dt, params, 0, T, d, mask, coef, floor), v, 1e-12);
        double[] biasFd = new double[d];
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < d; c++) {
                int k = t * d + c;
                double z = (double) dt[k] + params[c];
                double fd = elementFd(z, coef, floor);
                if (mask[t] == 0) fd = 0;
                biasFd[c] += fd;
                assertEquals(fd, ddt[k], 1e-6 * Math.max(1, Math.abs(fd)), "element (" + t + ", " + c + "), z = " + z);
                if (Math.log(DtPenalty.softplus(z)) < Math.log(floor)) assertEquals(0f, ddt[k], "below the floor: no push");
            }
        }
        for (int c = 0; c < d; c++) assertEquals(biasFd[c], grads[c], 1e-6 * Math.max(1, Math.abs(biasFd[c])));
    }

    /** d/dz of coef·max(0, ln softplus(z) − ln floor) by central differences in double. */
    private static double elementFd(double z, double coef, double floor) {
        double h = 1e-5;
        double p = coef * Math.max(0, Math.log(DtPenalty.softplus(z + h)) - Math.log(floor));
        double m = coef * Math.max(0, Math.log(DtPenalty.softplus(z - h)) - Math.log(floor));
        return (p - m) / (2 * h);
    }

    /** Loss + penalty of a small random Mamba-1: the backward with the penalty matches directional FD. */
    @Test
    void modelGradientWithPenaltyMatchesFiniteDifferences() {
        ModelSpec spec = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(11).hidden(8).layers(2).dInner(16).dState(3)
                .convWidth(3).useBias(true).dtRank(2).build();
        TrainModel m = TrainModel.initialised(spec, Init.defaults().withRange(0.5), 7);
        int b = 2, l = 13, V = spec.vocab, d = spec.dInner;
        double lambda = 0.5, floor = 1e-9, coef = lambda / ((double) b * l * d);
        SplittableRandom rng = new SplittableRandom(5);
        int[] toks = new int[b * l], tg = new int[b * l];
        for (int t = 0; t < b * l; t++) {
            toks[t] = rng.nextInt(V);
            tg[t] = rng.nextInt(4) == 0 ? Batch.IGNORE : rng.nextInt(V);
        }
        long n = CrossEntropy.countTargets(tg, 0, b * l);
        ActivationStore st = ActivationStore.allocate(spec, b, l);
        float[] logits = new float[b * l * V];
        m.lm().forward(toks, b, l, null, m.lm().newWorkspace(b, l), new ForwardOptions().activations(st), logits);
        CrossEntropy.forwardBackward(logits, logits, tg, 0, b * l, V, 1f / n, null);
        m.store().zeroGrad();
        ModelBackward mb = new ModelBackward(spec, b, l);
        mb.dtPenalty(coef, floor);
        mb.backward(st, logits, m.params(), m.grads(), null, null);
        double pen = mb.takeDtPenalty();
        assertEquals(penalty(m, st, b * l, coef, floor), pen, 1e-9 * Math.max(1, pen));
        assertTrue(pen > 0.1, "the penalty is not negligible in this test: " + pen);
        float[] grad = m.grads().clone(), base = m.params().clone();
        for (int dir = 0; dir < 4; dir++) {
            float[] v = new float[base.length];
            double gv = 0;
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) (rng.nextDouble() * 2 - 1);
                gv += (double) grad[k] * v[k];
            }
            double h = 2e-3;
            double dh = (objective(m, base, v, h, toks, tg, b, l, n, coef, floor)
                    - objective(m, base, v, -h, toks, tg, b, l, n, coef, floor)) / (2 * h);
            double dh2 = (objective(m, base, v, h / 2, toks, tg, b, l, n, coef, floor)
                    - objective(m, base, v, -h / 2, toks, tg, b, l, n, coef, floor)) / h;
            double fd = (4 * dh2 - dh) / 3;
            assertEquals(fd, gv, 2e-3 * Math.max(1, Math.abs(gv)), "direction " + dir);
        }
        System.arraycopy(base, 0, m.params(), 0, base.length);
    }

    private static double penalty(TrainModel m, ActivationStore st, int T, double coef, double floor) {
        ParamIndex idx = new ParamIndex(m.spec());
        double p = 0;
        for (int i = 0; i < m.spec().layers; i++) {
            p += DtPenalty.value(st.layer(i).dt, m.params(), idx.layer(i).dtB, T, m.spec().dInner, null, coef, floor);
        }
        return p;
    }

    private static double objective(TrainModel m, float[] base, float[] v, double h, int[] toks, int[] tg, int b, int l,
                                    long n, double coef, double floor) {
        float[] p = m.params();
        for (int k = 0; k < p.length; k++) p[k] = (float) (base[k] + h * v[k]);
        int V = m.spec().vocab;
        float[] logits = new float[b * l * V];
        ActivationStore st = ActivationStore.allocate(m.spec(), b, l);
        Workspace ws = m.lm().newWorkspace(b, l);
        m.lm().forward(toks, b, l, null, ws, new ForwardOptions().activations(st), logits);
        return CrossEntropy.forwardBackward(null, logits, tg, 0, b * l, V, 0f, null) / n + penalty(m, st, b * l, coef, floor);
    }

    /** Threads and chunks split the batch; the penalty is normalised by the whole batch either way. */
    @Test
    void backpropGivesTheSamePenaltyGradientWhateverTheSplit() {
        ModelSpec spec = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(7).hidden(8).layers(2).dInner(16).dState(4)
                .convWidth(4).dtRank(2).build();
        TrainModel m = TrainModel.initialised(spec, Init.defaults(), 3);
        int b = 4, l = 20;
        SplittableRandom rng = new SplittableRandom(9);
        int[] toks = new int[b * l], tg = new int[b * l];
        for (int t = 0; t < b * l; t++) {
            toks[t] = rng.nextInt(7);
            tg[t] = rng.nextInt(7);
        }
        Batch batch = new Batch(b, l, toks, tg);
        float[] ref = null;
        double refPen = 0;
        for (Backprop.Options o : new Backprop.Options[] {Backprop.Options.threads(1),
                new Backprop.Options(2, Backprop.Parallelism.DATA, 1, 7, 0)}) {
            Backprop bp = new Backprop(m, b, l, o).dtPenalty(0.3, 1e-9);
            try {
                bp.lossAndGrad(batch);
                float[] g = m.grads().clone();
                Backprop plain = new Backprop(m, b, l, o);
                plain.lossAndGrad(batch);
                plain.close();
                for (int k = 0; k < g.length; k++) g[k] -= m.grads()[k];   // the penalty's part alone
                if (ref == null) {
                    ref = g;
                    refPen = bp.lastDtPenalty();
                    assertTrue(refPen > 0);
                } else {
                    assertEquals(refPen, bp.lastDtPenalty(), 1e-9 * refPen);
                    for (int k = 0; k < g.length; k++) assertEquals(ref[k], g[k], 1e-6 + 1e-3 * Math.abs(ref[k]), "k=" + k);
                }
            } finally {
                bp.close();
            }
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DtPenalty.check(-1, 1e-9));
        assertThrows(IllegalArgumentException.class, () -> DtPenalty.check(Double.NaN, 1e-9));
        assertThrows(IllegalArgumentException.class, () -> DtPenalty.check(0.1, 0));
        ModelSpec m2 = ModelSpec.builder(ModelSpec.Kind.MAMBA2).vocab(7).hidden(8).layers(1).dInner(16).dState(4)
                .heads(4).headDim(4).groups(1).chunkSize(8).build();
        TrainModel m = TrainModel.initialised(m2, Init.defaults(), 1);
        Backprop bp = new Backprop(m, 1, 8, Backprop.Options.threads(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bp.dtPenalty(0.1, 1e-9));
        assertTrue(e.getMessage().contains("Mamba-1"), e.getMessage());
        bp.close();
    }
}
