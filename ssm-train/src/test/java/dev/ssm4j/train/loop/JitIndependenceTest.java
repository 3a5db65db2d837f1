package dev.ssm4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.train.cli.Main;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * "Seeded and reproducible" must not depend on the JIT: a short training run in this JVM (where
 * earlier tests have left the kernels C2-compiled) and the same run in a fresh JVM with
 * {@code -Xint} (everything interpreted, the Vector API lane by lane in Java) must log the same
 * losses and gradient norms to the last bit. This catches any kernel whose result depends on the
 * compilation tier: the JDK's lanewise EXP/LOG1P (a vector math library in C2, {@code Math} in the
 * interpreter) and reduceLanes (different summation orders) both did before they were replaced.
 */
class JitIndependenceTest {

    private static List<String> args(String arch, Path log, int steps) {
        return List.of("train", "--task", "induction_heads", "--task-params", "length=24", "--arch", arch,
                "--d-model", "16", "--layers", "1", "--d-state", "5", "--headdim", "8", "--steps", Integer.toString(steps), "--batch", "2",
                "--seq", "24", "--seed", "11", "--quiet", "--no-plot", "--log", log.toString(), "--out",
                log.resolveSibling(log.getFileName() + ".out").toString());
    }

    /** step, loss and grad_norm of each metrics line, as text (so the comparison is bitwise). */
    private static List<String> trajectory(Path log) throws Exception {
        try (Stream<String> lines = Files.lines(log)) {
            return lines.map(l -> l.replaceAll(".*(\"step\":[^,]*),(\"loss\":[^,]*),.*(\"grad_norm\":[^,}]*).*", "$1 $2 $3"))
                    .collect(Collectors.toList());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba2"})
    void interpretedRunLogsTheSameBitsAsThisJvm(String arch, @TempDir Path dir) throws Exception {
        Path here = dir.resolve("here.jsonl"), xint = dir.resolve("xint.jsonl");
        // Warm-up: enough steps at the same shapes that C2 compiles the kernels' hot loops here.
        assertEquals(0, Main.run(args(arch, dir.resolve("warm.jsonl"), 500).toArray(String[]::new)));
        assertEquals(0, Main.run(args(arch, here, 3).toArray(String[]::new)));

        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        String cp = Stream.of(System.getProperty("jdk.module.path", ""), System.getProperty("java.class.path", ""))
                .filter(s -> !s.isEmpty()).collect(Collectors.joining(File.pathSeparator));
        cmd.addAll(List.of("-Xint", "--add-modules", "jdk.incubator.vector", "-cp", cp, Main.class.getName()));
        cmd.addAll(args(arch, xint, 3));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("xint.out").toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the -Xint run did not finish in 5 minutes");
        assertEquals(0, p.exitValue(), () -> "the -Xint run failed: " + read(dir.resolve("xint.out")));

        List<String> a = trajectory(here), b = trajectory(xint);
        assertEquals(3, a.size());
        assertTrue(a.get(0).contains("grad_norm"), a.get(0));
        assertEquals(a, b, "C2-compiled and interpreted training diverge");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no output: " + e + ")";
        }
    }
}
