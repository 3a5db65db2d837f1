package dev.ssm4j.core.model;

import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafeTensor;
import dev.ssm4j.core.io.SafetensorsFile;
import dev.ssm4j.core.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * {@link InferenceState} files: safetensors with F32 tensors {@code layers.{i}.conv_state}
 * (b, w − 1, convDim) and {@code layers.{i}.ssm_state} (b, d, n) | (b, h, p, n), and metadata
 * {@code format = ssm4j-state/1}, {@code model_hash} ({@link ModelSpec#hash()}), {@code model}
 * (the spec, for messages), {@code batch}, {@code positions} (comma-separated). Written atomically.
 */
final class StateFiles {
    static final String FORMAT = "ssm4j-state/1";

    private StateFiles() {}

    static void save(InferenceState st, Path file) throws IOException {
        ModelSpec s = st.spec();
        int b = st.batch();
        StringBuilder pos = new StringBuilder();
        for (int r = 0; r < b; r++) pos.append(r == 0 ? "" : ",").append(st.position(r));
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", FORMAT).metadata("model_hash", s.hash())
                .metadata("model", s.toString()).metadata("batch", Integer.toString(b))
                .metadata("positions", pos.toString());
        for (int i = 0; i < s.layers; i++) {
            w.add("layers." + i + ".conv_state", DType.F32, st.conv(i), 0, convShape(s, b));
            w.add("layers." + i + ".ssm_state", DType.F32, st.ssm(i), 0, ssmShape(s, b));
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        w.write(file);
    }

    static InferenceState load(Path file, ModelSpec spec) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> md = f.metadata();
            if (!FORMAT.equals(md.get("format"))) {
                throw new IllegalArgumentException(file + ": not an ssm4j state file (metadata format = "
                        + md.get("format") + ", expected " + FORMAT + ")");
            }
            if (!spec.hash().equals(md.get("model_hash"))) {
                throw new IllegalArgumentException(file + ": state was saved for model " + md.get("model") + " (hash "
                        + md.get("model_hash") + "), not for " + spec + " (hash " + spec.hash() + ")");
            }
            int b;
            long[] pos;
            try {
                b = Integer.parseInt(md.get("batch"));
                String[] p = md.get("positions").split(",");
                pos = new long[p.length];
                for (int r = 0; r < p.length; r++) pos[r] = Long.parseLong(p[r].trim());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": malformed batch/positions metadata: batch="
                        + md.get("batch") + ", positions=" + md.get("positions"));
            }
            if (b < 1 || pos.length != b) {
                throw new IllegalArgumentException(file + ": batch " + b + " but " + pos.length + " positions");
            }
            InferenceState st = InferenceState.allocate(spec, b);
            for (int i = 0; i < spec.layers; i++) {
                read(f, file, "layers." + i + ".conv_state", convShape(spec, b), st.conv(i));
                read(f, file, "layers." + i + ".ssm_state", ssmShape(spec, b), st.ssm(i));
            }
            for (int r = 0; r < b; r++) st.setPosition(r, pos[r]);
            return st;
        }
    }

    private static void read(SafetensorsFile f, Path file, String name, int[] shape, float[] dst) {
        if (!f.contains(name)) throw new IllegalArgumentException(file + ": state tensor '" + name + "' is missing");
        SafeTensor t = f.tensor(name);
        long[] want = Arrays.stream(shape).asLongStream().toArray();
        if (!t.hasShape(want) || t.dtype() != DType.F32) {
            throw new IllegalArgumentException(file + ": state tensor '" + name + "' is " + t.dtype() + t.shapeString()
                    + ", expected F32" + Arrays.toString(shape));
        }
        t.copyTo(dst, 0);
    }

    static int[] convShape(ModelSpec s, int b) {
        return new int[] {b, s.convWidth - 1, s.convDim};
    }

    static int[] ssmShape(ModelSpec s, int b) {
        return s.kind == ModelSpec.Kind.MAMBA1 ? new int[] {b, s.dInner, s.dState}
                : new int[] {b, s.heads, s.headDim, s.dState};
    }
}
