package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.train.optim.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A trainable language model: its {@link ModelSpec}, ONE flat parameter array and ONE flat
 * gradient array (a {@link ParameterStore} whose views are the HF tensors in
 * {@link ParameterLayout} order, grouped by the Mamba no-decay rule), and an ssm-core
 * {@link MambaLM} whose weights are views into that parameter array — so an optimizer step is
 * seen by the next forward without any copy.
 */
public final class TrainModel {
    private final ModelSpec spec;
    private final ParameterStore store;
    private final MambaLM lm;

    private TrainModel(ModelSpec spec) {
        this.spec = spec;
        this.store = storeFor(spec);
        this.lm = MambaLM.fromFlat(spec, store.data());
    }

    /** A model with every parameter 0 (initialise it with {@link Init}). */
    public static TrainModel zeros(ModelSpec spec) {
        return new TrainModel(spec);
    }

    /** A model initialised with {@code init} from {@code seed}. */
    public static TrainModel initialised(ModelSpec spec, Init init, long seed) {
        TrainModel m = new TrainModel(spec);
        init.apply(m.store, spec, seed);
        return m;
    }

    /** A model holding the weights of a Hugging Face checkpoint directory (config.json + safetensors). */
    public static TrainModel load(Path dir) throws IOException {
        try (MambaLM src = MambaLM.load(dir)) {
            TrainModel m = new TrainModel(src.spec());
            for (ParameterStore.View v : m.store.views()) m.store.setData(v.name(), src.parameter(v.name()));
            return m;
        }
    }

    /** Writes config.json and model.safetensors (HF names, F32; tied lm_head omitted), atomically. */
    public void save(Path dir) throws IOException {
        lm.save(dir);
    }

    /** The flat store for a spec: views in layout order, so store offsets equal layout offsets. */
    public static ParameterStore storeFor(ModelSpec spec) {
        ParameterStore.Builder b = ParameterStore.builder();
        ParameterLayout lay = new ParameterLayout(spec);
        for (ParameterLayout.Entry e : lay.entries()) b.add(e.name(), e.shape());
        ParameterStore s = b.build();
        for (ParameterLayout.Entry e : lay.entries()) {
            if (s.view(e.name()).offset() != e.offset()) {
                throw new IllegalStateException("store and layout disagree at " + e.name());
            }
        }
        return s;
    }

    public ModelSpec spec() {
        return spec;
    }

    public ParameterStore store() {
        return store;
    }

    /** The inference view of the current parameters (no-grad forward, recurrent step, generation). */
    public MambaLM lm() {
        return lm;
    }

    public float[] params() {
        return store.data();
    }

    public float[] grads() {
        return store.grad();
    }
}
