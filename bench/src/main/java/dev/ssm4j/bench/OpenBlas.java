package dev.ssm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS's {@code cblas_sgemm} through java.lang.foreign, for benchmarking our GEMM against it.
 * Not a dependency: the library is looked up at run time ({@code $SSM_OPENBLAS}, then
 * libopenblas.so.0 / libopenblas.so under /usr/lib/x86_64-linux-gnu and its openblas-pthread
 * directory, then the dynamic linker's search path; {@code SSM_OPENBLAS=none} skips it). On Debian:
 * {@code apt-get install libopenblas0}.
 *
 * <p>Operands are native {@link MemorySegment}s (row-major, like our kernels), so calls copy nothing.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private final Path path;
    private final MethodHandle sgemm, setThreads, getConfig;

    private OpenBlas(Path path, SymbolLookup lib) {
        this.path = path;
        Linker linker = Linker.nativeLinker();
        var i = ValueLayout.JAVA_INT;
        var f = ValueLayout.JAVA_FLOAT;
        var p = ValueLayout.ADDRESS;
        sgemm = linker.downcallHandle(find(lib, "cblas_sgemm"),
                FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, p, i, p, i, f, p, i));
        setThreads = linker.downcallHandle(find(lib, "openblas_set_num_threads"), FunctionDescriptor.ofVoid(i));
        getConfig = lib.find("openblas_get_config")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.ADDRESS)))
                .orElse(null);
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("OpenBLAS library lacks symbol " + name));
    }

    /** Candidate library files, most specific first. */
    static List<Path> candidates() {
        List<Path> c = new ArrayList<>();
        String env = System.getenv("SSM_OPENBLAS");
        if (env != null && !env.isBlank()) c.add(Path.of(env));
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/openblas-pthread",
                "/usr/lib64", "/usr/lib", "/usr/local/lib"}) {
            c.add(Path.of(dir, "libopenblas.so.0"));
            c.add(Path.of(dir, "libopenblas.so"));
        }
        return c;
    }

    /** The library, or empty (with the reason on stderr) when it cannot be loaded. */
    public static Optional<OpenBlas> load() {
        if ("none".equals(System.getenv("SSM_OPENBLAS"))) {
            System.err.println("OpenBLAS disabled (SSM_OPENBLAS=none), leaving it out");
            return Optional.empty();
        }
        List<String> tried = new ArrayList<>();
        for (Path p : candidates()) {
            if (!Files.exists(p)) continue;
            try {
                return Optional.of(new OpenBlas(p, SymbolLookup.libraryLookup(p, Arena.global())));
            } catch (RuntimeException e) {
                tried.add(p + ": " + e.getMessage());
            }
        }
        try {
            return Optional.of(new OpenBlas(Path.of("libopenblas.so.0"), SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global())));
        } catch (RuntimeException e) {
            tried.add("libopenblas.so.0 (linker search path): " + e.getMessage());
        }
        System.err.println("OpenBLAS not found, leaving it out (apt-get install libopenblas0, or set SSM_OPENBLAS=/path/libopenblas.so)"
                + (tried.isEmpty() ? "" : "; tried " + String.join("; ", tried)));
        return Optional.empty();
    }

    public Path path() {
        return path;
    }

    /** OpenBLAS's build description (version, kernel target), or "?" when the symbol is missing. */
    public String config() {
        if (getConfig == null) return "?";
        try {
            MemorySegment s = (MemorySegment) getConfig.invokeExact();
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "?";
        }
    }

    /** OpenBLAS's own thread count (process-wide). */
    public void setThreads(int threads) {
        try {
            setThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    /** Row-major C = α·op(A)·op(B) + β·C on native segments (floats, leading dimensions in elements). */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
            MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb,
                    beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }
}
