package dev.ssm4j.core.model;

import java.util.concurrent.ForkJoinPool;

/**
 * Options of one {@link MambaLM#forward} or {@link MambaLM#step} call. Mutable and meant to be
 * reused (set the fields that change, call again) so that decoding allocates nothing per token.
 * Every field defaults to "off": all logits, no mask, state rows 0..b−1, no hidden states, no
 * activation store, calling thread.
 */
public final class ForwardOptions {
    /** Which positions get logits (lm_head is the most expensive matmul of a prefill). */
    public enum Logits {
        /** Every position: logits (b, l, V). */
        ALL,
        /** The last position of every row only: logits (b, V). Use this for prefill before decoding. */
        LAST,
        /** None: only the state (and hidden states / activations if asked) are produced. */
        NONE
    }

    Logits logits = Logits.ALL;
    int[] mask;
    int[] stateRows;
    float[][] hidden;
    ActivationStore activations;
    ForkJoinPool pool;

    public ForwardOptions() {}

    /** Which logits to compute (default ALL). */
    public ForwardOptions logits(Logits which) {
        if (which == null) throw new IllegalArgumentException("logits mode must not be null");
        this.logits = which;
        return this;
    }

    /**
     * Attention mask (b, l) of 0/1 with transformers' semantics (parallel forward only): at a
     * position with mask 0 the mixer's input (the normed hidden state) is zeroed before in_proj,
     * and the conv output is zeroed before x_proj / the scan. Null (default): no mask.
     */
    public ForwardOptions mask(int[] mask) {
        this.mask = mask;
        return this;
    }

    /**
     * Row r of the input uses and updates row {@code stateRows[r]} of the state (distinct rows);
     * null (default): row r ↔ state row r. Lets a caller prefill one row of a batched state, or
     * decode a subset of rows.
     */
    public ForwardOptions stateRows(int[] rows) {
        this.stateRows = rows;
        return this;
    }

    /**
     * Receives the hidden states: {@code hidden[i]} (b, l, H) is the output of layer i for
     * i &lt; layers, {@code hidden[layers]} the output of the final norm (transformers'
     * output_hidden_states without the embedding entry). Null (default): not recorded.
     */
    public ForwardOptions hidden(float[][] hidden) {
        this.hidden = hidden;
        return this;
    }

    /** Records every intermediate a backward pass needs (parallel forward only); null = off. */
    public ForwardOptions activations(ActivationStore store) {
        this.activations = store;
        return this;
    }

    /** Threads for the kernels (null = the calling thread). */
    public ForwardOptions pool(ForkJoinPool pool) {
        this.pool = pool;
        return this;
    }

    public Logits logits() {
        return logits;
    }

    public ForkJoinPool pool() {
        return pool;
    }
}
