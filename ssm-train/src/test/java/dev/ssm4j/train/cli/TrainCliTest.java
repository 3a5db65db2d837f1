package dev.ssm4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ./ssm train, eval and demo end to end on tiny settings, and their bad-input messages. */
class TrainCliTest {
    @TempDir
    Path tmp;

    /** Runs a command line, returning {exit code, stdout, stderr}. */
    private static Object[] run(String... argv) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(argv);
            return new Object[] {code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void trainThenEvalThenResume() throws Exception {
        String out = tmp.resolve("run").toString();
        Object[] r = run("train", "--task", "induction_heads", "--task-params", "vocab=4", "--seq", "16", "--d-model", "8",
                "--layers", "1", "--d-state", "4", "--steps", "3", "--batch", "2", "--out", out, "--quiet", "--no-plot",
                "--save-every", "2");
        assertEquals(0, r[0], r[2].toString());
        assertTrue(r[1].toString().contains("trained 3 steps"), r[1].toString());
        assertEquals(3, Files.readAllLines(Path.of(out, "metrics.jsonl")).size());
        r = run("eval", "--model", out + "/model", "--task", "induction_heads", "--task-params", "vocab=4", "--lengths",
                "16,100", "--sequences", "3", "--chunk", "32", "--threads", "1", "--json");
        assertEquals(0, r[0], r[2].toString());
        String[] lines = r[1].toString().strip().split("\n");
        assertEquals(2, lines.length, r[1].toString());
        assertTrue(lines[1].startsWith("{\"length\": 100, \"sequences\": 3, \"accuracy\": "), lines[1]);
        r = run("train", "--task", "induction_heads", "--task-params", "vocab=4", "--seq", "16", "--d-model", "8",
                "--layers", "1", "--d-state", "4", "--steps", "4", "--batch", "2", "--out", out, "--quiet", "--no-plot",
                "--resume");
        assertEquals(0, r[0], r[2].toString());
        assertEquals(4, Files.readAllLines(Path.of(out, "metrics.jsonl")).size());
    }

    @Test
    void mamba2AndSgdFromTheCommandLine() {
        Object[] r = run("train", "--task", "mqar", "--task-params", "pairs=2,key_vocab=4,value_vocab=4", "--seq", "16",
                "--arch", "mamba2", "--d-model", "16", "--headdim", "8", "--layers", "1", "--d-state", "4",
                "--chunk-size", "8", "--steps", "2", "--batch", "2", "--optimizer", "sgd", "--schedule", "cosine",
                "--out", tmp.resolve("m2").toString(), "--quiet", "--no-plot");
        assertEquals(0, r[0], r[2].toString());
    }

    @Test
    void demoPrintsOneJsonObjectPerLength() throws Exception {
        Object[] r = run("demo", "--steps", "2", "--final-steps", "3", "--final-batch", "2", "--val-length", "100",
                "--val-sequences", "2", "--max-length", "128", "--sequences", "2", "--threads", "1", "--out",
                tmp.resolve("demo").toString(), "--json");
        assertEquals(0, r[0], r[2].toString());
        String[] lines = r[1].toString().strip().split("\n");
        assertEquals(2, lines.length, r[1].toString());
        assertTrue(lines[0].startsWith("{\"length\": 64, \"sequences\": 2, \"accuracy\": "), lines[0]);
        assertTrue(Files.isRegularFile(tmp.resolve("demo/plot.png")));
        assertTrue(Files.isRegularFile(tmp.resolve("demo/stage2/plot.png")));
        assertTrue(Files.isRegularFile(tmp.resolve("demo/model/model.safetensors")));
        assertEquals(3, Files.readAllLines(tmp.resolve("demo/metrics.jsonl")).size(), "stage 3 ran its 3 steps");
        assertTrue(Files.readString(tmp.resolve("demo/metrics.jsonl")).contains("\"dt_penalty\""),
                "stage 3 uses the Δ penalty by default and logs it");
        // Stage 3 again from the saved stage-2 model, without the penalty.
        r = run("demo", "--from", tmp.resolve("demo/stage2/model").toString(), "--final-steps", "2", "--final-batch", "2",
                "--dt-penalty", "0", "--val-length", "0", "--max-length", "64", "--sequences", "2", "--threads", "1",
                "--out", tmp.resolve("demo3").toString(), "--json");
        assertEquals(0, r[0], r[2].toString());
        assertFalse(Files.exists(tmp.resolve("demo3/stage1")), "stages 1-2 skipped");
        assertEquals(2, Files.readAllLines(tmp.resolve("demo3/metrics.jsonl")).size());
        assertFalse(Files.readString(tmp.resolve("demo3/metrics.jsonl")).contains("dt_penalty"));
    }

    @Test
    void demoWithoutStage3AndBadDemoOptions() {
        Object[] r = run("demo", "--steps", "1", "--final-steps", "0", "--max-length", "64", "--sequences", "1",
                "--threads", "1", "--dt-min", "1e-4", "--dt-max", "1e-2", "--a-scale", "0.5", "--out",
                tmp.resolve("d0").toString(), "--json");
        assertEquals(0, r[0], r[2].toString());
        assertEquals(1, r[1].toString().strip().split("\n").length, r[1].toString());
        assertTrue(Files.isRegularFile(tmp.resolve("d0/model/model.safetensors")));
        r = run("demo", "--dt-min", "1e-6", "--dt-max", "1e-8", "--out", tmp.resolve("d1").toString(), "--json");
        assertEquals(1, r[0]);
        assertTrue(r[2].toString().contains("dt_min <= dt_max"), r[2].toString());
        r = run("demo", "--final-batch", "0", "--out", tmp.resolve("d2").toString(), "--json");
        assertEquals(2, r[0]);
        assertTrue(r[2].toString().contains("--final-batch >= 1"), r[2].toString());
        r = run("demo", "--from", tmp.resolve("d0/model").toString(), "--final-steps", "0", "--out",
                tmp.resolve("d3").toString(), "--json");
        assertEquals(2, r[0]);
        assertTrue(r[2].toString().contains("--from needs a stage 3"), r[2].toString());
        r = run("demo", "--dt-penalty", "-1", "--out", tmp.resolve("d4").toString(), "--json");
        assertEquals(2, r[0]);
        assertTrue(r[2].toString().contains("--dt-penalty"), r[2].toString());
    }

    @Test
    void badOptionsAreNamed() {
        Object[] r = run("train", "--task", "induction_heads", "--arch", "gru", "--steps", "1", "--out",
                tmp.resolve("x").toString());
        assertEquals(1, r[0]);
        assertTrue(r[2].toString().contains("--arch must be mamba or mamba2"), r[2].toString());
        r = run("train", "--steps", "1", "--out", tmp.resolve("y").toString(), "--quiet");
        assertEquals(1, r[0]);
        assertTrue(r[2].toString().contains("exactly one of a task"), r[2].toString());
        r = run("eval", "--task", "induction_heads");
        assertEquals(2, r[0]);
        assertTrue(r[2].toString().contains("--model"), r[2].toString());
        r = run("train", "--task", "induction_heads", "--optimizer", "lion", "--out", tmp.resolve("z").toString(),
                "--quiet");
        assertEquals(1, r[0]);
        assertTrue(r[2].toString().contains("--optimizer must be adamw or sgd"), r[2].toString());
    }
}
