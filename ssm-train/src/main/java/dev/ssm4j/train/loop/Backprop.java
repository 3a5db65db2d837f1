package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.Workspace;
import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.train.backward.CrossEntropy;
import dev.ssm4j.train.backward.ModelBackward;
import dev.ssm4j.train.backward.StateGrads;
import dev.ssm4j.train.data.Batch;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Loss and gradient of one batch: the mean next-token cross-entropy over the positions that carry
 * a target, and its gradient in the model's flat gradient array.
 *
 * <h2>How the work is split</h2>
 * <ul>
 *   <li><b>Data-parallel threads</b> ({@link Parallelism#DATA}): the b rows are cut into one
 *       contiguous slice per thread; each thread runs forward + backward on its slice with its own
 *       workspace, activation store and gradient buffer, and the buffers are summed in a fixed
 *       order (so the result is bitwise reproducible for a given thread count). With
 *       {@link Parallelism#KERNEL} one worker runs all rows and hands the pool to the kernels.</li>
 *   <li><b>Micro-batches</b>: a thread processes its rows in groups of at most {@code microBatch}
 *       rows (gradient accumulation: the backward adds into the same buffer), bounding memory.</li>
 *   <li><b>Chunks (BPTT over chunks)</b>: a row of s tokens is run as chunks of {@code chunk}
 *       tokens that continue each other's recurrent state. Within a window of {@code bpttChunks}
 *       chunks the gradient flows through the state (the backward of chunk k+1 hands dL/d(state)
 *       to chunk k: the scan's h0/final-state gradients and the conv's state gradients); between
 *       windows the state is carried forward but detached (truncated BPTT). With one window
 *       covering the row, the gradient equals that of one pass over the whole row.</li>
 * </ul>
 * Every cross-entropy term is scaled by 1/N with N the number of targets in the WHOLE batch, so
 * all these splits give the full-batch gradient.
 */
public final class Backprop {
    /** Where the threads go. */
    public enum Parallelism {
        /** Rows split over threads, one gradient buffer per thread (default). */
        DATA,
        /** One worker; the kernels split their loops over the pool. */
        KERNEL
    }

    /**
     * @param threads    threads (≥ 1)
     * @param microBatch rows per forward/backward within a thread (0 = all of the thread's rows)
     * @param chunk      tokens per chunk (0 = the whole row)
     * @param bpttChunks chunks per backpropagation window (0 = all chunks of the row)
     */
    public record Options(int threads, Parallelism parallelism, int microBatch, int chunk, int bpttChunks) {
        public Options {
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            if (microBatch < 0 || chunk < 0 || bpttChunks < 0) {
                throw new IllegalArgumentException("microBatch, chunk and bpttChunks must be >= 0 (0 = off), got "
                        + microBatch + ", " + chunk + ", " + bpttChunks);
            }
            if (parallelism == null) parallelism = Parallelism.DATA;
        }

        public static Options threads(int threads) {
            return new Options(threads, Parallelism.DATA, 0, 0, 0);
        }
    }

    /** Mean loss over the batch's targets, the number of targets, and how many argmax predictions hit. */
    public record Result(double loss, long targets, long correct) {
        public double accuracy() {
            return targets == 0 ? Double.NaN : (double) correct / targets;
        }
    }

    private final TrainModel model;
    private final ModelSpec spec;
    private final Options opt;
    private final int maxBatch, seqLen;
    private final ForkJoinPool pool;
    private final Worker[] workers;
    private double dtPenalty, dtPenaltyFloor = 1e-9, lastDtPenalty;

    /** For batches of up to {@code maxBatch} rows of exactly {@code seqLen} tokens. */
    public Backprop(TrainModel model, int maxBatch, int seqLen, Options opt) {
        if (maxBatch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch and sequence length must be >= 1, got (" + maxBatch + ", "
                    + seqLen + ")");
        }
        this.model = model;
        this.spec = model.spec();
        this.opt = opt;
        this.maxBatch = maxBatch;
        this.seqLen = seqLen;
        this.pool = Parallel.pool(opt.threads());
        int nw = opt.parallelism() == Parallelism.DATA ? Math.min(opt.threads(), maxBatch) : 1;
        int rowsPerWorker = (maxBatch + nw - 1) / nw;
        int micro = opt.microBatch() == 0 ? rowsPerWorker : Math.min(opt.microBatch(), rowsPerWorker);
        int chunk = opt.chunk() == 0 ? seqLen : Math.min(opt.chunk(), seqLen);
        int nChunks = (seqLen + chunk - 1) / chunk;
        int window = opt.bpttChunks() == 0 ? nChunks : Math.min(opt.bpttChunks(), nChunks);
        workers = new Worker[nw];
        for (int w = 0; w < nw; w++) workers[w] = new Worker(w == 0, micro, chunk, nChunks, window);
    }

    /**
     * Adds the optional Δ regulariser {@link dev.ssm4j.train.backward.DtPenalty} with weight {@code lambda}
     * (0 = off, the default) and floor {@code floor} to the gradients of {@link #lossAndGrad} (Mamba-1
     * only). The reported loss stays the cross-entropy; the penalty's value is {@link #lastDtPenalty()}.
     */
    public Backprop dtPenalty(double lambda, double floor) {
        dev.ssm4j.train.backward.DtPenalty.check(lambda, floor);
        if (lambda > 0 && spec.kind != ModelSpec.Kind.MAMBA1) {
            throw new IllegalArgumentException("the Δ penalty is implemented for Mamba-1 models only, this one is "
                    + spec.kind);
        }
        dtPenalty = lambda;
        dtPenaltyFloor = floor;
        return this;
    }

    /** The Δ penalty's value at the last {@link #lossAndGrad} (0 when off). */
    public double lastDtPenalty() {
        return lastDtPenalty;
    }

    public Options options() {
        return opt;
    }

    public TrainModel model() {
        return model;
    }

    /** The pool (null for one thread); owned by this object. */
    public ForkJoinPool pool() {
        return pool;
    }

    /** Releases the threads. */
    public void close() {
        if (pool != null) pool.shutdown();
    }

    /**
     * Sets the model's gradients to dL/dθ of the batch's mean cross-entropy (overwriting them) and
     * returns the loss of the batch under the current parameters.
     */
    public Result lossAndGrad(Batch batch) {
        check(batch);
        long n = batch.answerCount();
        if (n == 0) throw new IllegalArgumentException("batch has no target positions (every target is IGNORE)");
        float scale = (float) (1.0 / n);
        int b = batch.b(), nw = workers.length;
        model.store().zeroGrad();
        double coef = dtPenalty / ((double) b * batch.s() * spec.dInner);
        for (Worker w : workers) w.backward.dtPenalty(coef, dtPenaltyFloor);
        Parallel.forRange(opt.parallelism() == Parallelism.DATA ? pool : null, nw, 1, (s, e) -> {
            for (int w = s; w < e; w++) {
                int r0 = (int) ((long) w * b / nw), r1 = (int) ((long) (w + 1) * b / nw);
                workers[w].run(batch, r0, r1, scale, true);
            }
        });
        // Sum the other workers' buffers into the model's, in worker order (deterministic).
        if (nw > 1) {
            float[] g = model.grads();
            Parallel.forRange(pool, g.length, 1 << 15, (s, e) -> {
                for (int w = 1; w < nw; w++) {
                    float[] gw = workers[w].grads;
                    for (int k = s; k < e; k++) g[k] += gw[k];
                }
            });
        }
        lastDtPenalty = 0;
        for (Worker w : workers) lastDtPenalty += w.backward.takeDtPenalty();
        return sum(n);
    }

    /** The loss and accuracy of a batch without computing gradients (recording nothing). */
    public Result loss(Batch batch) {
        check(batch);
        long n = batch.answerCount();
        int b = batch.b(), nw = workers.length;
        Parallel.forRange(opt.parallelism() == Parallelism.DATA ? pool : null, nw, 1, (s, e) -> {
            for (int w = s; w < e; w++) {
                int r0 = (int) ((long) w * b / nw), r1 = (int) ((long) (w + 1) * b / nw);
                workers[w].run(batch, r0, r1, 0f, false);
            }
        });
        return sum(n);
    }

    private Result sum(long n) {
        double loss = 0;
        long hits = 0;
        for (Worker w : workers) {
            loss += w.lossSum;
            hits += w.stats[CrossEntropy.CORRECT];
        }
        return new Result(n == 0 ? Double.NaN : loss / n, n, hits);
    }

    private void check(Batch batch) {
        if (batch.b() > maxBatch || batch.s() != seqLen) {
            throw new IllegalArgumentException("batch of (" + batch.b() + ", " + batch.s() + ") tokens; this backprop was"
                    + " made for up to " + maxBatch + " rows of exactly " + seqLen + " tokens");
        }
    }

    /** One thread's buffers. */
    private final class Worker {
        final int micro, chunk, nChunks, window;
        final Workspace ws;
        final ActivationStore[] stores;
        final float[][] logits;
        final int[][] tokens, targets;
        final InferenceState state;
        final StateGrads carry;
        final ModelBackward backward;
        final float[] grads;
        final ForwardOptions fo = new ForwardOptions().logits(ForwardOptions.Logits.ALL);
        final long[] stats = new long[2];
        final float[] lse;
        double lossSum;

        Worker(boolean first, int micro, int chunk, int nChunks, int window) {
            this.micro = micro;
            this.chunk = chunk;
            this.nChunks = nChunks;
            this.window = window;
            ws = model.lm().newWorkspace(micro, chunk);
            stores = new ActivationStore[window];
            logits = new float[window][];
            tokens = new int[window][];
            targets = new int[window][];
            for (int j = 0; j < window; j++) {
                stores[j] = ActivationStore.allocate(spec, micro, chunk);
                logits[j] = new float[micro * chunk * spec.vocab];
                tokens[j] = new int[micro * chunk];
                targets[j] = new int[micro * chunk];
            }
            lse = new float[micro * chunk];
            state = nChunks > 1 ? model.lm().newState(micro) : null;
            carry = nChunks > 1 ? new StateGrads(spec, micro) : null;
            backward = new ModelBackward(spec, micro, chunk);
            grads = first ? null : new float[model.grads().length];
        }

        /** Rows [r0, r1) of the batch: loss (and gradients when {@code grad}) accumulated here. */
        void run(Batch batch, int r0, int r1, float scale, boolean grad) {
            lossSum = 0;
            Arrays.fill(stats, 0);
            float[] g = grads == null ? model.grads() : grads;
            if (grads != null && grad) Arrays.fill(grads, 0f);
            ForkJoinPool kpool = opt.parallelism() == Parallelism.KERNEL ? pool : null;
            fo.pool(kpool);
            int s = batch.s(), V = spec.vocab;
            float[] params = model.params();
            for (int m0 = r0; m0 < r1; m0 += micro) {
                int mb = Math.min(micro, r1 - m0);
                if (state != null) state.reset();
                for (int c0 = 0; c0 < nChunks; c0 += window) {
                    int kk = Math.min(window, nChunks - c0);
                    for (int j = 0; j < kk; j++) {
                        int t0 = (c0 + j) * chunk, len = Math.min(chunk, s - t0);
                        for (int r = 0; r < mb; r++) {
                            System.arraycopy(batch.inputs(), (m0 + r) * s + t0, tokens[j], r * len, len);
                            System.arraycopy(batch.targets(), (m0 + r) * s + t0, targets[j], r * len, len);
                        }
                        fo.activations(grad ? stores[j] : null);
                        model.lm().forward(tokens[j], mb, len, state, ws, fo, logits[j]);
                        lossSum += CrossEntropy.forwardBackward(grad ? logits[j] : null, logits[j], targets[j], 0,
                                mb * len, V, scale, stats, lse);
                    }
                    if (!grad) continue;
                    if (carry != null) carry.zero();
                    for (int j = kk - 1; j >= 0; j--) {
                        backward.backward(stores[j], logits[j], params, g, carry, kpool);
                    }
                }
            }
        }
    }
}
