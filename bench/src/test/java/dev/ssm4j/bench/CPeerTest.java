package dev.ssm4j.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The C peer of {@code ./ssm bench conv --peer} computes what our kernels compute, forward and
 * backward, on odd shapes (fewer tokens than the conv's width, lengths off its 8-token blocks, d off
 * every vector width) and at two offsets into the arrays:
 * a benchmark against a peer doing other work would mean nothing; the tuned (AVX-512) peers too, where
 * the compiler targets AVX-512. Needs a C compiler; the bench
 * itself leaves the peer out without one, and so does this test.
 */
class CPeerTest {
    @Test
    void peerMatchesOurKernelsOnOddShapes() {
        Optional<CPeer> peer = CPeer.load();
        assumeTrue(peer.isPresent(), "no C compiler on this machine");
        for (int[] shape : new int[][] {{1, 1}, {2, 7}, {7, 17}, {37, 100}, {40, 1536}, {27, 48}}) {
            for (int off : new int[] {0, 5}) {
                for (String kernel : ConvPeer.KERNELS) {
                    ConvPeer.Case k = new ConvPeer.Case(shape[0], shape[1]);
                    assertDoesNotThrow(() -> ConvPeer.check(kernel, k, off, peer.get()),
                            kernel + " l=" + shape[0] + " d=" + shape[1] + " off=" + off);
                    if (peer.get().tuned().isPresent() && ConvPeer.TUNED.contains(kernel)) {
                        assertDoesNotThrow(() -> ConvPeer.check(kernel, k, off, peer.get().tuned().get()),
                                "tuned " + kernel + " l=" + shape[0] + " d=" + shape[1] + " off=" + off);
                    }
                }
            }
        }
        float[] a = new float[64];
        long at0 = peer.get().address(a, 0), at5 = peer.get().address(a, 5);
        org.junit.jupiter.api.Assertions.assertEquals(5L * Float.BYTES, at5 - at0, "element 5 is 20 bytes on");
        // And the comparison does catch a peer computing something else.
        float[] want = new float[100], got = new float[100];
        java.util.Arrays.fill(want, 1f);
        java.util.Arrays.fill(got, 1f);
        assertDoesNotThrow(() -> ConvPeer.compare("y", want, got, 0, 100, 0f));
        got[99] = 1.001f;
        assertThrows(IllegalStateException.class, () -> ConvPeer.compare("y", want, got, 0, 100, 0f));
        assertDoesNotThrow(() -> ConvPeer.compare("y", want, got, 0, 99, 0f), "outside the range is not compared");
        got[99] = Float.NaN;
        assertThrows(IllegalStateException.class, () -> ConvPeer.compare("y", want, got, 0, 100, 0f));
        got[99] = 1.3f;                                         // within 1e-4 of a sum whose terms reach 5000
        assertDoesNotThrow(() -> ConvPeer.compare("dweight", want, got, 0, 100, 5000f));
    }
}
