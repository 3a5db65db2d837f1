package dev.ssm4j.train.backward;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;

/**
 * Offsets of every tensor of a model in the flat parameter array laid out by
 * {@link ParameterLayout} — and, because the gradient array has the same layout, in the flat
 * gradient array too. −1 marks a tensor the model does not have (a bias that is off, Mamba-1-only
 * or Mamba-2-only tensors, the lm_head of a tied model).
 */
public final class ParamIndex {
    /** Offsets of one layer's tensors (HF names {@code backbone.layers.{i}.…}). */
    public static final class Layer {
        public final int norm, inW, inB, convW, convB, aLog, dSkip, outW, outB;
        /** Mamba-1: x_proj.weight, dt_proj.weight, dt_proj.bias (−1 for Mamba-2). */
        public final int xW, dtW, dtB;
        /** Mamba-2: dt_bias, mixer.norm.weight (−1 for Mamba-1). */
        public final int dtBias, gnorm;

        Layer(ParameterLayout lay, int i) {
            String p = ParameterLayout.layerPrefix(i), m = p + "mixer.";
            norm = off(lay, p + "norm.weight");
            inW = off(lay, m + "in_proj.weight");
            inB = off(lay, m + "in_proj.bias");
            convW = off(lay, m + "conv1d.weight");
            convB = off(lay, m + "conv1d.bias");
            aLog = off(lay, m + "A_log");
            dSkip = off(lay, m + "D");
            outW = off(lay, m + "out_proj.weight");
            outB = off(lay, m + "out_proj.bias");
            xW = off(lay, m + "x_proj.weight");
            dtW = off(lay, m + "dt_proj.weight");
            dtB = off(lay, m + "dt_proj.bias");
            dtBias = off(lay, m + "dt_bias");
            gnorm = off(lay, m + "norm.weight");
        }
    }

    public final ModelSpec spec;
    public final ParameterLayout layout;
    public final int embed, normF;
    /** lm_head.weight, or the embeddings when tied (the head reads E). */
    public final int head;
    private final Layer[] layers;

    public ParamIndex(ModelSpec spec) {
        this.spec = spec;
        this.layout = new ParameterLayout(spec);
        embed = off(layout, ParameterLayout.EMBEDDINGS);
        normF = off(layout, ParameterLayout.NORM_F);
        head = spec.tieEmbeddings ? embed : off(layout, ParameterLayout.LM_HEAD);
        layers = new Layer[spec.layers];
        for (int i = 0; i < spec.layers; i++) layers[i] = new Layer(layout, i);
    }

    public Layer layer(int i) {
        return layers[i];
    }

    /** Length of the flat parameter (and gradient) array. */
    public int size() {
        return layout.flatSize();
    }

    private static int off(ParameterLayout lay, String name) {
        ParameterLayout.Entry e = lay.find(name);
        return e == null ? -1 : (int) e.offset();
    }
}
