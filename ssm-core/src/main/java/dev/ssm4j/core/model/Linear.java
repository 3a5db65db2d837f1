package dev.ssm4j.core.model;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafeTensor;
import dev.ssm4j.kernels.gemm.Gemm;
import dev.ssm4j.kernels.gemm.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ForkJoinPool;

/**
 * A weight matrix W (outDim, inDim) of a linear layer, y = x·Wᵀ (+ bias), or of the embedding:
 * an adapter over the gemm kernels' {@link WeightMatrix} that also remembers where the values
 * live (for row lookups and saving). Storage: a float[] view (trainer's flat array, or a converted
 * tensor), an F32 memory-mapped tensor, or BF16 (mapped, or converted into an off-heap segment).
 * Every segment handed to the kernels is a plain native segment ({@link #kernelView}).
 */
final class Linear {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final WeightMatrix w;
    private final float[] arr;          // F32 on heap, or null
    private final int arrOff;
    private final MemorySegment seg;    // F32 / BF16 segment, or null
    private final long segOff;
    private final boolean bf16;
    private final int outDim, inDim;

    private Linear(WeightMatrix w, float[] arr, int arrOff, MemorySegment seg, long segOff, boolean bf16, int outDim,
                   int inDim) {
        this.w = w;
        this.arr = arr;
        this.arrOff = arrOff;
        this.seg = seg;
        this.segOff = segOff;
        this.bf16 = bf16;
        this.outDim = outDim;
        this.inDim = inDim;
    }

    /** A view of {@code a[off ..]} as (outDim, inDim) row-major. */
    static Linear ofArray(float[] a, int off, int outDim, int inDim) {
        return new Linear(WeightMatrix.of(a, off, outDim, inDim), a, off, null, 0, false, outDim, inDim);
    }

    /**
     * A checkpoint tensor (outDim, inDim). {@code bf16}: held as BF16, else F32. {@code mapped}: used
     * in place when the file type is the wanted one (through {@link #kernelView}); otherwise (and by
     * default) copied — F32 into a float[], BF16 into a GC-managed off-heap segment (F32/F16 rounded
     * to nearest even once).
     */
    static Linear ofTensor(SafeTensor t, int outDim, int inDim, boolean bf16, boolean mapped) {
        if (bf16) {
            if (mapped && t.dtype() == DType.BF16) {
                MemorySegment s = kernelView(t.segment());
                return new Linear(WeightMatrix.bf16(s, 0, outDim, inDim), null, 0, s, 0, true, outDim, inDim);
            }
            if (t.dtype() != DType.BF16) return copyOf(t.toFloatArray(), outDim, inDim, true);
            MemorySegment m = Arena.ofAuto().allocate(2L * outDim * inDim, 64);
            MemorySegment.copy(t.segment(), 0, m, 0, m.byteSize());
            return new Linear(WeightMatrix.bf16(m, 0, outDim, inDim), null, 0, m, 0, true, outDim, inDim);
        }
        if (mapped && t.dtype() == DType.F32) {
            MemorySegment s = kernelView(t.segment());
            return new Linear(WeightMatrix.f32(s, 0, outDim, inDim), null, 0, s, 0, false, outDim, inDim);
        }
        return ofArray(t.toFloatArray(), 0, outDim, inDim);
    }

    /**
     * The bytes of a mapped tensor as a plain native segment: same address, size, scope (reading it
     * after the file is closed still throws) and read-only flag, but of the class every other
     * segment weight has (the off-heap copies of BF16 matrices). Why: the kernels' Vector API loads
     * ({@code FloatVector/ShortVector.fromMemorySegment}) are only intrinsified when the JIT knows
     * whether the segment is on or off the heap; it learns that from the type profile of the JDK's
     * shared load code, which every caller in the process feeds. A second (or third) segment class
     * at those sites — a mapped segment next to a native one, or a heap segment — can turn the
     * loads into the allocating Java fallback, several times slower. One class for all weight
     * segments (and float[] for copied F32 weights) keeps every site monomorphic.
     *
     * <p>{@code reinterpret} is a restricted method: without {@code --enable-native-access} the JVM
     * prints a one-time warning (the {@code ./ssm} launcher and the tests enable it); where native
     * access is denied the mapped segment is used as it is.
     */
    static MemorySegment kernelView(MemorySegment mapped) {
        if (!mapped.isNative() || !mapped.isMapped()) return mapped;
        try {
            return mapped.reinterpret(mapped.byteSize());
        } catch (IllegalCallerException e) {
            return mapped;
        }
    }

    /** A copy of {@code values} (outDim, inDim): F32 on the heap, or BF16 in native memory. */
    static Linear copyOf(float[] values, int outDim, int inDim, boolean bf16) {
        if (!bf16) return ofArray(values.clone(), 0, outDim, inDim);
        MemorySegment m = Arena.ofAuto().allocate(2L * outDim * inDim, 64);
        for (int i = 0; i < values.length; i++) m.set(I16_LE, 2L * i, DType.floatToBf16(values[i]));
        return new Linear(WeightMatrix.bf16(m, 0, outDim, inDim), null, 0, m, 0, true, outDim, inDim);
    }

    /** The segment the kernels read (null for a float[] matrix); for tests. */
    MemorySegment segment() {
        return seg;
    }

    boolean isBf16() {
        return bf16;
    }

    int outDim() {
        return outDim;
    }

    int inDim() {
        return inDim;
    }

    /** Bytes of the values as held. */
    long bytes() {
        return (bf16 ? 2L : 4L) * outDim * inDim;
    }

    /**
     * y (m, outDim) dense at yOff = x (m, inDim) dense at xOff · Wᵀ (+ bias). {@code biasScratch}
     * (≥ outDim floats) receives a copy of a bias view that is not a whole array (the kernel takes
     * no bias offset).
     */
    void apply(float[] y, int yOff, float[] x, int xOff, int m, Vec bias, float[] biasScratch, ForkJoinPool pool) {
        float[] b = null;
        if (bias != null) {
            if (bias.off() == 0) {
                b = bias.a();
            } else {
                System.arraycopy(bias.a(), bias.off(), biasScratch, 0, bias.n());
                b = biasScratch;
            }
        }
        Gemm.linear(y, yOff, x, xOff, m, inDim, w, b, pool);
    }

    /**
     * y (m, outDim) at (yOff, ldy) = x (m, inDim) at (xOff, ldx) · Wᵀ, for strided operands (e.g.
     * dt_proj reading the first R columns of x_proj's output). Needs a float[] matrix.
     */
    void applyStrided(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, ForkJoinPool pool) {
        if (arr == null) throw new IllegalStateException("strided linear needs a float[] weight, got " + w);
        Gemm.sgemm(false, true, m, outDim, inDim, 1f, x, xOff, ldx, arr, arrOff, inDim, 0f, y, yOff, ldy, pool);
    }

    /** Row r of W (e.g. an embedding vector) as floats into dst[dstOff .. dstOff + inDim). */
    void row(int r, float[] dst, int dstOff) {
        if (arr != null) {
            System.arraycopy(arr, arrOff + r * inDim, dst, dstOff, inDim);
        } else if (!bf16) {
            MemorySegment.copy(seg, F32_LE, segOff + 4L * r * inDim, dst, dstOff, inDim);
        } else {
            long base = segOff + 2L * r * inDim;
            for (int k = 0; k < inDim; k++) {
                dst[dstOff + k] = Float.intBitsToFloat((seg.get(I16_LE, base + 2L * k) & 0xffff) << 16);
            }
        }
    }
}
