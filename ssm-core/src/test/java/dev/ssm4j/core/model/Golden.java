package dev.ssm4j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.io.SafetensorsFile;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One golden fixture made by tools/golden/make_model_goldens.py (transformers 5.17). */
final class Golden {
    final String name;
    final Path dir;
    final Map<String, Object> json;
    final int[] tokens, batchRow1, greedyPrompt, greedyOutput;
    final int prefill, greedyNew;
    private final Map<String, float[]> expected = new java.util.HashMap<>();
    private final Map<String, long[]> shapes = new java.util.HashMap<>();

    @SuppressWarnings("unchecked")
    Golden(String name) throws IOException {
        this.name = name;
        try {
            this.dir = Path.of(Golden.class.getResource("/golden/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        json = (Map<String, Object>) Json.parse(dir.resolve("golden.json"));
        tokens = ints(json.get("tokens"));
        batchRow1 = ints(json.get("batch_row1"));
        greedyPrompt = ints(json.get("greedy_prompt"));
        greedyOutput = ints(json.get("greedy_output"));
        prefill = ((Number) json.get("prefill")).intValue();
        greedyNew = ((Number) json.get("greedy_new_tokens")).intValue();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
            for (String n : f.names()) {
                expected.put(n, f.tensor(n).toFloatArray());
                shapes.put(n, f.tensor(n).shape());
            }
        }
    }

    float[] expected(String key) {
        float[] v = expected.get(key);
        if (v == null) throw new IllegalArgumentException(name + ": no expected tensor " + key);
        return v;
    }

    long[] shape(String key) {
        return shapes.get(key);
    }

    private static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }

    /** Max |a − b| over [aOff, aOff + n) vs [bOff, bOff + n). */
    static double maxAbs(float[] a, int aOff, float[] b, int bOff, int n) {
        double m = 0;
        for (int i = 0; i < n; i++) {
            double d = Math.abs((double) a[aOff + i] - b[bOff + i]);
            if (!(d <= m)) m = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        }
        return m;
    }

    static void assertClose(String what, float[] expected, int eOff, float[] actual, int aOff, int n, double tol) {
        double err = maxAbs(expected, eOff, actual, aOff, n);
        assertTrue(err <= tol, what + ": max |error| = " + err + " > " + tol);
    }
}
