package dev.ssm4j.core.model;

import dev.ssm4j.kernels.scan.ScanSpec;
import dev.ssm4j.kernels.scan.ScanTensors;

/**
 * Per-workspace cache of kernel argument objects, so that repeated calls with the same shapes
 * (every decode step; every prefill chunk of the same length) bind arrays into existing objects
 * instead of allocating new ones.
 */
final class KernelCalls {
    private static final int SLOTS = 4;
    private final ModelSpec spec;
    private final int[] keyB = new int[SLOTS], keyL = new int[SLOTS];
    private final ScanTensors[] scan = new ScanTensors[SLOTS];
    private int next;
    /** Per layer: the step tensors as last bound, and the block that bound them (see {@link #boundStep}). */
    private final ScanTensors[] step;
    private final Object[] stepOwner;

    KernelCalls(ModelSpec spec) {
        this.spec = spec;
        this.step = new ScanTensors[spec.layers];
        this.stepOwner = new Object[spec.layers];
    }

    /**
     * Layer {@code layer}'s Mamba-1 step tensors for b rows if {@code owner} bound them last (its
     * arrays are then still the bound ones: they are this workspace's buffers and the block's own
     * weights), else null. Rebinding at every token is not free: each binding re-checks every
     * tensor, and the checks build their message strings as they go — garbage per layer per token.
     */
    ScanTensors boundStep(int layer, int b, Object owner) {
        ScanTensors io = step[layer];
        return io != null && stepOwner[layer] == owner && io.spec().batch == b ? io : null;
    }

    /** New, not yet bound step tensors for b rows, remembered for layer {@code layer} and {@code owner}. */
    ScanTensors newStep(int layer, int b, Object owner) {
        ScanTensors io = new ScanTensors(ScanSpec.of(b, 1, spec.dInner, spec.dState).deltaSoftplus(true));
        step[layer] = io;
        stepOwner[layer] = owner;
        return io;
    }

    /** Mamba-1 scan tensors for b rows of l tokens (softplus on, one group). */
    ScanTensors scan(int b, int l) {
        for (int i = 0; i < SLOTS; i++) {
            if (scan[i] != null && keyB[i] == b && keyL[i] == l) return scan[i];
        }
        int i = next;
        next = (next + 1) % SLOTS;
        keyB[i] = b;
        keyL[i] = l;
        scan[i] = new ScanTensors(ScanSpec.of(b, l, spec.dInner, spec.dState).deltaSoftplus(true));
        return scan[i];
    }
}
