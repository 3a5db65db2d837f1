package dev.ssm4j.core.generate;

import dev.ssm4j.core.model.ForwardOptions;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.Workspace;
import java.util.Arrays;

/**
 * Autoregressive generation for a batch of prompts of different lengths, without padding.
 *
 * <p>Each row r has its own row of the {@link InferenceState}. Prefill runs the parallel forward
 * over row r's own prompt into state row r ({@link ForwardOptions#stateRows}, lm_head on the last
 * token only), in chunks of at most {@code prefillChunk} tokens; the first new token of the row is
 * sampled from those logits. Decode then advances all active rows together: one recurrent
 * {@link MambaLM#step} per step takes the last token of every active row (state rows = the active
 * rows) and yields a (b_active, V) logits block, from which each row's {@link Sampler} picks its
 * next token. A row that hits a stop sequence or the token limit leaves the active set and is not
 * advanced again. Because every row has its own state and a recurrent step of one row does not
 * depend on the others, a row gets the tokens it would get alone (up to the float rounding of the
 * batched mat-vec, which never changed a greedy token in the tests).
 *
 * <p>The decode loop allocates nothing per token except what the listener needs (the text pieces);
 * the token buffers, logits, sampler scratch and the model's workspace are allocated once per call.
 */
public final class Generator {
    private final MambaLM lm;

    public Generator(MambaLM lm) {
        if (lm == null) throw new IllegalArgumentException("model must not be null");
        this.lm = lm;
    }

    public MambaLM model() {
        return lm;
    }

    /** Generates for {@code prompts[r]} (each ≥ 1 token) from a fresh zero state. */
    public GenerationResult generate(int[][] prompts, GenerateOptions opts) {
        return generate(prompts, lm.newState(prompts.length), opts);
    }

    /**
     * Generates for {@code prompts[r]}, continuing row r of {@code state} (rows 0..b−1; e.g. a
     * state loaded from a previous session). The state is updated in place: afterwards row r holds
     * its prompt and every generated token except the last (all of them with
     * {@link GenerateOptions#feedLastToken}).
     */
    public GenerationResult generate(int[][] prompts, InferenceState state, GenerateOptions opts) {
        if (opts == null) opts = new GenerateOptions();
        int b = check(prompts, state, opts);
        int V = lm.spec().vocab, maxNew = opts.maxNewTokens;
        int longest = 0;
        for (int[] p : prompts) longest = Math.max(longest, p.length);
        int chunk = Math.min(longest, opts.prefillChunk);

        // Everything the loop touches, allocated once.
        Workspace ws = lm.newWorkspace(b, Math.max(1, (chunk + b - 1) / b));   // b·maxLen ≥ chunk tokens for one row
        float[] logits = new float[b * V];                                      // (b, V)
        int[][] history = new int[b][];                                         // [row] prompt ‖ generated
        int[] genLen = new int[b];                                              // [row] new tokens so far
        Sampler[] samplers = new Sampler[b];
        StopReason[] reasons = new StopReason[b];
        int[][][] stops = new int[b][][];
        TextStream[] text = new TextStream[b];
        for (int r = 0; r < b; r++) {
            history[r] = Arrays.copyOf(prompts[r], prompts[r].length + maxNew);
            samplers[r] = new Sampler(opts.sampling, r);
            stops[r] = stopsOf(opts, r);
            if (opts.listener != null && opts.tokenizer != null) text[r] = new TextStream(opts.tokenizer);
        }
        ForwardOptions fo = new ForwardOptions().logits(ForwardOptions.Logits.LAST).pool(opts.pool);
        int[] rowOf = new int[b];           // [active slot] state row
        int[] stepTokens = new int[b];      // [active slot] token to feed
        int[] one = new int[1];

        // ---- prefill: each row alone, its own length, into its own state row ----
        long t0 = System.nanoTime();
        long promptTokens = 0;
        for (int r = 0; r < b; r++) {
            int[] p = prompts[r];
            one[0] = r;
            fo.stateRows(one);
            for (int s = 0; s < p.length; s += chunk) {
                int len = Math.min(chunk, p.length - s);
                int[] piece = s == 0 && len == p.length ? p : Arrays.copyOfRange(p, s, s + len);
                lm.forward(piece, 1, len, state, ws, fo, logits);
            }
            promptTokens += p.length;
            // first new token of row r from its last-position logits (row 0 of the logits buffer)
            int tok = samplers[r].sample(logits, 0, V, history[r], p.length);
            stepTokens[r] = tok;   // parked; the active list is built below
        }
        long t1 = System.nanoTime();

        int active = 0;
        for (int r = 0; r < b; r++) {
            if (accept(r, stepTokens[r], prompts, history, genLen, stops, reasons, maxNew, opts, text)) {
                rowOf[active] = r;
                stepTokens[active] = stepTokens[r];   // active ≤ r: never overwrites an unread entry
                active++;
            }
        }

        // ---- decode: one token for every active row per step ----
        long decodeTokens = 0;
        int[] rows = new int[b];
        while (active > 0) {
            // stateRows must be an array whose first `active` entries are the rows; reuse `rows`
            System.arraycopy(rowOf, 0, rows, 0, active);
            fo.stateRows(rows);
            lm.step(stepTokens, active, state, ws, fo, logits);
            decodeTokens += active;
            int kept = 0;
            for (int a = 0; a < active; a++) {
                int r = rowOf[a];
                int tok = samplers[r].sample(logits, a * V, V, history[r], prompts[r].length + genLen[r]);
                if (accept(r, tok, prompts, history, genLen, stops, reasons, maxNew, opts, text)) {
                    rowOf[kept] = r;
                    stepTokens[kept] = tok;
                    kept++;
                }
            }
            active = kept;
        }
        long t2 = System.nanoTime();

        if (opts.feedLast) {
            // feed every row's last generated token so the state holds the whole text
            int n = 0;
            for (int r = 0; r < b; r++) {
                rows[n] = r;
                stepTokens[n] = history[r][prompts[r].length + genLen[r] - 1];
                n++;
            }
            fo.stateRows(rows).logits(ForwardOptions.Logits.NONE);
            lm.step(stepTokens, n, state, ws, fo, null);
        }

        int[][] out = new int[b][];
        for (int r = 0; r < b; r++) out[r] = Arrays.copyOfRange(history[r], prompts[r].length, prompts[r].length + genLen[r]);
        return new GenerationResult(out, reasons, promptTokens, t1 - t0, decodeTokens, t2 - t1);
    }

    /** Records row r's new token, streams it, and says whether the row goes on. */
    private static boolean accept(int r, int tok, int[][] prompts, int[][] history, int[] genLen, int[][][] stops,
                                  StopReason[] reasons, int maxNew, GenerateOptions opts, TextStream[] text) {
        int end = prompts[r].length + genLen[r];
        history[r][end++] = tok;
        genLen[r]++;
        if (opts.listener != null) opts.listener.onToken(r, tok, text[r] != null ? text[r].push(tok) : null);
        StopReason why = null;
        if (endsWithStop(history[r], prompts[r].length, end, stops[r])) why = StopReason.STOP_SEQUENCE;
        else if (genLen[r] >= maxNew) why = StopReason.MAX_TOKENS;
        if (why == null) return true;
        reasons[r] = why;
        if (opts.listener != null) opts.listener.onFinish(r, why, text[r] != null ? text[r].flush() : null);
        return false;
    }

    /** Whether generated tokens h[from .. end) end with one of the sequences. */
    private static boolean endsWithStop(int[] h, int from, int end, int[][] seqs) {
        outer:
        for (int[] s : seqs) {
            if (end - from < s.length) continue;
            for (int k = 0; k < s.length; k++) if (h[end - s.length + k] != s[k]) continue outer;
            return true;
        }
        return false;
    }

    private static int[][] stopsOf(GenerateOptions o, int r) {
        int[][] extra = o.stopPerRow != null && r < o.stopPerRow.length && o.stopPerRow[r] != null
                ? o.stopPerRow[r] : new int[0][];
        int[][] all = Arrays.copyOf(o.stopAll, o.stopAll.length + extra.length);
        System.arraycopy(extra, 0, all, o.stopAll.length, extra.length);
        return all;
    }

    private int check(int[][] prompts, InferenceState state, GenerateOptions opts) {
        if (prompts == null || prompts.length == 0) throw new IllegalArgumentException("prompts: need at least one row");
        int V = lm.spec().vocab;
        for (int r = 0; r < prompts.length; r++) {
            int[] p = prompts[r];
            if (p == null || p.length == 0) {
                throw new IllegalArgumentException("prompts[" + r + "] is empty: every row needs at least one token");
            }
            for (int t = 0; t < p.length; t++) {
                if (p[t] < 0 || p[t] >= V) {
                    throw new IllegalArgumentException("prompts[" + r + "][" + t + "] = " + p[t]
                            + " is out of range for vocab size " + V);
                }
            }
        }
        if (state == null) throw new IllegalArgumentException("state must not be null");
        if (!state.spec().equals(lm.spec())) {
            throw new IllegalArgumentException("state was made for " + state.spec() + ", not " + lm.spec());
        }
        if (state.batch() < prompts.length) {
            throw new IllegalArgumentException("state has " + state.batch() + " rows, expected >= " + prompts.length
                    + " (one per prompt)");
        }
        if (opts.stopPerRow != null && opts.stopPerRow.length > prompts.length) {
            throw new IllegalArgumentException("stopSequencesPerRow has " + opts.stopPerRow.length + " rows, expected <= "
                    + prompts.length);
        }
        int[][][] per = opts.stopPerRow;
        for (int r = 0; per != null && r < per.length; r++) {
            for (int k = 0; per[r] != null && k < per[r].length; k++) {
                if (per[r][k] == null || per[r][k].length == 0) {
                    throw new IllegalArgumentException("stop sequence " + k + " of row " + r + " is empty");
                }
            }
        }
        return prompts.length;
    }
}
