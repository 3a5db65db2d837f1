package dev.ssm4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Process-wide kernel switches, read once from system properties at class-load time so that the
 * JIT sees them as constants.
 *
 * <ul>
 *   <li>{@code -Dssm4j.vector.bits=128|256|512} forces the SIMD width (default: the machine's
 *       preferred width, e.g. 512 on AVX-512, 256 on AVX2).</li>
 *   <li>{@code -Dssm4j.kernels.scalar=true} makes every dispatching kernel entry point take its
 *       plain scalar twin instead of the SIMD code.</li>
 * </ul>
 */
public final class KernelConfig {
    private KernelConfig() {}

    /** The float species every SIMD kernel uses. */
    public static final VectorSpecies<Float> F = pickSpecies();

    /** Lanes of {@link #F}. */
    public static final int LANES = F.length();

    /** True when {@code -Dssm4j.kernels.scalar=true}: dispatchers use the scalar twins. */
    public static final boolean FORCE_SCALAR = Boolean.getBoolean("ssm4j.kernels.scalar");

    private static VectorSpecies<Float> pickSpecies() {
        String bits = System.getProperty("ssm4j.vector.bits");
        if (bits == null || bits.isBlank() || bits.equals("preferred")) {
            return FloatVector.SPECIES_PREFERRED;
        }
        try {
            return FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(Integer.parseInt(bits.trim())))
                    .check(float.class); // the element type is the primitive float
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "-Dssm4j.vector.bits=" + bits + " is not a vector size this JVM supports (try 128, 256 or 512)", e);
        }
    }

    /** One line describing the active configuration, for benchmark reports. */
    public static String describe() {
        return "vector=" + F.vectorBitSize() + "bit(" + LANES + " lanes)" + (FORCE_SCALAR ? " scalar-forced" : "");
    }
}
