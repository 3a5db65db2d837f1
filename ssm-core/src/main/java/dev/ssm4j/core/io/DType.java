package dev.ssm4j.core.io;

/**
 * Element types a safetensors header may name (the byte-sized ones of the format). Every one is
 * accepted when a file is opened, so its offsets can be validated; only {@link #F32},
 * {@link #BF16} and {@link #F16} can be converted to floats ({@link #isFloat()}), reading any
 * other is reported as unsupported when the values are accessed.
 */
public enum DType {
    F32(4), BF16(2), F16(2), F64(8),
    I64(8), I32(4), I16(2), I8(1),
    U64(8), U32(4), U16(2), U8(1),
    BOOL(1), F8_E4M3(1), F8_E5M2(1), F8_E8M0(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for the types ssm4j converts to float: F32, BF16, F16. */
    public boolean isFloat() {
        return this == F32 || this == BF16 || this == F16;
    }

    /** The type named {@code name} in a header (exact, upper case), or null if there is none. */
    public static DType fromHeader(String name) {
        for (DType t : values()) if (t.name().equals(name)) return t;
        return null;
    }

    /** bfloat16 bits → float (exact: bf16 is the top half of a float). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float → bfloat16 bits, rounded to nearest even; NaN stays a (quiet) NaN of the same sign. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x0040);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
