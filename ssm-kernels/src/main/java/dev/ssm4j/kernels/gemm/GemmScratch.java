package dev.ssm4j.kernels.gemm;

/**
 * Reusable per-thread buffers of the GEMM kernels, so a call allocates nothing in its loops and,
 * once the buffers have grown to the largest shape seen, nothing at all.
 *
 * <ul>
 *   <li>{@link #packA}: the packed block of a transposed A (at most MC × KC floats) of the thread
 *       that runs a compute task; used only inside one task, which never waits on other tasks, so
 *       it cannot be re-entered.</li>
 *   <li>{@link #tile}, {@link #part}, {@link #sums}, {@link #reduceTmp}: micro-tile and reduction
 *       scratch, same rule.</li>
 *   <li>the shared buffer ({@link #takeShared}): owned by the thread that <em>calls</em> the GEMM
 *       for the whole call, read by all its tasks (the packed block of B, at most KC × NC floats, or
 *       the decode path's copy of the few rows of A). A calling thread that is itself a pool
 *       worker may, while it waits for its tasks, run a task of another GEMM call that also needs a
 *       shared buffer; then the buffer is busy and that call gets a fresh array instead.</li>
 * </ul>
 *
 * Memory kept per thread, grown to the largest shape it has seen and kept for the life of the
 * thread: the packed-A block (transA only, at most MC·KC floats = 300 KB with the default blocking
 * of {@link GemmPacked}), the tile buffers (≈ 20 KB), and, on threads that call GEMMs, the shared
 * buffer (at most KC·NC floats = 9.4 MB).
 */
final class GemmScratch {
    private static final ThreadLocal<GemmScratch> LOCAL = ThreadLocal.withInitial(GemmScratch::new);

    private float[] packA = new float[0];
    private float[] shared = new float[0];
    private boolean sharedBusy;
    /** Micro-tile of the packed kernel (MR × NR), accumulators of the decode axpy path (MAX_M × AXPY_W). */
    final float[] tile = new float[Math.max(GemmKernel.MR * GemmKernel.NR, GemmDecode.MAX_M * GemmDecode.AXPY_W)];
    /** Unreduced dot-product vectors of the decode path: MAX_M rows of X × L rows of W × L lanes. */
    final float[] part = new float[GemmDecode.MAX_M * GemmKernel.L * GemmKernel.L];
    /** Lane sums of one group of L rows, and the reduction tree's scratch. */
    final float[] sums = new float[GemmKernel.L];
    final float[] reduceTmp = new float[Math.max(GemmKernel.L, GemmKernel.L * GemmKernel.L / 2)];

    static GemmScratch local() {
        return LOCAL.get();
    }

    /** The packed-A buffer, grown to at least {@code size}. */
    float[] packA(int size) {
        if (packA.length < size) packA = new float[size];
        return packA;
    }

    /** A buffer of at least {@code size} floats for the duration of one call; pair with {@link #releaseShared}. */
    float[] takeShared(int size) {
        if (sharedBusy) return new float[size];
        sharedBusy = true;
        if (shared.length < size) shared = new float[size];
        return shared;
    }

    void releaseShared(float[] buffer) {
        if (buffer == shared) sharedBusy = false;
    }
}
