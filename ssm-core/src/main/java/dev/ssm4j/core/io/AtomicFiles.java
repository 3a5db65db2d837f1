package dev.ssm4j.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: the content goes to a temporary file in the target's directory,
 * is forced to disk ({@code fsync}), and is then renamed over the target with
 * {@link StandardCopyOption#ATOMIC_MOVE}. A reader therefore sees either the old file or the
 * complete new one, never a half-written file; on any failure the temporary file is deleted and
 * the target is left untouched. The directory is fsynced afterwards where the OS allows it, so
 * the rename itself survives a power cut.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file through an open channel (positioned at 0). */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    /** Atomically replaces {@code target} with {@code bytes}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Atomically replaces {@code target} with whatever {@code body} writes. */
    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null) throw new IOException(target + ": cannot write a file without a parent directory");
        Files.createDirectories(dir);
        if (Files.isDirectory(abs)) throw new IOException(target + ": is a directory, cannot replace it with a file");
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(target + ": the file system cannot rename atomically", e);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
    }

    /** Writes all remaining bytes of {@code buf} (a channel may write fewer per call). */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void syncDirectory(Path dir) {
        // Linux allows fsync on a directory opened read-only; other systems may refuse. Best effort.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // The data itself is already durable; only the rename's durability is best effort.
        }
    }
}
