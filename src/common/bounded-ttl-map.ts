/**
 * A bounded map whose entries expire: the storage behind every cache in the proxy (verified tokens,
 * SubjectAccessReview decisions). A read moves the entry to the most recently used end; when full, the
 * least recently used entry goes first; an expired entry is never returned. Map insertion order is the
 * LRU order, so every operation is O(1).
 */
export class BoundedTtlMap<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Store until `expiresAt` (epoch ms); an entry that is already expired is not stored. */
  set(key: string, value: V, expiresAt: number): void {
    this.entries.delete(key);
    if (expiresAt <= this.now()) return;
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
