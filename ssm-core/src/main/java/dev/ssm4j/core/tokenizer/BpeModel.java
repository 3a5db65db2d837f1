package dev.ssm4j.core.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model proper: vocabulary, ranked merges, and the merge loop for one pre-tokenized word.
 *
 * <p>A word (a string of byte characters, see {@link ByteLevel}) starts as one symbol per
 * character. Then, repeatedly, among all adjacent symbol pairs that have a merge, the pair with
 * the lowest rank (earliest line of the merges list) is merged — the leftmost one if the same pair
 * occurs several times — until no adjacent pair has a merge. A min-heap of (rank, position) keeps
 * this O(n log n) for long words; entries made stale by earlier merges are skipped when popped.
 */
final class BpeModel {
    final Map<String, Integer> vocab;
    /** (left id, right id) → (rank, merged id), packed in longs. */
    private final LongLongMap merges;
    private final int unkId; // -1: characters missing from the vocabulary are dropped (HF without unk_token)
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 100_000;

    BpeModel(Map<String, Integer> vocab, LongLongMap merges, int unkId, boolean fuseUnk, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    /** Appends the ids of {@code word} to {@code out}; returns the new length. */
    int tokenize(String word, int[] out, int n) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word);
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(word, ids);
        }
        System.arraycopy(ids, 0, out, n, ids.length);
        return n + ids.length;
    }

    private int[] merge(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[] {whole};
        }
        // Symbols as a doubly linked list over arrays: id, prev, next (−1 = none), alive.
        int len = word.length();
        int[] id = new int[len];
        int m = 0;
        for (int i = 0; i < len; ) {
            int cp = word.codePointAt(i);
            int cl = Character.charCount(cp);
            Integer v = vocab.get(word.substring(i, i + cl));
            i += cl;
            if (v != null) id[m++] = v;
            else if (unkId >= 0 && !(fuseUnk && m > 0 && id[m - 1] == unkId)) id[m++] = unkId;
        }
        if (m < 2) return Arrays.copyOf(id, m);
        int[] prev = new int[m], next = new int[m];
        boolean[] dead = new boolean[m];
        for (int i = 0; i < m; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < m ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(m);
        for (int i = 0; i + 1 < m; i++) push(heap, id, i, i + 1);
        int alive = m;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32), pos = (int) top;
            if (dead[pos] || next[pos] < 0) continue;
            int right = next[pos];
            long merge = merges.get(pair(id[pos], id[right]));
            if (merge == LongLongMap.MISSING || (int) (merge >>> 32) != rank) continue; // stale entry
            id[pos] = (int) merge;
            dead[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) push(heap, id, prev[pos], pos);
            if (next[pos] >= 0) push(heap, id, pos, next[pos]);
        }
        int[] outIds = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) outIds[k++] = id[i];
        return outIds;
    }

    private void push(LongHeap heap, int[] id, int left, int right) {
        long merge = merges.get(pair(id[left], id[right]));
        if (merge != LongLongMap.MISSING) heap.push(((merge >>> 32) << 32) | left);
    }

    /** Open-addressing map long → long (no boxing; merges are looked up once per symbol pair). */
    static final class LongLongMap {
        static final long MISSING = Long.MIN_VALUE;
        private long[] keys;
        private long[] values;
        private boolean[] used;
        private int size;

        LongLongMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            used = new boolean[cap];
        }

        private static int hash(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29));
        }

        long get(long key) {
            int mask = keys.length - 1;
            for (int i = hash(key) & mask; used[i]; i = (i + 1) & mask) if (keys[i] == key) return values[i];
            return MISSING;
        }

        /** Inserts or replaces (a repeated merge keeps its LAST rank, as in Hugging Face's map). */
        void put(long key, long value) {
            if (2 * (size + 1) > keys.length) grow();
            int mask = keys.length - 1;
            int i = hash(key) & mask;
            for (; used[i]; i = (i + 1) & mask) {
                if (keys[i] == key) {
                    values[i] = value;
                    return;
                }
            }
            used[i] = true;
            keys[i] = key;
            values[i] = value;
            size++;
        }

        private void grow() {
            long[] k = keys, v = values;
            boolean[] u = used;
            keys = new long[k.length * 2];
            values = new long[k.length * 2];
            used = new boolean[k.length * 2];
            size = 0;
            for (int i = 0; i < k.length; i++) if (u[i]) put(k[i], v[i]);
        }
    }

    /** Binary min-heap of longs (rank in the high half, position in the low half). */
    static final class LongHeap {
        private long[] a;
        private int n;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && a[c + 1] < a[c]) c++;
                if (a[c] >= last) break;
                a[i] = a[c];
                i = c;
            }
            if (n > 0) a[i] = last;
            return top;
        }
    }
}
