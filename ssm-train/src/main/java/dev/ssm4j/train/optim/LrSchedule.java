package dev.ssm4j.train.optim;

/**
 * A learning-rate schedule: a pure function from the optimizer step (0 = the first update) to the
 * base learning rate of that step. Groups multiply it by their {@link ParamGroup#lrScale()}.
 *
 * <p>Warm-up schedules ramp linearly: {@code lr(s) = peak · (s + 1) / warmup} for {@code s < warmup}
 * (so step 0 already moves, and {@code lr(warmup − 1) = peak}). After warm-up the decay runs over
 * {@code progress = (s − warmup) / (total − warmup)} from 0 at {@code s = warmup} to 1 at
 * {@code s = total}; from {@code total} on the rate stays at {@code min}.
 */
public interface LrSchedule {
    /** The base learning rate of optimizer step {@code step} (≥ 0). */
    double lr(long step);

    /** The same rate at every step. */
    static LrSchedule constant(double lr) {
        return new Constant(lr);
    }

    /** Linear warm-up to {@code peak}, then cosine decay to {@code min} at {@code total}. */
    static LrSchedule warmupCosine(double peak, long warmup, long total, double min) {
        return new WarmupCosine(peak, warmup, total, min);
    }

    /** Linear warm-up to {@code peak}, then linear decay to {@code min} at {@code total}. */
    static LrSchedule warmupLinear(double peak, long warmup, long total, double min) {
        return new WarmupLinear(peak, warmup, total, min);
    }

    /** {@code lr(s) = lr}. */
    record Constant(double lr) implements LrSchedule {
        public Constant {
            checkRate("lr", lr);
        }

        @Override
        public double lr(long step) {
            checkStep(step);
            return lr;
        }
    }

    /** Warm-up, then {@code min + (peak − min) · ½(1 + cos(π · progress))}. */
    record WarmupCosine(double peak, long warmup, long total, double min) implements LrSchedule {
        public WarmupCosine {
            checkWarmup(peak, warmup, total, min);
        }

        @Override
        public double lr(long step) {
            double progress = progress(step, warmup, total);
            if (progress < 0) return peak * (step + 1) / warmup;
            if (progress >= 1) return min;
            return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
        }
    }

    /** Warm-up, then {@code peak + (min − peak) · progress}. */
    record WarmupLinear(double peak, long warmup, long total, double min) implements LrSchedule {
        public WarmupLinear {
            checkWarmup(peak, warmup, total, min);
        }

        @Override
        public double lr(long step) {
            double progress = progress(step, warmup, total);
            if (progress < 0) return peak * (step + 1) / warmup;
            if (progress >= 1) return min;
            return peak + (min - peak) * progress;
        }
    }

    /**
     * The decay's progress at {@code step}: −1 during warm-up (the caller ramps), then
     * {@code (step − warmup) / (total − warmup)} clamped to [0, 1] (1 from {@code total} on).
     */
    private static double progress(long step, long warmup, long total) {
        checkStep(step);
        if (step < warmup) return -1;
        if (step >= total) return 1;
        return (double) (step - warmup) / (total - warmup);
    }

    private static void checkRate(String what, double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException(what + " is " + lr + ", expected a finite learning rate >= 0");
        }
    }

    private static void checkWarmup(double peak, long warmup, long total, double min) {
        checkRate("peak", peak);
        checkRate("min", min);
        if (min > peak) throw new IllegalArgumentException("min lr " + min + " is above peak lr " + peak);
        if (warmup < 0) throw new IllegalArgumentException("warmup is " + warmup + ", expected >= 0");
        if (total < warmup) {
            throw new IllegalArgumentException("total steps " + total + " is below warmup " + warmup
                    + "; expected total >= warmup");
        }
    }

    private static void checkStep(long step) {
        if (step < 0) throw new IllegalArgumentException("step is " + step + ", expected >= 0");
    }
}
