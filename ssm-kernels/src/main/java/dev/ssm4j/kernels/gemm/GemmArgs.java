package dev.ssm4j.kernels.gemm;

/**
 * Argument checks shared by every GEMM entry point (SIMD and scalar), so that bad shapes fail
 * with an {@link IllegalArgumentException} that names the argument and the size it needs, never
 * with an index error from inside a kernel.
 *
 * <p>Row-major storage: a matrix with r rows and c columns stored at offset {@code off} with
 * leading dimension {@code ld} (distance between row starts, ≥ c) needs
 * {@code off + (r − 1)·ld + c} elements when r, c &gt; 0.
 */
final class GemmArgs {
    private GemmArgs() {}

    static void checkSizes(int m, int n, int k) {
        nonNegative("m", m);
        nonNegative("n", n);
        nonNegative("k", k);
    }

    static void nonNegative(String name, long v) {
        if (v < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + v);
    }

    /**
     * Checks one stored matrix: {@code rows × cols} elements of {@code x} at {@code off} with leading
     * dimension {@code ld}. {@code what} describes the logical shape for the message (e.g. "a (transA=false, m×k)").
     */
    static void checkMatrix(String name, String what, float[] x, int off, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("ld" + name + " must be >= " + Math.max(1, cols) + " for " + what
                    + " stored as " + rows + "x" + cols + ", got " + ld);
        }
        if (off < 0) throw new IllegalArgumentException(name + "Off must be >= 0, got " + off);
        if (rows == 0 || cols == 0) return;
        if (x == null) throw new IllegalArgumentException(name + " is null but " + what + " is " + rows + "x" + cols);
        long need = off + (long) (rows - 1) * ld + cols;
        if (need > x.length) {
            throw new IllegalArgumentException(name + " too short for " + what + " stored as " + rows + "x" + cols
                    + " with " + name + "Off=" + off + ", ld" + name + "=" + ld + ": need " + name + ".length >= " + need
                    + ", got " + x.length);
        }
    }

    /** Full check of one sgemm call's arguments. */
    static void checkGemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
            float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        checkSizes(m, n, k);
        checkMatrix("a", transA ? "A (transA=true: k x m)" : "A (transA=false: m x k)", a, aOff, lda,
                transA ? k : m, transA ? m : k);
        checkMatrix("b", transB ? "B (transB=true: n x k)" : "B (transB=false: k x n)", b, bOff, ldb,
                transB ? n : k, transB ? k : n);
        checkMatrix("c", "C (m x n)", c, cOff, ldc, m, n);
        if (m > 0 && n > 0) {
            checkNoOverlap("c", c, cOff, ldc, m, n, "a", a, aOff, lda, transA ? k : m, transA ? m : k);
            checkNoOverlap("c", c, cOff, ldc, m, n, "b", b, bOff, ldb, transB ? n : k, transB ? k : n);
        }
    }

    /**
     * C must not share storage with an input: the kernels write C while they still read A and B.
     * The check is on the spanned element ranges (conservative for interleaved layouts).
     */
    static void checkNoOverlap(String cn, float[] c, int cOff, int ldc, int m, int n,
            String xn, float[] x, int xOff, int ldx, int rows, int cols) {
        if (c != x || rows == 0 || cols == 0) return;
        long c0 = cOff, c1 = cOff + (long) (m - 1) * ldc + n;
        long x0 = xOff, x1 = xOff + (long) (rows - 1) * ldx + cols;
        if (c0 < x1 && x0 < c1) {
            throw new IllegalArgumentException(cn + " and " + xn + " are the same array and their ranges overlap ("
                    + cn + " [" + c0 + ", " + c1 + "), " + xn + " [" + x0 + ", " + x1 + ")): the output must not alias an input");
        }
    }

    /**
     * The batch's output matrices must not overlap (they are written in parallel): either whole
     * matrices apart ({@code strideC ≥ (m−1)·ldc + n}) or interleaved column blocks
     * ({@code strideC ≥ n} and {@code (batch−1)·strideC + n ≤ ldc}).
     */
    static void checkBatch(int batch, int m, int n, int k, boolean transA, boolean transB,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float[] c, int cOff, int ldc, int strideC) {
        nonNegative("batch", batch);
        nonNegative("strideA", strideA);
        nonNegative("strideB", strideB);
        nonNegative("strideC", strideC);
        checkSizes(m, n, k);
        if (batch == 0) return;
        int last = batch - 1;
        // Checking the first and the last matrix of each operand covers all between them.
        checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        checkGemm(transA, transB, m, n, k, a, offset("a", aOff, last, strideA), lda, b, offset("b", bOff, last, strideB),
                ldb, c, offset("c", cOff, last, strideC), ldc);
        if (batch > 1 && m > 0 && n > 0) {
            boolean apart = strideC >= (long) (m - 1) * ldc + n;
            boolean interleaved = strideC >= n && (long) last * strideC + n <= ldc;
            if (!apart && !interleaved) {
                throw new IllegalArgumentException("strideC=" + strideC + " makes the " + batch + " output matrices (m=" + m
                        + ", n=" + n + ", ldc=" + ldc + ") overlap: need strideC >= " + ((long) (m - 1) * ldc + n)
                        + ", or strideC >= n with (batch-1)*strideC + n <= ldc");
            }
        }
        // An input may be shared by all items (stride 0), but no item's C may overlap any item's A or B.
        if (c != null && (c == a || c == b) && m > 0 && n > 0) {
            long cEnd = offset("c", cOff, last, strideC) + (long) (m - 1) * ldc + n;
            if (c == a) spanOverlap("a", cOff, cEnd, aOff, offset("a", aOff, last, strideA)
                    + (long) ((transA ? k : m) - 1) * lda + (transA ? m : k), (transA ? m : k) > 0);
            if (c == b) spanOverlap("b", cOff, cEnd, bOff, offset("b", bOff, last, strideB)
                    + (long) ((transB ? k : n) - 1) * ldb + (transB ? n : k), (transB ? k : n) > 0);
        }
    }

    private static void spanOverlap(String xn, long c0, long c1, long x0, long x1, boolean nonEmpty) {
        if (nonEmpty && c0 < x1 && x0 < c1) {
            throw new IllegalArgumentException("c and " + xn + " are the same array and the batch's ranges overlap (c ["
                    + c0 + ", " + c1 + "), " + xn + " [" + x0 + ", " + x1 + ")): the output must not alias an input");
        }
    }

    private static int offset(String name, int off, int index, int stride) {
        long o = off + (long) index * stride;
        if (o > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + "Off + (batch-1)*stride" + name.toUpperCase() + " = " + o
                    + " exceeds the largest array index");
        }
        return (int) o;
    }

    /** Checks of {@code Gemm.linear}: y (m × n, row stride ldy) = x (m × k, row stride ldx) · Wᵀ + bias, W is n × k. */
    static void checkLinear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int m, int k, WeightMatrix w,
            float[] bias) {
        if (w == null) throw new IllegalArgumentException("w is null");
        nonNegative("m", m);
        nonNegative("k", k);
        if (w.cols() != k) {
            throw new IllegalArgumentException("w has " + w.cols() + " columns (input features) but k=" + k
                    + ": W must be n x k = " + w.rows() + " x " + k);
        }
        int n = w.rows();
        checkMatrix("x", "x (m x k)", x, xOff, ldx, m, k);
        checkMatrix("y", "y (m x n)", y, yOff, ldy, m, n);
        if (bias != null && bias.length < n) {
            throw new IllegalArgumentException("bias too short: need length >= n = " + n + ", got " + bias.length);
        }
        if (m > 0 && n > 0) {
            checkNoOverlap("y", y, yOff, ldy, m, n, "x", x, xOff, ldx, m, k);
            if (y == w.array) checkNoOverlap("y", y, yOff, ldy, m, n, "w", w.array, w.arrayOffset,
                    (int) w.rowStride, n, k);
        }
    }
}
