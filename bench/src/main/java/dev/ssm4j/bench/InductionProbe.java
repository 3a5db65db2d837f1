package dev.ssm4j.bench;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import dev.ssm4j.train.data.Batch;
import dev.ssm4j.train.data.InductionHeads;
import dev.ssm4j.train.data.Rng;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code ./ssm bench induction-probe}: why an induction-heads model does or does not extrapolate.
 * Runs a trained Mamba-1 model over a few induction-heads sequences with the activation store on
 * and prints, per layer, the step size Δ = softplus(dt + Δbias) at the first trigger (position p),
 * at the answer (p + 1), at the final trigger, and over the distractors after the answer — and, for
 * the channels that write the answer hardest, how much of it the state keeps over 2^20 distractors:
 * exp(2^20 · mean_t(Δ_t) · A), A the slowest state of the channel (per-step retention exp(Δ·A)).
 * In fp32 a step with Δ·|A| below ~3e−8 keeps the state exactly (exp rounds to 1).
 */
public final class InductionProbe implements Command {
    @Override
    public String summary() {
        return "per-token step sizes Δ of a trained induction-heads model (trigger, answer, distractors)";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench induction-probe --model DIR [--length 4096] [--sequences 8] [--seed 0]
                                                   [--vocab 16] [--top 8]
                Loads a Mamba-1 checkpoint trained on induction_heads (e.g. runs/demo/model) and prints, per
                layer: Δ at the trigger, the answer and the final trigger (median and max over channels),
                Δ over the distractors after the answer (median and max over tokens x channels), and for the
                --top channels with the largest Δ at the answer: mean distractor Δ, Δ·|A| of the slowest
                state, and the retention exp(2^20·mean Δ·A) it implies over 2^20 tokens (medians over
                channels and sequences).""";
    }

    @Override
    public int run(Args a) throws Exception {
        Path dir = Path.of(a.require("model"));
        int len = a.integer("length", 4096), seqs = a.integer("sequences", 8), vocab = a.integer("vocab", 16);
        int top = a.integer("top", 8);
        long seed = a.longValue("seed", 0);
        a.finish();
        if (len < 8 || seqs < 1 || top < 1) throw new UsageException("need --length >= 8, --sequences >= 1, --top >= 1");
        try (MambaLM lm = MambaLM.load(dir)) {
            ModelSpec s = lm.spec();
            if (s.kind != ModelSpec.Kind.MAMBA1) throw new UsageException("the probe reads Mamba-1 Δ; " + dir + " is " + s.kind);
            if (top > s.dInner) throw new UsageException("--top " + top + " exceeds d_inner " + s.dInner);
            InductionHeads task = new InductionHeads(vocab, len);
            Batch batch = task.batch(new Rng(seed), seqs, len);
            ActivationStore store = ActivationStore.allocate(s, seqs, len);
            float[] logits = new float[seqs * len * s.vocab];
            lm.forward(batch.inputs(), seqs, len, null, lm.newWorkspace(seqs, len),
                    new ForwardOptions().logits(ForwardOptions.Logits.ALL).activations(store), logits);
            int correct = 0;
            for (int r = 0; r < seqs; r++) {
                int o = (r * len + len - 1) * s.vocab, arg = 0;
                for (int v = 1; v < s.vocab; v++) if (logits[o + v] > logits[o + arg]) arg = v;
                if (arg == batch.targets()[r * len + len - 1]) correct++;
            }
            System.out.printf(Locale.ROOT, "%s: %d sequences of length %d, %d/%d answers correct%n", dir, seqs, len, correct,
                    seqs);
            System.out.printf(Locale.ROOT, "%-6s %-20s %-20s %-20s %-20s | top-%d answer channels: %-9s %-9s %s%n", "layer",
                    "trigger med/max", "answer med/max", "final med/max", "distract med/max", top, "mean Δ", "Δ|A|min",
                    "kept @2^20");
            for (int l = 0; l < s.layers; l++) probeLayer(lm, s, l, store.layer(l).dt, batch, seqs, len, task, top);
        }
        return 0;
    }

    private static void probeLayer(MambaLM lm, ModelSpec s, int l, float[] dtRaw, Batch batch, int seqs, int len,
                                   InductionHeads task, int top) {
        int d = s.dInner, n = s.dState;
        String pre = "backbone.layers." + l + ".mixer.";
        float[] bias = lm.parameter(pre + "dt_proj.bias"), aLog = lm.parameter(pre + "A_log");
        double[] aMin = new double[d];   // |A| of each channel's slowest state
        for (int c = 0; c < d; c++) {
            double m = Double.MAX_VALUE;
            for (int k = 0; k < n; k++) m = Math.min(m, Math.exp(aLog[c * n + k]));
            aMin[c] = m;
        }
        double[] trig = new double[seqs * d], ans = new double[seqs * d], fin = new double[seqs * d];
        double[] meanD = new double[seqs * top], dA = new double[seqs * top], kept = new double[seqs * top];
        double distMax = 0;
        double[] distSample = new double[seqs * d];   // per (sequence, channel): median-ish via mean of distractors
        for (int r = 0; r < seqs; r++) {
            int p = -1;
            for (int t = 0; t < len - 1; t++) if (batch.inputs()[r * len + t] == task.triggerToken()) p = t;
            double[] mean = new double[d];
            int cnt = 0;
            for (int t = p + 2; t < len - 1; t++) {
                for (int c = 0; c < d; c++) {
                    double v = delta(dtRaw, bias, r * len + t, d, c);
                    mean[c] += v;
                    distMax = Math.max(distMax, v);
                }
                cnt++;
            }
            Integer[] order = new Integer[d];
            for (int c = 0; c < d; c++) {
                mean[c] /= Math.max(cnt, 1);
                distSample[r * d + c] = mean[c];
                trig[r * d + c] = delta(dtRaw, bias, r * len + p, d, c);
                ans[r * d + c] = delta(dtRaw, bias, r * len + p + 1, d, c);
                fin[r * d + c] = delta(dtRaw, bias, r * len + len - 1, d, c);
                order[c] = c;
            }
            final int rr = r;
            Arrays.sort(order, (x, y) -> Double.compare(ans[rr * d + y], ans[rr * d + x]));
            for (int k = 0; k < top; k++) {
                int c = order[k];
                meanD[r * top + k] = mean[c];
                dA[r * top + k] = mean[c] * aMin[c];
                kept[r * top + k] = Math.exp(-(double) (1 << 20) * mean[c] * aMin[c]);
            }
        }
        System.out.printf(Locale.ROOT, "%-6d %-20s %-20s %-20s %-20s | %-16s %-9.1e %-9.1e %.3f%n", l, medMax(trig),
                medMax(ans), medMax(fin), String.format(Locale.ROOT, "%.1e/%.1e", median(distSample), distMax), "",
                median(meanD), median(dA), median(kept));
    }

    private static double delta(float[] dtRaw, float[] bias, int token, int d, int c) {
        double x = dtRaw[token * d + c] + bias[c];
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));   // softplus, as the model (in double)
    }

    private static String medMax(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, x);
        return String.format(Locale.ROOT, "%.1e/%.1e", median(v), m);
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
