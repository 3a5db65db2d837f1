package dev.ssm4j.train.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hyper-parameters of one parameter group: its weight decay and a multiplier on the schedule's
 * learning rate (the group's lr at a step is {@code lr(step) · lrScale}).
 *
 * @param weightDecay the group's weight decay (AdamW: decoupled, p ← p·(1 − lr·wd); SGD: L2, g ← g + wd·p)
 * @param lrScale     multiplier on the base learning rate, e.g. 1.0
 */
public record ParamGroup(double weightDecay, double lrScale) {
    public ParamGroup {
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay is " + weightDecay + ", expected a finite number >= 0");
        }
        if (!(lrScale >= 0) || !Double.isFinite(lrScale)) {
            throw new IllegalArgumentException("lrScale is " + lrScale + ", expected a finite number >= 0");
        }
    }

    /**
     * The usual two groups: {@link ParameterStore#DECAY} with {@code weightDecay}, and
     * {@link ParameterStore#NO_DECAY} with none; both at the base learning rate.
     */
    public static Map<String, ParamGroup> decayRule(double weightDecay) {
        Map<String, ParamGroup> m = new LinkedHashMap<>();
        m.put(ParameterStore.DECAY, new ParamGroup(weightDecay, 1.0));
        m.put(ParameterStore.NO_DECAY, new ParamGroup(0.0, 1.0));
        return m;
    }

    /** Checks that every group of {@code store} has settings in {@code groups}; returns one per range. */
    static ParamGroup[] perRange(ParameterStore store, Map<String, ParamGroup> groups) {
        var ranges = store.ranges();
        ParamGroup[] out = new ParamGroup[ranges.size()];
        for (int i = 0; i < out.length; i++) {
            String g = ranges.get(i).group();
            out[i] = groups.get(g);
            if (out[i] == null) {
                throw new IllegalArgumentException("groups: no settings for parameter group '" + g
                        + "' of the store (settings given for " + groups.keySet() + ")");
            }
        }
        return out;
    }
}
