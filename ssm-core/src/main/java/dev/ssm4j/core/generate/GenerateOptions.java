package dev.ssm4j.core.generate;

import dev.ssm4j.core.tokenizer.Tokenizer;
import java.util.concurrent.ForkJoinPool;

/**
 * Options of one {@link Generator#generate} call: sampling, limits, stop sequences, streaming.
 * Mutable builder-style setters; every field has a usable default (greedy, 64 new tokens, no stop
 * sequences, no listener, calling thread).
 */
public final class GenerateOptions {
    SamplingConfig sampling = SamplingConfig.greedy();
    int maxNewTokens = 64;
    int[][] stopAll = new int[0][];       // stop sequences for every row
    int[][][] stopPerRow;                 // [row][k] stop sequences of one row (added to stopAll)
    TokenListener listener;
    Tokenizer tokenizer;
    ForkJoinPool pool;
    int prefillChunk = 512;
    boolean feedLast;

    public GenerateOptions sampling(SamplingConfig c) {
        if (c == null) throw new IllegalArgumentException("sampling config must not be null");
        this.sampling = c;
        return this;
    }

    /** Largest number of new tokens per row (≥ 1). */
    public GenerateOptions maxNewTokens(int n) {
        if (n < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + n);
        this.maxNewTokens = n;
        return this;
    }

    /** Single stop tokens for every row (each id is a stop sequence of length 1). */
    public GenerateOptions stopTokens(int... ids) {
        int[][] s = new int[ids.length][];
        for (int i = 0; i < ids.length; i++) s[i] = new int[] {ids[i]};
        return stopSequences(s);
    }

    /**
     * Stop sequences for every row: a row stops as soon as its generated tokens end with one of
     * them (the sequence is kept in the output).
     */
    public GenerateOptions stopSequences(int[]... seqs) {
        for (int i = 0; i < seqs.length; i++) {
            if (seqs[i] == null || seqs[i].length == 0) {
                throw new IllegalArgumentException("stop sequence " + i + " is empty");
            }
        }
        this.stopAll = seqs.clone();
        return this;
    }

    /** Per-row stop sequences: {@code perRow[r]} (may be null) applies to row r only, in addition. */
    public GenerateOptions stopSequencesPerRow(int[][][] perRow) {
        this.stopPerRow = perRow;
        return this;
    }

    /** Receives every token as it is chosen (null: none). */
    public GenerateOptions listener(TokenListener l) {
        this.listener = l;
        return this;
    }

    /** With a tokenizer the listener also receives text pieces (complete UTF-8 characters only). */
    public GenerateOptions tokenizer(Tokenizer t) {
        this.tokenizer = t;
        return this;
    }

    /** Threads for the model's kernels (null: the calling thread). */
    public GenerateOptions pool(ForkJoinPool p) {
        this.pool = p;
        return this;
    }

    /** Prompts longer than this are prefilled in chunks of this many tokens (bounds the workspace). */
    public GenerateOptions prefillChunk(int n) {
        if (n < 1) throw new IllegalArgumentException("prefillChunk must be >= 1, got " + n);
        this.prefillChunk = n;
        return this;
    }

    /**
     * After generation, feed each row's last generated token to the model too (one extra step), so
     * the state holds prompt + every generated token — what a later session resumes from.
     */
    public GenerateOptions feedLastToken(boolean on) {
        this.feedLast = on;
        return this;
    }
}
