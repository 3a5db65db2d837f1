package dev.ssm4j.train.backward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.loop.Backprop;
import dev.ssm4j.train.loop.Init;
import dev.ssm4j.train.loop.TrainModel;
import dev.ssm4j.train.testing.Goldens;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ways of splitting one batch's gradient — threads, micro-batches, chunks with the state
 * carried (and differentiated) between them, the same weights applied to several separately
 * recorded forwards — all give transformers' full-batch gradient; and directional finite
 * differences on small random models (with an attention mask) check the backward where no golden
 * exists.
 */
class BackpropTest {
    private static Backprop.Options opts(int threads, int micro, int chunk, int bptt) {
        return new Backprop.Options(threads, Backprop.Parallelism.DATA, micro, chunk, bptt);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"})
    void chunksThreadsAndMicroBatchesGiveTheFullBatchGradient(String name) throws Exception {
        Batch batch = GoldenGradsTest.goldenBatch(name);
        for (Backprop.Options o : new Backprop.Options[] {
                opts(2, 0, 0, 0),        // one row per thread
                opts(1, 1, 0, 0),        // micro-batches of one row
                opts(1, 0, 9, 0),        // two chunks (9 + 8 tokens), gradient through the carried state
                opts(2, 1, 4, 0),        // five chunks (4·4 + 1), threads and micro-batches
                new Backprop.Options(2, Backprop.Parallelism.KERNEL, 0, 5, 0)}) {
            TrainModel m = TrainModel.load(Goldens.modelDir(name));
            Backprop bp = new Backprop(m, batch.b(), batch.s(), o);
            try {
                Backprop.Result r = bp.lossAndGrad(batch);
                GoldenGradsTest.assertGoldenGrads(name, name + " " + o, m, r.loss(), 1e-6, 5e-4);
            } finally {
                bp.close();
            }
        }
    }

    @Test
    void sameThreadCountIsBitwiseReproducibleAndDuplicatedRowsAccumulate() throws Exception {
        String name = "mamba1";
        Batch gold = GoldenGradsTest.goldenBatch(name);
        TrainModel m = TrainModel.load(Goldens.modelDir(name));
        Backprop bp = new Backprop(m, 4, gold.s(), opts(2, 0, 0, 0));
        try {
            int s = gold.s();
            int[] in = new int[4 * s], tg = new int[4 * s];
            for (int r = 0; r < 4; r++) {
                System.arraycopy(gold.inputs(), (r % 2) * s, in, r * s, s);
                System.arraycopy(gold.targets(), (r % 2) * s, tg, r * s, s);
            }
            Batch twice = new Batch(4, s, in, tg);
            Backprop.Result r1 = bp.lossAndGrad(twice);
            float[] g1 = m.grads().clone();
            Backprop.Result r2 = bp.lossAndGrad(twice);
            if (KernelConfig.FORCE_SCALAR) {
                assertEquals(r1.loss(), r2.loss());
                assertArrayEquals(g1, m.grads(), "same batch, same threads: bitwise equal gradients");
            } else {   // SIMD lane reductions may change order when C2 compiles them between the calls
                assertEquals(r1.loss(), r2.loss(), 1e-6);
                for (int k = 0; k < g1.length; k++) assertEquals(g1[k], m.grads()[k], 1e-6 + 1e-4 * Math.abs(g1[k]));
            }
            GoldenGradsTest.assertGoldenGrads(name, m, r1.loss(), 1e-6, 5e-4);
        } finally {
            bp.close();
        }
    }

    /**
     * The same weights used by two separately recorded forwards in one backward graph: rows 0 and 1
     * of the golden batch are run as two calls, each backpropagated into the same gradient array
     * with the full batch's 1/N; the sum is the golden gradient.
     */
    @Test
    void modelAppliedTwiceAccumulatesIntoOneGradient() throws Exception {
        String name = "mamba1_tied";
        Batch gold = GoldenGradsTest.goldenBatch(name);
        TrainModel m = TrainModel.load(Goldens.modelDir(name));
        ModelSpec spec = m.spec();
        int s = gold.s(), V = spec.vocab;
        long n = gold.answerCount();
        ModelBackward mb = new ModelBackward(spec, 1, s);
        Workspace ws = m.lm().newWorkspace(1, s);
        ActivationStore[] stores = {ActivationStore.allocate(spec, 1, s), ActivationStore.allocate(spec, 1, s)};
        float[][] logits = new float[2][s * V];
        double loss = 0;
        for (int r = 0; r < 2; r++) {
            int[] toks = java.util.Arrays.copyOfRange(gold.inputs(), r * s, r * s + s);
            m.lm().forward(toks, 1, s, null, ws, new ForwardOptions().activations(stores[r]), logits[r]);
            loss += CrossEntropy.forwardBackward(logits[r], logits[r], gold.targets(), r * s, s, V, 1f / n, null);
        }
        m.store().zeroGrad();
        for (int r = 1; r >= 0; r--) mb.backward(stores[r], logits[r], m.params(), m.grads(), null, null);
        GoldenGradsTest.assertGoldenGrads(name, m, loss / n, 1e-6, 5e-4);
    }

    @Test
    void truncatedBpttKeepsTheLossAndDetachesTheState() throws Exception {
        String name = "mamba1";
        Batch gold = GoldenGradsTest.goldenBatch(name);
        TrainModel m = TrainModel.load(Goldens.modelDir(name));
        Backprop full = new Backprop(m, 2, gold.s(), opts(1, 0, 9, 0));
        Backprop cut = new Backprop(m, 2, gold.s(), opts(1, 0, 9, 1));
        Backprop.Result a = full.lossAndGrad(gold);
        float[] ga = m.grads().clone();
        Backprop.Result b = cut.lossAndGrad(gold);
        assertEquals(a.loss(), b.loss(), 1e-6, "the forward is the same");
        double diff = 0;
        for (int k = 0; k < ga.length; k++) {
            assertTrue(Float.isFinite(m.grads()[k]));
            diff = Math.max(diff, Math.abs(ga[k] - m.grads()[k]));
        }
        assertTrue(diff > 1e-5, "cutting the gradient between chunks changes it");
    }

    /** A small random model: directional derivatives of the loss match the backward (with a mask). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"MAMBA1, false, 13", "MAMBA1, true, 13", "MAMBA1, false, 101",
        "MAMBA2, false, 13", "MAMBA2, true, 70"})
    void directionalFiniteDifferencesOnARandomModel(ModelSpec.Kind kind, boolean tied, int l) {
        ModelSpec.Builder sb = ModelSpec.builder(kind).vocab(11).hidden(8).layers(2).dInner(16)
                .dState(3).convWidth(3).useBias(true).tieEmbeddings(tied);
        // Mamba-2: 4 heads of 4, 2 groups, per-group gated norm, a Δ clamp that binds, SSD chunks of 16 < l.
        ModelSpec spec = kind == ModelSpec.Kind.MAMBA1 ? sb.dtRank(2).build()
                : sb.heads(4).headDim(4).groups(2).normGroupSize(8).chunkSize(16).dtLimit(0.002f, 0.05f).build();
        TrainModel m = TrainModel.initialised(spec, Init.defaults().withRange(0.5), 7);
        int b = 2, V = spec.vocab;   // l = 101 crosses the scan backward's recompute chunks
        SplittableRandom rng = new SplittableRandom(5);
        int[] toks = new int[b * l], tg = new int[b * l], mask = new int[b * l];
        for (int t = 0; t < b * l; t++) {
            toks[t] = rng.nextInt(V);
            tg[t] = rng.nextInt(4) == 0 ? Batch.IGNORE : rng.nextInt(V);
            mask[t] = t % l < 3 && t >= l ? 0 : 1;     // row 1 left-padded by 3
        }
        long n = CrossEntropy.countTargets(tg, 0, b * l);
        ActivationStore st = ActivationStore.allocate(spec, b, l);
        Workspace ws = m.lm().newWorkspace(b, l);
        float[] logits = new float[b * l * V];
        m.lm().forward(toks, b, l, null, ws, new ForwardOptions().mask(mask).activations(st), logits);
        CrossEntropy.forwardBackward(logits, logits, tg, 0, b * l, V, 1f / n, null);
        m.store().zeroGrad();
        new ModelBackward(spec, b, l).backward(st, logits, m.params(), m.grads(), null, null);
        float[] grad = m.grads().clone(), base = m.params().clone();
        for (int dir = 0; dir < 4; dir++) {
            float[] v = new float[base.length];
            double gv = 0;
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) (rng.nextDouble() * 2 - 1);
                gv += (double) grad[k] * v[k];
            }
            // Central differences with Richardson extrapolation (4·D(h/2) − D(h))/3: the random model
            // (init range 0.5) is curved enough that plain D(1e-3) is off by ~0.2%.
            double h = 2e-3;
            double dh = (lossAt(m, base, v, h, toks, tg, mask, b, l, n) - lossAt(m, base, v, -h, toks, tg, mask, b, l, n))
                    / (2 * h);
            double dh2 = (lossAt(m, base, v, h / 2, toks, tg, mask, b, l, n)
                    - lossAt(m, base, v, -h / 2, toks, tg, mask, b, l, n)) / h;
            double fd = (4 * dh2 - dh) / 3;
            assertEquals(fd, gv, 2e-3 * Math.max(1, Math.abs(gv)), "direction " + dir + " tied=" + tied);
        }
        System.arraycopy(base, 0, m.params(), 0, base.length);
    }

    private static double lossAt(TrainModel m, float[] base, float[] v, double h, int[] toks, int[] tg, int[] mask,
                                 int b, int l, long n) {
        float[] p = m.params();
        for (int k = 0; k < p.length; k++) p[k] = (float) (base[k] + h * v[k]);
        int V = m.spec().vocab;
        float[] logits = new float[b * l * V];
        m.lm().forward(toks, b, l, null, m.lm().newWorkspace(b, l), new ForwardOptions().mask(mask), logits);
        return CrossEntropy.forwardBackward(null, logits, tg, 0, b * l, V, 0f, null) / n;
    }

    @Test
    void badBatchesAreRefused() {
        ModelSpec spec = ModelSpec.builder(ModelSpec.Kind.MAMBA1).vocab(5).hidden(4).layers(1).dInner(8).dState(2)
                .dtRank(1).build();
        TrainModel m = TrainModel.initialised(spec, Init.defaults(), 1);
        Backprop bp = new Backprop(m, 2, 4, Backprop.Options.threads(1));
        int[] none = new int[8];
        java.util.Arrays.fill(none, Batch.IGNORE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bp.lossAndGrad(new Batch(2, 4, new int[8], none)));
        assertTrue(e.getMessage().contains("no target"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bp.lossAndGrad(new Batch(3, 4, new int[12], new int[12])));
        assertTrue(e.getMessage().contains("(3, 4)"), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
