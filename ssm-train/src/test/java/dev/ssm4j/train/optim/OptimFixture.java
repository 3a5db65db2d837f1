package dev.ssm4j.train.optim;

import dev.ssm4j.core.io.Json;
import dev.ssm4j.train.log.JsonFields;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads the torch fixtures of ssm-train/src/test/resources/optim/ (tools/golden/make_optim_goldens.py). */
final class OptimFixture {
    final Map<String, Object> json;
    final List<String> names = new ArrayList<>();
    final List<int[]> shapes = new ArrayList<>();
    final List<String> groups = new ArrayList<>();
    final List<float[]> params = new ArrayList<>();
    final List<List<float[]>> grads = new ArrayList<>(); // [step][tensor]
    final double[] lrs;
    final double noDecayLrScale;

    OptimFixture(String resource) {
        try (InputStream in = OptimFixture.class.getResourceAsStream("/optim/" + resource)) {
            if (in == null) throw new IllegalStateException("missing test resource /optim/" + resource);
            json = JsonFields.object(Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)), resource);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        for (Object o : JsonFields.array(json.get("params"), "params")) {
            Map<String, Object> p = JsonFields.object(o, "param");
            names.add(JsonFields.string(p.get("name"), "name"));
            shapes.add(JsonFields.ints(p.get("shape"), "shape"));
            groups.add(JsonFields.string(p.get("group"), "group"));
            params.add(JsonFields.floats(p.get("data"), "data"));
        }
        for (Object step : JsonFields.array(json.get("grads"), "grads")) {
            List<float[]> g = new ArrayList<>();
            for (Object t : JsonFields.array(step, "grads[t]")) g.add(JsonFields.floats(t, "grad"));
            grads.add(g);
        }
        List<Object> l = JsonFields.array(json.get("lrs"), "lrs");
        lrs = l.stream().mapToDouble(x -> JsonFields.number(x, "lr")).toArray();
        noDecayLrScale = JsonFields.number(json.get("no_decay_lr_scale"), "no_decay_lr_scale");
    }

    /** A store with the fixture's tensors (grouped by the Mamba rule) and initial parameters. */
    ParameterStore store() {
        ParameterStore.Builder b = ParameterStore.builder();
        for (int i = 0; i < names.size(); i++) b.add(names.get(i), shapes.get(i));
        ParameterStore s = b.build();
        for (int i = 0; i < names.size(); i++) s.setData(names.get(i), params.get(i));
        return s;
    }

    void setGrads(ParameterStore s, int step) {
        for (int i = 0; i < names.size(); i++) s.setGrad(names.get(i), grads.get(step).get(i));
    }

    /** Concatenation of per-tensor arrays (expected values) in store order. */
    static float[] flat(Object perTensor) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (Object t : JsonFields.array(perTensor, "expected")) {
            float[] a = JsonFields.floats(t, "expected");
            parts.add(a);
            n += a.length;
        }
        float[] out = new float[n];
        int off = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, off, a.length);
            off += a.length;
        }
        return out;
    }

    /** Max over elements of |a − e| / max(|e|, floor). */
    static double maxRel(float[] expected, float[] actual, double floor) {
        if (expected.length != actual.length) throw new AssertionError("length " + actual.length + " != " + expected.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
            if (!(d <= worst)) worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        }
        return worst;
    }
}
