package dev.ssm4j.train.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Replaces a directory (a checkpoint) all at once, so a crash at any moment leaves either the old
 * complete checkpoint or the new complete one, never a mix:
 * <ol>
 *   <li>the new content is written into a sibling {@code NAME.tmp-XXXX} (XXXX random);</li>
 *   <li>every file in it, and the folder itself, is fsync'ed;</li>
 *   <li>the current {@code NAME} (if any) is renamed to {@code NAME.old-XXXX};</li>
 *   <li>{@code NAME.tmp-XXXX} is renamed to {@code NAME}, and the parent folder fsync'ed;</li>
 *   <li>{@code NAME.old-XXXX} is deleted.</li>
 * </ol>
 * POSIX cannot rename a folder over a non-empty one, hence steps 3–4. A crash between them leaves
 * no {@code NAME} but a complete {@code NAME.old-XXXX}: {@link #recover} (called at the start of
 * every {@link #write}, and to be called before reading a checkpoint) renames it back and deletes
 * leftover temporary folders. Folder fsync is best effort (not every OS allows opening a folder).
 */
public final class AtomicDirectory {
    private AtomicDirectory() {}

    /** Fills a fresh empty folder with the checkpoint's files. */
    @FunctionalInterface
    public interface Content {
        void writeInto(Path dir) throws IOException;
    }

    /** Writes {@code target} atomically: see the class comment. */
    public static void write(Path target, Content content) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        recover(abs);
        String name = abs.getFileName().toString();
        Path tmp = Files.createTempDirectory(parent, name + ".tmp-");
        try {
            content.writeInto(tmp);
            syncTree(tmp);
        } catch (IOException | RuntimeException | Error e) {
            deleteTree(tmp);
            throw e;
        }
        Path old = null;
        if (Files.exists(abs)) {
            old = parent.resolve(name + ".old-" + tmp.getFileName().toString().substring(name.length() + 5));
            move(abs, old);
        }
        move(tmp, abs);
        syncDir(parent);
        if (old != null) deleteTree(old);
    }

    /**
     * Restores {@code target} after a crash in {@link #write}: if it is missing but a complete
     * {@code NAME.old-*} exists, renames that back; deletes every {@code NAME.tmp-*} and any
     * {@code NAME.old-*} that is no longer needed. Does nothing when there is nothing to do.
     */
    public static void recover(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (!Files.isDirectory(parent)) return;
        String name = abs.getFileName().toString();
        List<Path> tmps = new ArrayList<>();
        List<Path> olds = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(name + ".tmp-")) tmps.add(p);
                else if (n.startsWith(name + ".old-")) olds.add(p);
            }
        }
        for (Path t : tmps) deleteTree(t);
        if (!Files.exists(abs) && !olds.isEmpty()) {
            olds.sort(Comparator.comparing(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    return java.nio.file.attribute.FileTime.fromMillis(0);
                }
            }));
            Path newest = olds.removeLast();
            move(newest, abs);
            syncDir(parent);
        }
        for (Path o : olds) deleteTree(o);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** fsync of every regular file under {@code dir}, then of every folder (deepest first). */
    static void syncTree(Path dir) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                        ch.force(true);
                    }
                } else if (Files.isDirectory(p)) {
                    dirs.add(p);
                }
            }
        }
        for (int i = dirs.size() - 1; i >= 0; i--) syncDir(dirs.get(i));
    }

    private static void syncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Best effort: some systems (Windows) cannot open a folder for fsync.
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = s.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) Files.deleteIfExists(p);
        }
    }
}
