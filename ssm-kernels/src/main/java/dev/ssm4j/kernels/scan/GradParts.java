package dev.ssm4j.kernels.scan;

import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;

/**
 * Runs a backward pass split into parts (one with one thread, four per thread otherwise), each
 * part owning a contiguous range of tasks (a task is one batch row × channel block). du, dΔ, dz and dh0 belong to exactly one task,
 * so every part writes them straight into the caller's buffers. dA, dD and dΔbias are sums over
 * batch rows and dB, dC sums over channels, so two tasks can add to the same element: part 0
 * accumulates into the caller's buffers, every other part into private zeroed buffers (the
 * {@link Sink}) that are added to the caller's after all parts finish. With one thread there is a
 * single part and nothing is allocated.
 */
final class GradParts {
    private GradParts() {}

    /** Destinations of the shared gradients for one part (null array = not wanted). */
    static final class Sink {
        float[] dA, dB, dC, dD, dBias;
        int dAOff, dBOff, dBStride, dCOff, dCStride, dDOff, dBiasOff;
    }

    @FunctionalInterface
    interface PartBody {
        void run(Sink sink, int taskStart, int taskEnd);
    }

    static void run(ScanGrads gr, ForkJoinPool pool, int tasks, PartBody body) {
        ScanSpec sp = gr.spec;
        // Four parts per thread (like Parallel.forRange) so that work stealing can even out threads
        // that get less CPU than others; each extra part costs one zeroed set of shared gradients.
        int threads = Parallel.threads(pool);
        int parts = threads == 1 ? 1 : Math.min(4 * threads, tasks);
        Sink[] sinks = new Sink[parts];
        Sink own = new Sink();
        own.dA = gr.dA; own.dAOff = gr.dAOff;
        own.dB = gr.dB; own.dBOff = gr.dBOff; own.dBStride = gr.dBStride;
        own.dC = gr.dC; own.dCOff = gr.dCOff; own.dCStride = gr.dCStride;
        own.dD = gr.dD; own.dDOff = gr.dDOff;
        own.dBias = gr.dDeltaBias; own.dBiasOff = gr.dDeltaBiasOff;
        sinks[0] = own;
        int gn = sp.groups * sp.stateSize, tokens = sp.batch * sp.length;
        for (int p = 1; p < parts; p++) {
            Sink s = new Sink();
            if (gr.dA != null) s.dA = new float[sp.channels * sp.stateSize];
            if (gr.dB != null) { s.dB = new float[tokens * gn]; s.dBStride = gn; }
            if (gr.dC != null) { s.dC = new float[tokens * gn]; s.dCStride = gn; }
            if (gr.dD != null) s.dD = new float[sp.channels];
            if (gr.dDeltaBias != null) s.dBias = new float[sp.channels];
            sinks[p] = s;
        }
        Parallel.forRange(pool, parts, 1, (ps, pe) -> {
            for (int p = ps; p < pe; p++) {
                body.run(sinks[p], (int) ((long) p * tasks / parts), (int) ((long) (p + 1) * tasks / parts));
            }
        });
        for (int p = 1; p < parts; p++) {
            Sink s = sinks[p];
            if (s.dA != null) addDense(own.dA, own.dAOff, s.dA);
            if (s.dD != null) addDense(own.dD, own.dDOff, s.dD);
            if (s.dBias != null) addDense(own.dBias, own.dBiasOff, s.dBias);
            if (s.dB != null) addRows(own.dB, own.dBOff, own.dBStride, s.dB, tokens, gn);
            if (s.dC != null) addRows(own.dC, own.dCOff, own.dCStride, s.dC, tokens, gn);
        }
    }

    private static void addDense(float[] dst, int off, float[] src) {
        for (int i = 0; i < src.length; i++) dst[off + i] += src[i];
    }

    private static void addRows(float[] dst, int off, int stride, float[] src, int rows, int width) {
        for (int r = 0; r < rows; r++) {
            int o = off + r * stride, so = r * width;
            for (int j = 0; j < width; j++) dst[o + j] += src[so + j];
        }
    }
}
