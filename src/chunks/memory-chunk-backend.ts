/**
 * MemoryChunkBackend: the ChunkBackend port in process memory, for tests. It keeps two views, like
 * the power-loss simulator: what callers see, and what would survive a power loss. A durable put
 * or quarantine updates both for its key; everything else reaches the durable view only at
 * `flush()`. `crash()` returns a new backend holding only the durable view, so tests can check
 * that a caller awaited the durability it needed.
 *
 * Keys: a chunk's is its digest, a quarantined copy's `<digest>.<n>.bad`. Puts are atomic, so it
 * never holds debris (`temp` entries).
 */
import { fail } from '../core/errors.ts';
import type { ChunkBackend, ChunkBackendUsage, ChunkEntry, ChunkObjectStat, InitProgress, PutOptions } from './chunk-backend.ts';

interface StoredObject {
  readonly bytes: Uint8Array;
  readonly markMs: number;
}

export interface MemoryChunkBackendOptions {
  /** clock for marks, ms since the epoch; default Date.now */
  readonly now?: () => number;
}

const DIGEST_RE = /^[0-9a-f]{64}$/;
const BAD_RE = /^([0-9a-f]{64})\.(\d)\.bad$/;

export class MemoryChunkBackend implements ChunkBackend {
  readonly location = 'memory';
  readonly flushScope = 'store' as const;
  readonly #now: () => number;
  #initialized = false;
  #live = new Map<string, StoredObject>();
  #durable = new Map<string, StoredObject>();

  constructor(options: MemoryChunkBackendOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async init(_onProgress?: InitProgress): Promise<void> {
    if (this.#initialized) throw fail('ALREADY_EXISTS', 'the memory chunk store exists already', { path: this.location });
    this.#initialized = true;
  }

  async open(): Promise<void> {
    if (!this.#initialized) throw fail('NOT_FOUND', 'no memory chunk store was initialised', { path: this.location });
  }

  async put(digest: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    if (!DIGEST_RE.test(digest)) throw fail('INVALID_ARGUMENT', `'${digest}' is not a chunk digest`, { value: digest });
    const obj = { bytes: Uint8Array.from(bytes), markMs: this.#now() };
    this.#live.set(digest, obj);
    if (options.durable) this.#durable.set(digest, obj);
  }

  async get(key: string): Promise<Uint8Array> {
    const obj = this.#live.get(checkKey(key));
    if (!obj) throw fail('NOT_FOUND', `chunk ${key} does not exist`, { key });
    return Uint8Array.from(obj.bytes);
  }

  async stat(key: string): Promise<ChunkObjectStat | undefined> {
    const obj = this.#live.get(checkKey(key));
    return obj && { size: obj.bytes.length, markMs: obj.markMs };
  }

  async mark(key: string, atMs?: number): Promise<boolean> {
    const obj = this.#live.get(checkKey(key));
    if (!obj) return false;
    this.#live.set(key, { bytes: obj.bytes, markMs: atMs ?? this.#now() });
    return true;
  }

  async remove(key: string): Promise<boolean> {
    return this.#live.delete(checkKey(key));
  }

  async quarantine(digest: string, options: PutOptions): Promise<string | undefined> {
    const obj = this.#live.get(checkKey(digest));
    if (!obj) return undefined;
    let target = `${digest}.9.bad`;
    for (let n = 0; n < 10; n++) {
      if (!this.#live.has(`${digest}.${n}.bad`)) {
        target = `${digest}.${n}.bad`;
        break;
      }
    }
    this.#live.delete(digest);
    this.#live.set(target, obj);
    if (options.durable) {
      this.#durable.delete(digest);
      this.#durable.set(target, obj);
    }
    return target;
  }

  async quarantinedCopies(digest: string): Promise<string[]> {
    checkKey(digest);
    return [...this.#live.keys()].filter((k) => BAD_RE.exec(k)?.[1] === digest).sort();
  }

  async *list(): AsyncGenerator<ChunkEntry> {
    for (const [key, obj] of [...this.#live]) {
      if (!this.#live.has(key)) continue; // removed while listing
      const bad = BAD_RE.exec(key);
      yield { key, kind: bad ? 'bad' : 'chunk', digest: bad ? bad[1] : key, size: obj.bytes.length, markMs: obj.markMs };
    }
  }

  async flush(): Promise<void> {
    this.#durable = new Map(this.#live);
  }

  async usage(): Promise<ChunkBackendUsage | undefined> {
    return undefined;
  }

  /** A backend holding what this one would keep across a power loss (see the module note). */
  crash(options: MemoryChunkBackendOptions = {}): MemoryChunkBackend {
    const after = new MemoryChunkBackend({ now: options.now ?? this.#now });
    after.#initialized = this.#initialized;
    after.#live = new Map(this.#durable);
    after.#durable = new Map(this.#durable);
    return after;
  }
}

function checkKey(key: string): string {
  if (DIGEST_RE.test(key) || BAD_RE.test(key)) return key;
  throw fail('INVALID_ARGUMENT', `'${key}' is not a chunk-store key`, { value: key });
}
