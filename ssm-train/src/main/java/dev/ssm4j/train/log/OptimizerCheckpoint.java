package dev.ssm4j.train.log;

import dev.ssm4j.train.optim.Optimizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and restores an optimizer's state buffers in a checkpoint folder, one 1-D float32
 * {@code .npy} file per buffer: {@code optimizer.exp_avg.npy}, {@code optimizer.exp_avg_sq.npy}
 * (AdamW), {@code optimizer.momentum_buffer.npy} (SGD with momentum). The step count goes in
 * {@link TrainerState#optimizerStep()}. Also used for other flat float arrays of a checkpoint
 * (e.g. the EMA shadow) via {@link #writeFloats} / {@link #readFloats}.
 *
 * <p>STAND-IN: the .npy writing/reading here is minimal (1-D little-endian float32 only); once
 * {@code dev.ssm4j.core.io.Npy} (or safetensors support) is merged, the lead may move these buffers
 * into it.
 */
public final class OptimizerCheckpoint {
    private OptimizerCheckpoint() {}

    /** Writes every buffer of {@code opt.state()} into {@code dir}. */
    public static void save(Path dir, Optimizer opt) throws IOException {
        Files.createDirectories(dir);
        for (var e : opt.state().entrySet()) writeFloats(dir.resolve("optimizer." + e.getKey() + ".npy"), e.getValue());
    }

    /** Reads the buffers that {@code opt} has from {@code dir} and restores them with {@code stepCount}. */
    public static void load(Path dir, Optimizer opt, long stepCount) throws IOException {
        Map<String, float[]> saved = new LinkedHashMap<>();
        for (String name : opt.state().keySet()) saved.put(name, readFloats(dir.resolve("optimizer." + name + ".npy")));
        opt.loadState(saved, stepCount);
    }

    /** A 1-D little-endian float32 .npy file. */
    public static void writeFloats(Path file, float[] a) throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + a.length + ",), }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + header.length + 4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length).put(header);
        b.asFloatBuffer().put(a);
        Files.write(file, b.array());
    }

    /** Reads a file written by {@link #writeFloats} (1-D little-endian float32 .npy, version 1). */
    public static float[] readFloats(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (all.length < 10 || (all[0] & 0xFF) != 0x93 || all[1] != 'N' || all[6] != 1) {
            throw new IOException(file + " is not a version-1 .npy file");
        }
        int hl = b.getShort(8) & 0xFFFF;
        String header = new String(all, 10, Math.min(hl, all.length - 10), StandardCharsets.ISO_8859_1);
        var m = java.util.regex.Pattern.compile("'shape'\\s*:\\s*\\((\\d+),\\)").matcher(header);
        if (!header.contains("'descr': '<f4'") || !m.find()) {
            throw new IOException(file + " has header " + header.trim() + "; expected a 1-D '<f4' array");
        }
        long n = Long.parseLong(m.group(1));
        if (all.length - 10 - hl != 4 * n) {
            throw new IOException(file + " has " + (all.length - 10 - hl) + " data bytes, expected 4 * " + n);
        }
        float[] out = new float[(int) n];
        FloatBuffer fb = ByteBuffer.wrap(all, 10 + hl, (int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        fb.get(out);
        return out;
    }
}
