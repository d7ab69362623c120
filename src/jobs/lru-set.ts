/**
 * A bounded set with least-recently-used eviction: GC phase 1 remembers the digests it already
 * touched (`gc-cache-capacity` slots) so chunks shared by many snapshots are touched once.
 * Capacity 0 disables it. A Map keeps insertion order, which makes eviction O(1).
 */
export class LruSet {
  readonly #cap: number;
  readonly #map = new Map<string, true>();
  hits = 0;
  misses = 0;

  constructor(capacity: number) {
    this.#cap = capacity;
  }

  /** Returns true when `key` was present (and refreshes it); otherwise inserts it. */
  seen(key: string): boolean {
    if (this.#cap === 0) {
      this.misses++;
      return false;
    }
    if (this.#map.delete(key)) {
      this.#map.set(key, true);
      this.hits++;
      return true;
    }
    this.misses++;
    this.#map.set(key, true);
    if (this.#map.size > this.#cap) this.#map.delete(this.#map.keys().next().value!);
    return false;
  }
}
