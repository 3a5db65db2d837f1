package dev.ssm4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParameterStoreTest {
    static ParameterStore mambaLike() {
        return ParameterStore.builder()
                .add("backbone.embeddings.weight", 10, 4)             // decay     0..40
                .add("backbone.layers.0.norm.weight", 4)              // no_decay 40..44
                .add("backbone.layers.0.mixer.in_proj.weight", 16, 4) // decay    44..108
                .add("backbone.layers.0.mixer.conv1d.weight", 8, 1, 3) // decay  108..132
                .add("backbone.layers.0.mixer.conv1d.bias", 8)        // no_decay 132..140
                .add("backbone.layers.0.mixer.A_log", 8, 2)           // no_decay 140..156
                .add("backbone.layers.0.mixer.D", 8)                  // no_decay 156..164
                .add("backbone.norm_f.weight", 4)                     // no_decay 164..168
                .build();
    }

    @Test
    void layoutLookupAndRanges() {
        ParameterStore s = mambaLike();
        assertEquals(168, s.size());
        assertEquals(8, s.count());
        assertEquals(s.size(), s.data().length);
        assertEquals(s.size(), s.grad().length);
        ParameterStore.View v = s.view("backbone.layers.0.mixer.conv1d.weight");
        assertEquals(108, v.offset());
        assertEquals(24, v.size());
        assertArrayEquals(new int[] {8, 1, 3}, v.shape());
        assertEquals(3, v.index());
        assertEquals(ParameterStore.DECAY, v.group());
        List<ParameterStore.Range> expected = List.of(
                new ParameterStore.Range("decay", 0, 40), new ParameterStore.Range("no_decay", 40, 4),
                new ParameterStore.Range("decay", 44, 88), new ParameterStore.Range("no_decay", 132, 36));
        assertEquals(expected, s.ranges());
        assertEquals(List.of("decay", "no_decay"), s.groups());
        assertEquals(128, s.groupSize("decay"));
        assertEquals(40, s.groupSize("no_decay"));
        // iteration in order, contiguous
        List<String> names = new ArrayList<>();
        int off = 0;
        for (ParameterStore.View x : s) {
            names.add(x.name());
            assertEquals(off, x.offset());
            off += x.size();
        }
        assertEquals(s.size(), off);
        assertEquals("backbone.embeddings.weight", names.getFirst());
        assertTrue(s.contains("backbone.layers.0.mixer.D"));
        assertFalse(s.contains("nope"));
    }

    @Test
    void setCopyAndZeroGrad() {
        ParameterStore s = mambaLike();
        float[] d = new float[8];
        for (int i = 0; i < 8; i++) d[i] = i + 1;
        s.setData("backbone.layers.0.mixer.D", d);
        assertEquals(1f, s.data()[156]);
        assertArrayEquals(d, s.copyData("backbone.layers.0.mixer.D"));
        s.setGrad("backbone.layers.0.mixer.D", d);
        s.grad()[0] = 3;
        s.zeroGrad();
        for (float g : s.grad()) assertEquals(0f, g);
        var e = assertThrows(IllegalArgumentException.class, () -> s.setData("backbone.layers.0.mixer.D", new float[7]));
        assertTrue(e.getMessage().contains("7") && e.getMessage().contains("[8]"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> s.view("backbone.layers.9.mixer.D"));
        assertTrue(e2.getMessage().contains("backbone.layers.9.mixer.D"), e2.getMessage());
    }

    @Test
    void rejectsDuplicatesAndBadShapes() {
        assertThrows(IllegalArgumentException.class, () -> ParameterStore.builder().add("a", 2).add("a", 3).build());
        var e = assertThrows(IllegalArgumentException.class, () -> ParameterStore.builder().add("a", 2, 0).build());
        assertTrue(e.getMessage().contains("[2, 0]"), e.getMessage());
    }

    @Test
    void mambaGroupingRule() {
        String[] noDecay = {"backbone.layers.3.mixer.A_log", "backbone.layers.0.mixer.D", "backbone.layers.1.mixer.dt_proj.bias",
            "backbone.layers.1.mixer.dt_bias", "backbone.layers.1.norm.weight", "backbone.layers.1.mixer.norm.weight",
            "backbone.norm_f.weight", "backbone.layers.0.mixer.in_proj.bias", "backbone.layers.0.mixer.conv1d.bias"};
        String[] decay = {"backbone.embeddings.weight", "lm_head.weight", "backbone.layers.0.mixer.in_proj.weight",
            "backbone.layers.0.mixer.conv1d.weight", "backbone.layers.0.mixer.x_proj.weight",
            "backbone.layers.0.mixer.dt_proj.weight", "backbone.layers.0.mixer.out_proj.weight",
            "backbone.layers.0.mixer.Dx"};
        for (String n : noDecay) assertEquals(ParameterStore.NO_DECAY, MambaGrouping.groupOf(n), n);
        for (String n : decay) assertEquals(ParameterStore.DECAY, MambaGrouping.groupOf(n), n);
    }

    @Test
    void mambaGroupingIsTheRuleOfTheModelGoldens() throws java.io.IOException {
        for (String model : new String[] {"mamba1", "mamba1_tied", "mamba2", "mamba2_tied"}) {
            try (var in = ParameterStoreTest.class.getResourceAsStream("/golden/" + model + "/adamw.json")) {
                assertTrue(in != null, "missing golden " + model);
                var json = dev.ssm4j.train.log.JsonFields.object(dev.ssm4j.core.io.Json.parse(
                        new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)), model);
                assertEquals(json.get("no_weight_decay_suffixes"), MambaGrouping.NO_DECAY_SUFFIXES, model);
            }
        }
    }

    @Test
    void customGroupingAndLrScale() {
        ParameterStore s = ParameterStore.builder(n -> n.startsWith("emb") ? "embed" : "rest")
                .add("emb", 3).add("w", 2).addGrouped("x", "rest", 1).build();
        assertEquals(List.of(new ParameterStore.Range("embed", 0, 3), new ParameterStore.Range("rest", 3, 3)), s.ranges());
        s.grad()[0] = s.grad()[3] = 1;
        var groups = new java.util.HashMap<String, ParamGroup>();
        groups.put("embed", new ParamGroup(0, 0.0)); // frozen by lrScale 0
        groups.put("rest", new ParamGroup(0, 1.0));
        new Sgd(s, 0, 0, false, groups).step(0.5);
        assertEquals(0f, s.data()[0]);
        assertEquals(-0.5f, s.data()[3]);
    }
}
