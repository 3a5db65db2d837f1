package dev.ssm4j.train.log;

import dev.ssm4j.core.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The small part of a checkpoint that is not tensors: where training stands, so {@code --resume}
 * continues exactly. Stored as {@code trainer_state.json}:
 * <pre>
 * {
 *   "format": "ssm4j-trainer-state",
 *   "version": 1,
 *   "step": 1200,                         optimizer steps done (the next step is 1200)
 *   "optimizer_step": 1200,               the optimizer's own step count (bias corrections)
 *   "rng_state": "9e3779b97f4a7c15",      64-bit states as 16 hex digits (JSON numbers lose
 *   "sampler_state": "00000000000012c0",  precision above 2^53 in many readers)
 *   "extra": { ... }                      anything else (e.g. best eval loss, the command line)
 * }
 * </pre>
 * The 64-bit states are those of {@code dev.ssm4j.train.data.Rng#state()} and
 * {@code BatchSource#state()}.
 */
public record TrainerState(long step, long optimizerStep, long rngState, long samplerState, Map<String, Object> extra) {
    public static final String FILE_NAME = "trainer_state.json";
    private static final String FORMAT = "ssm4j-trainer-state";

    public TrainerState {
        if (step < 0 || optimizerStep < 0) {
            throw new IllegalArgumentException("step " + step + " and optimizerStep " + optimizerStep + " must be >= 0");
        }
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", 1);
        m.put("step", step);
        m.put("optimizer_step", optimizerStep);
        m.put("rng_state", hex(rngState));
        m.put("sampler_state", hex(samplerState));
        m.put("extra", new java.util.TreeMap<>(extra));
        return Json.writePretty(m);
    }

    public static TrainerState fromJson(String json) {
        Map<String, Object> m = JsonFields.object(Json.parse(json), "trainer state");
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("trainer state: format is " + m.get("format") + ", expected " + FORMAT);
        }
        long version = JsonFields.integer(m.get("version"), "trainer state version");
        if (version != 1) throw new IllegalArgumentException("trainer state: version " + version + ", expected 1");
        Object extra = m.get("extra");
        return new TrainerState(JsonFields.integer(m.get("step"), "step"),
                JsonFields.integer(m.get("optimizer_step"), "optimizer_step"),
                unhex(JsonFields.string(m.get("rng_state"), "rng_state")),
                unhex(JsonFields.string(m.get("sampler_state"), "sampler_state")),
                extra == null ? Map.of() : JsonFields.object(extra, "extra"));
    }

    /** Writes {@code dir/trainer_state.json} (temp file + rename). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_NAME);
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads {@code dir/trainer_state.json}. */
    public static TrainerState load(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        try {
            return fromJson(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static String hex(long x) {
        return String.format("%016x", x);
    }

    static long unhex(String s) {
        if (s.length() != 16) throw new IllegalArgumentException("64-bit state '" + s + "': expected 16 hex digits");
        return Long.parseUnsignedLong(s, 16);
    }
}
