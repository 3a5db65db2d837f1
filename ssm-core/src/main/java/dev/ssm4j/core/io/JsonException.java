package dev.ssm4j.core.io;

/**
 * A JSON document that could not be parsed. The message always reads
 * {@code "<source>:<line>:<column>: <what was expected>, found <what was there>"}, lines and
 * columns counted from 1 (columns in UTF-16 characters, as an editor shows them for BMP text).
 */
public final class JsonException extends IllegalArgumentException {
    private final String source;
    private final int line;
    private final int column;

    JsonException(String source, int line, int column, String detail) {
        super(source + ":" + line + ":" + column + ": " + detail);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    /** Name of the parsed document (usually a file path). */
    public String source() {
        return source;
    }

    /** 1-based line of the error. */
    public int line() {
        return line;
    }

    /** 1-based column of the error. */
    public int column() {
        return column;
    }
}
