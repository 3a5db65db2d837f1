package dev.ssm4j.kernels.act;

import static dev.ssm4j.kernels.KernelConfig.F;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.Parallel;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;

/**
 * Token embedding: row ids[i] of a (vocab, d) row-major table becomes token i of the output,
 * {@code out[outOff + i·outStride + c] = table[ids[idsOff + i]·d + c]}. Backward scatter-adds each
 * token's gradient row into the table gradient: {@code dtable[id·d + c] += dout[i][c]} (a token id
 * that occurs k times gets the sum of its k rows; tied input/output embeddings simply call both
 * backwards into the same dtable).
 *
 * <p>Every id is checked before anything is written; an id outside [0, vocab) is an
 * IllegalArgumentException naming the id, its position and the vocab size.
 */
public final class Embedding {
    private Embedding() {}

    private static final int COLUMN_ALIGN = 64;

    /** out (n, d) ← rows of table (vocab, d) picked by ids[idsOff .. idsOff + n). */
    public static void forward(float[] out, int outOff, int outStride, int[] ids, int idsOff, int n, float[] table,
                               int vocab, int d) {
        check(out, outOff, outStride, "out", ids, idsOff, n, table, "table", vocab, d);
        if (KernelConfig.FORCE_SCALAR) gatherScalar(out, outOff, outStride, ids, idsOff, n, table, d);
        else gatherFast(out, outOff, outStride, ids, idsOff, n, table, d);
    }

    /** dtable (vocab, d) += scatter of dout (n, d) by ids. Threads split the columns, so no two write the same float. */
    public static void backward(float[] dtable, float[] dout, int doutOff, int doutStride, int[] ids, int idsOff, int n,
                                int vocab, int d, ForkJoinPool pool) {
        check(dout, doutOff, doutStride, "dout", ids, idsOff, n, dtable, "dtable", vocab, d);
        int blocks = (d + COLUMN_ALIGN - 1) / COLUMN_ALIGN;
        int grain = Math.max(1, Activations.GRAIN_ELEMENTS / Math.max(1, n * COLUMN_ALIGN));
        Parallel.forRange(pool, blocks, grain, (b0, b1) -> {
            int c0 = b0 * COLUMN_ALIGN, c1 = Math.min(d, b1 * COLUMN_ALIGN);
            if (KernelConfig.FORCE_SCALAR) scatterScalar(dtable, dout, doutOff, doutStride, ids, idsOff, n, d, c0, c1);
            else scatterSimd(dtable, dout, doutOff, doutStride, ids, idsOff, n, d, c0, c1);
        });
    }

    /** Scalar twin of the forward; the vocab is table.length / d. */
    public static void forwardScalar(float[] out, int outOff, int outStride, int[] ids, int idsOff, int n, float[] table,
                                     int d) {
        checkTwin(out, outOff, outStride, "out", ids, idsOff, n, table, "table", d, 0, d);
        gatherScalar(out, outOff, outStride, ids, idsOff, n, table, d);
    }

    private static void gatherScalar(float[] out, int outOff, int outStride, int[] ids, int idsOff, int n, float[] table,
                                     int d) {
        for (int i = 0; i < n; i++) {
            int row = ids[idsOff + i] * d;
            for (int c = 0; c < d; c++) out[outOff + i * outStride + c] = table[row + c];
        }
    }

    /** Fast twin of the forward: a row copy is what System.arraycopy does best (it is vectorised by the JVM). */
    public static void forwardFast(float[] out, int outOff, int outStride, int[] ids, int idsOff, int n, float[] table,
                                   int d) {
        checkTwin(out, outOff, outStride, "out", ids, idsOff, n, table, "table", d, 0, d);
        gatherFast(out, outOff, outStride, ids, idsOff, n, table, d);
    }

    private static void gatherFast(float[] out, int outOff, int outStride, int[] ids, int idsOff, int n, float[] table,
                                   int d) {
        for (int i = 0; i < n; i++) System.arraycopy(table, ids[idsOff + i] * d, out, outOff + i * outStride, d);
    }

    /** Scalar twin of the backward over columns [c0, c1). */
    public static void backwardScalar(float[] dtable, float[] dout, int doutOff, int doutStride, int[] ids, int idsOff,
                                      int n, int d, int c0, int c1) {
        checkTwin(dout, doutOff, doutStride, "dout", ids, idsOff, n, dtable, "dtable", d, c0, c1);
        scatterScalar(dtable, dout, doutOff, doutStride, ids, idsOff, n, d, c0, c1);
    }

    private static void scatterScalar(float[] dtable, float[] dout, int doutOff, int doutStride, int[] ids, int idsOff,
                                      int n, int d, int c0, int c1) {
        for (int i = 0; i < n; i++) {
            int row = ids[idsOff + i] * d, src = doutOff + i * doutStride;
            for (int c = c0; c < c1; c++) dtable[row + c] += dout[src + c];
        }
    }

    /** SIMD twin of the backward over columns [c0, c1): LANES columns of one token row per vector. */
    public static void backwardSimd(float[] dtable, float[] dout, int doutOff, int doutStride, int[] ids, int idsOff,
                                    int n, int d, int c0, int c1) {
        checkTwin(dout, doutOff, doutStride, "dout", ids, idsOff, n, dtable, "dtable", d, c0, c1);
        scatterSimd(dtable, dout, doutOff, doutStride, ids, idsOff, n, d, c0, c1);
    }

    private static void scatterSimd(float[] dtable, float[] dout, int doutOff, int doutStride, int[] ids, int idsOff,
                                    int n, int d, int c0, int c1) {
        int L = F.length();
        for (int i = 0; i < n; i++) {
            int row = ids[idsOff + i] * d, src = doutOff + i * doutStride;
            int c = c0;
            for (; c <= c1 - L; c += L) {
                FloatVector.fromArray(F, dtable, row + c).add(FloatVector.fromArray(F, dout, src + c)).intoArray(dtable, row + c);
            }
            for (; c < c1; c++) dtable[row + c] += dout[src + c];
        }
    }

    /** Checks of the public twins, which take no vocab: it is table.length / d. */
    private static void checkTwin(float[] rows, int off, int stride, String rowsName, int[] ids, int idsOff, int n,
                                  float[] table, String tableName, int d, int c0, int c1) {
        if (d < 1 || table == null || table.length % d != 0) {
            throw new IllegalArgumentException(tableName + " length " + (table == null ? "null" : table.length)
                    + " is not a whole number of rows of d=" + d);
        }
        if (c0 < 0 || c1 > d || c0 > c1) {
            throw new IllegalArgumentException("column range [" + c0 + ", " + c1 + ") is not inside [0, d=" + d + ")");
        }
        check(rows, off, stride, rowsName, ids, idsOff, n, table, tableName, table.length / d, d);
    }

    private static void check(float[] rows, int off, int stride, String rowsName, int[] ids, int idsOff, int n,
                              float[] table, String tableName, int vocab, int d) {
        if (vocab < 1 || d < 1) throw new IllegalArgumentException("embedding needs vocab >= 1 and d >= 1, got vocab="
                + vocab + ", d=" + d);
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (table == null || table.length != (long) vocab * d) {
            throw new IllegalArgumentException(tableName + " has length " + (table == null ? "null" : table.length)
                    + ", expected (vocab=" + vocab + ", d=" + d + ") = " + (long) vocab * d);
        }
        if (ids == null || idsOff < 0 || idsOff + (long) n > ids.length) {
            throw new IllegalArgumentException("ids: " + (ids == null ? "null" : "array of length " + ids.length)
                    + " cannot hold " + n + " ids at offset " + idsOff);
        }
        ActChecks.rows(rowsName, rows, off, stride, n, d);
        for (int i = 0; i < n; i++) {
            int id = ids[idsOff + i];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at position " + i + " is out of range for vocab size "
                        + vocab + " (valid ids are 0.." + (vocab - 1) + ")");
            }
        }
    }
}
