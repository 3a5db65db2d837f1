package dev.ssm4j.kernels.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The shape of the chunked kernels' bytecode that keeps C2 from boxing vectors (docs/ssd.md,
 * "Allocation and the JIT"): every method of the chunked SIMD classes that calls a VectorMath vector
 * function (exp, log1pUnit, sigmoid, sumLanes, …: thousands of IR nodes each once inlined) is longer
 * than 325 bytecodes, C2's FreqInlineSize, so that C2 never inlines it into the big loop methods —
 * whose inlining budget is spent elsewhere, where such a call is left out and its vectors boxed
 * (74–590 KB per forward call at l = 256–2048 before). It is compiled on its own, where its few
 * VectorMath calls fit. Reads the class files; runs nothing.
 */
class SsdJitShapeTest {
    /** C2's FreqInlineSize (default on every platform): a hot callee longer than this is never inlined. */
    static final int FREQ_INLINE_SIZE = 325;

    @Test
    void methodsCallingVectorMathAreCompiledOnTheirOwn() throws IOException {
        Set<String> callers = new TreeSet<>();
        List<String> tooShort = new ArrayList<>();
        for (Class<?> c : List.of(SsdChunked.class, SsdChunkedBackward.class, SsdChunkOps.class)) {
            for (MethodModel m : classModel(c).methods()) {
                CodeModel code = m.code().orElse(null);
                if (code == null || !callsVectorMath(code)) continue;
                String name = c.getSimpleName() + "." + m.methodName().stringValue();
                callers.add(name);
                int length = codeLength(m);
                if (length <= FREQ_INLINE_SIZE) tooShort.add(name + " (" + length + " bytecodes)");
            }
        }
        assertTrue(tooShort.isEmpty(), "methods calling VectorMath that C2 may inline into a big loop method "
                + "(make them longer than " + FREQ_INLINE_SIZE + " bytecodes or move the call, see docs/ssd.md): "
                + tooShort);
        // the three that exist today; a new one must be checked with -XX:+LogCompilation (docs/ssd.md)
        assertEquals(Set.of("SsdChunkOps.deltas", "SsdChunkedBackward.triangle", "SsdChunkedBackward.epilogue"),
                callers);
    }

    private static boolean callsVectorMath(CodeModel code) {
        for (var e : code) {
            if (e instanceof InvokeInstruction inv
                    && inv.owner().asInternalName().equals("dev/ssm4j/kernels/VectorMath")
                    && inv.typeSymbol().descriptorString().contains("jdk/incubator/vector/")) {
                return true;
            }
        }
        return false;
    }

    private static ClassModel classModel(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            assertNotNull(in, c.getName());
            return ClassFile.of().parse(in.readAllBytes());
        }
    }

    /** Bytes of the method's bytecode (the code_length of its Code attribute). */
    private static int codeLength(MethodModel m) {
        return m.findAttribute(Attributes.code()).orElseThrow().codeLength();
    }
}
