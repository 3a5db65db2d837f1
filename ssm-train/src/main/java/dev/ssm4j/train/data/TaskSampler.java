package dev.ssm4j.train.data;

/** Fresh batches of a synthetic {@link Task}, from a seeded {@link Rng}; the state is the RNG's. */
public final class TaskSampler implements BatchSource {
    private final Task task;
    private final Rng rng;

    public TaskSampler(Task task, long seed) {
        this.task = task;
        this.rng = new Rng(seed);
    }

    public Task task() {
        return task;
    }

    @Override
    public Batch next(int b, int s) {
        return task.batch(rng, b, s);
    }

    @Override
    public long state() {
        return rng.state();
    }

    @Override
    public void restore(long state) {
        rng.restore(state);
    }
}
