package dev.ssm4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The plain C peers of the memory-bound kernels ({@code peer_kernels.c}, shipped in this jar),
 * compiled at run time by the machine's C compiler and called through java.lang.foreign — on the
 * Java arrays themselves: critical downcalls with heap access pass a {@code float[]}'s address, so
 * the C code reads and writes exactly the memory our kernels do, at the same alignment (a large
 * Java array's data starts 16 bytes past a 64-byte boundary). Not a dependency: when no compiler
 * is found ({@code $CC}, then cc, gcc, clang on the PATH) or it fails, {@link #load} says why and
 * the bench leaves the peer out.
 */
final class CPeer {
    /** The flags the peer is built with: what "plain C, compiler-vectorised" means here. */
    static final List<String> FLAGS = List.of("-O3", "-march=native", "-ffast-math", "-fopenmp-simd", "-shared", "-fPIC");

    final String compiler;
    private final MethodHandle address, copy, triad, silu, rmsnorm, rmsnormBackward, conv4, conv4Backward;
    /** The tuned (AVX-512 intrinsics + prefetch) peers; null when the compiler did not target AVX-512. */
    private final CPeer tunedView;

    private CPeer(String compiler, SymbolLookup lib) {
        this.compiler = compiler;
        Linker linker = Linker.nativeLinker();
        var p = ValueLayout.ADDRESS;
        var i = ValueLayout.JAVA_INT;
        var j = ValueLayout.JAVA_LONG;
        var f = ValueLayout.JAVA_FLOAT;
        Linker.Option heap = Linker.Option.critical(true);
        address = linker.downcallHandle(find(lib, "peer_address"), FunctionDescriptor.of(j, p), heap);
        copy = linker.downcallHandle(find(lib, "peer_copy"), FunctionDescriptor.ofVoid(p, p, j), heap);
        triad = linker.downcallHandle(find(lib, "peer_triad"), FunctionDescriptor.ofVoid(p, p, p, j), heap);
        silu = linker.downcallHandle(find(lib, "peer_silu"), FunctionDescriptor.ofVoid(p, p, j), heap);
        rmsnorm = linker.downcallHandle(find(lib, "peer_rmsnorm"), FunctionDescriptor.ofVoid(p, p, p, p, i, i, f), heap);
        rmsnormBackward = linker.downcallHandle(find(lib, "peer_rmsnorm_backward"),
                FunctionDescriptor.ofVoid(p, p, p, p, p, p, i, i), heap);
        conv4 = linker.downcallHandle(find(lib, "peer_conv4_silu"), FunctionDescriptor.of(i, p, p, p, p, i, i), heap);
        conv4Backward = linker.downcallHandle(find(lib, "peer_conv4_silu_backward"),
                FunctionDescriptor.of(i, p, p, p, p, p, p, p, i, i), heap);
        boolean tuned;
        try {
            tuned = (int) linker.downcallHandle(find(lib, "peer_tuned"), FunctionDescriptor.of(i)).invokeExact() == 1;
        } catch (Throwable e) {
            throw new IllegalStateException("peer_tuned failed", e);
        }
        tunedView = tuned ? new CPeer(this, linker.downcallHandle(find(lib, "peer_tuned_rmsnorm"),
                        FunctionDescriptor.ofVoid(p, p, p, p, i, i, f), heap),
                linker.downcallHandle(find(lib, "peer_tuned_rmsnorm_backward"), FunctionDescriptor.ofVoid(p, p, p, p, p, p, i, i), heap),
                linker.downcallHandle(find(lib, "peer_tuned_conv4_silu"), FunctionDescriptor.of(i, p, p, p, p, i, i), heap),
                linker.downcallHandle(find(lib, "peer_tuned_conv4_silu_backward"),
                        FunctionDescriptor.of(i, p, p, p, p, p, p, p, i, i), heap)) : null;
    }

    /** The tuned peers behind the same methods: the plain ones' copy, triad and SiLU, the tuned norms and conv. */
    private CPeer(CPeer plain, MethodHandle rmsnorm, MethodHandle rmsnormBackward, MethodHandle conv4,
                  MethodHandle conv4Backward) {
        this.compiler = plain.compiler;
        this.address = plain.address;
        this.copy = plain.copy;
        this.triad = plain.triad;
        this.silu = plain.silu;
        this.rmsnorm = rmsnorm;
        this.rmsnormBackward = rmsnormBackward;
        this.conv4 = conv4;
        this.conv4Backward = conv4Backward;
        this.tunedView = null;
    }

    /**
     * The tuned peers (peer_kernels.c, "Tuned peers": AVX-512 intrinsics with software prefetch) of the
     * RMSNorm forward and backward and the conv1d forward and backward, behind this class's methods;
     * empty unless the compiler targeted AVX-512.
     */
    Optional<CPeer> tuned() {
        return Optional.ofNullable(tunedView);
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("compiled peer lacks symbol " + name));
    }

    /** The address of a[off] while the call runs (a GC may move a small array later; large ones stay). */
    long address(float[] a, int off) {
        try {
            return (long) address.invokeExact(at(a, off));
        } catch (Throwable e) {
            throw new IllegalStateException("peer_address failed", e);
        }
    }

    private static MemorySegment at(float[] a, int off) {
        return MemorySegment.ofArray(a).asSlice((long) off * Float.BYTES);
    }

    /** y[0, n) = x[0, n), both from element off. */
    void copy(float[] y, float[] x, int off, int n) {
        try {
            copy.invokeExact(at(y, off), at(x, off), (long) n);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_copy failed", e);
        }
    }

    /** z += x·y on [off, off + n). */
    void triad(float[] z, float[] x, float[] y, int off, int n) {
        try {
            triad.invokeExact(at(z, off), at(x, off), at(y, off), (long) n);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_triad failed", e);
        }
    }

    /** y = silu(x) on [off, off + n). */
    void silu(float[] y, float[] x, int off, int n) {
        try {
            silu.invokeExact(at(y, off), at(x, off), (long) n);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_silu failed", e);
        }
    }

    /** RMSNorm of rows × d, contiguous rows from element off of x and y. */
    void rmsnorm(float[] y, float[] rstd, float[] x, float[] w, int off, int rows, int d, float eps) {
        try {
            rmsnorm.invokeExact(at(y, off), MemorySegment.ofArray(rstd), at(x, off), MemorySegment.ofArray(w), rows, d, eps);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_rmsnorm failed", e);
        }
    }

    /** RMSNorm backward (no gate, one group): dx += …, dweight += …, rows of d from element off of dx, dy, x. */
    void rmsnormBackward(float[] dx, float[] dweight, float[] dy, float[] x, float[] rstd, float[] w, int off, int rows, int d) {
        try {
            rmsnormBackward.invokeExact(at(dx, off), MemorySegment.ofArray(dweight), at(dy, off), at(x, off),
                    MemorySegment.ofArray(rstd), MemorySegment.ofArray(w), rows, d);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_rmsnorm_backward failed", e);
        }
    }

    /** Causal conv1d of width 4 with bias and SiLU over (l, d) from element off of x and y; weight (d, 4). */
    void conv4Silu(float[] y, float[] x, int off, float[] weight, float[] bias, int l, int d) {
        int rc;
        try {
            rc = (int) conv4.invokeExact(at(y, off), at(x, off), MemorySegment.ofArray(weight),
                    MemorySegment.ofArray(bias), l, d);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_conv4_silu failed", e);
        }
        if (rc != 0) throw new IllegalStateException("peer_conv4_silu could not allocate its (4, " + d + ") weight copy");
    }

    /** Backward of {@link #conv4Silu}: dx += …, dweight (d, 4) += …, dbias += …, from element off of dx, dy, x. */
    void conv4SiluBackward(float[] dx, float[] dweight, float[] dbias, float[] dy, float[] x, int off, float[] weight,
                           float[] bias, int l, int d) {
        int rc;
        try {
            rc = (int) conv4Backward.invokeExact(at(dx, off), MemorySegment.ofArray(dweight), MemorySegment.ofArray(dbias),
                    at(dy, off), at(x, off), MemorySegment.ofArray(weight), MemorySegment.ofArray(bias), l, d);
        } catch (Throwable e) {
            throw new IllegalStateException("peer_conv4_silu_backward failed", e);
        }
        if (rc != 0) throw new IllegalStateException("peer_conv4_silu_backward could not allocate its (8, " + d + ") scratch");
    }

    /** Compilers to try, in order. */
    static List<String> compilers() {
        List<String> c = new ArrayList<>();
        String env = System.getenv("CC");
        if (env != null && !env.isBlank()) c.add(env.trim());
        c.addAll(List.of("cc", "gcc", "clang"));
        return c;
    }

    /** The compiled peer, or empty with the reason on stderr. */
    static Optional<CPeer> load() {
        Path dir;
        try {
            dir = Files.createTempDirectory("ssm4j-peer");
            dir.toFile().deleteOnExit();
        } catch (IOException e) {
            System.err.println("C peer left out: no temporary directory (" + e.getMessage() + ")");
            return Optional.empty();
        }
        Path src = dir.resolve("peer_kernels.c"), lib = dir.resolve("libssm4jpeer.so");
        try (InputStream in = CPeer.class.getResourceAsStream("peer_kernels.c")) {
            if (in == null) throw new IOException("resource peer_kernels.c missing from the bench jar");
            Files.copy(in, src);
        } catch (IOException e) {
            System.err.println("C peer left out: " + e.getMessage());
            return Optional.empty();
        }
        src.toFile().deleteOnExit();
        lib.toFile().deleteOnExit();
        List<String> tried = new ArrayList<>();
        for (String cc : compilers()) {
            List<String> cmd = new ArrayList<>();
            cmd.add(cc);
            cmd.addAll(FLAGS);
            cmd.addAll(List.of("-o", lib.toString(), src.toString(), "-lm"));
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    tried.add(cc + ": timed out");
                    continue;
                }
                if (p.exitValue() != 0) {
                    tried.add(cc + ": exit " + p.exitValue() + (out.isBlank() ? "" : ", " + out.lines().findFirst().orElse("")));
                    continue;
                }
                return Optional.of(new CPeer(cc + " " + String.join(" ", FLAGS.subList(0, 4)),
                        SymbolLookup.libraryLookup(lib, Arena.global())));
            } catch (IOException e) {
                tried.add(cc + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                tried.add(cc + ": interrupted");
                break;
            } catch (RuntimeException e) {
                tried.add(cc + ": " + e.getMessage());
            }
        }
        System.err.println("C peer left out: no C compiler built it (" + String.join("; ", tried) + ")");
        return Optional.empty();
    }
}
