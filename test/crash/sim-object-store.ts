/**
 * SimObjectStore: the S3Objects port (src/chunks/s3-client.ts) as an object store that can lose
 * what it never acknowledged. Every mutating request (PUT, conditional PUT, copy, delete) is in
 * flight from its call until it resolves; it takes effect at its acknowledgement. `crashPoints()`
 * lists, for each moment a request started or was acknowledged, the objects a crash at that moment
 * may leave: everything acknowledged, plus any subset of the requests in flight (a request the
 * store received but did not answer may or may not have been applied). The acknowledged objects
 * are never lost: that is the promise an object store makes, and all S3 datastores rely on.
 */
import { md5Of, type ListedObject, type ObjectHead, type S3Objects } from '../../src/chunks/s3-client.ts';

interface Stored {
  readonly bytes: Uint8Array;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

type Objects = ReadonlyMap<string, Stored>;
type Mutation = (objects: Map<string, Stored>) => void;

export interface CrashPoint<T> {
  /** what the workload had been told so far (e.g. the acknowledged snapshots) */
  readonly note: T;
  readonly acked: Objects;
  readonly inFlight: readonly Mutation[];
}

export class SimObjectStore<T> implements S3Objects {
  readonly location = 'sim://bucket';
  readonly #objects = new Map<string, Stored>();
  readonly #inFlight = new Set<Mutation>();
  readonly #points: CrashPoint<T>[] = [];
  #recording = false;
  #note: () => T;

  constructor(note: () => T) {
    this.#note = note;
  }

  /** Starts recording crash points (setup before it is not explored). */
  record(): void {
    this.#recording = true;
  }

  /** Records the state after the workload (nothing in flight). */
  end(): void {
    this.#point();
  }

  crashPoints(): readonly CrashPoint<T>[] {
    return this.#points;
  }

  /** The objects of one post-crash state: `acked` plus the in-flight requests `apply` chooses. */
  static stateOf<T>(p: CrashPoint<T>, apply: readonly boolean[]): Map<string, Stored> {
    const objects = new Map(p.acked);
    p.inFlight.forEach((m, i) => {
      if (apply[i] === true) m(objects);
    });
    return objects;
  }

  /** A plain store holding `objects`, for the check after a crash. */
  static restored(objects: Map<string, Stored>): SimObjectStore<undefined> {
    const s = new SimObjectStore<undefined>(() => undefined);
    for (const [k, v] of objects) s.#objects.set(k, v);
    return s;
  }

  async putIfAbsent(key: string, bytes: Uint8Array): Promise<'stored' | 'exists'> {
    if (this.#objects.has(key)) return 'exists';
    await this.#mutate((o) => {
      if (!o.has(key)) o.set(key, stored(bytes));
    });
    return 'stored';
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.#mutate((o) => o.set(key, stored(bytes)));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const o = this.#objects.get(key);
    return o === undefined ? undefined : new Uint8Array(o.bytes);
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    const o = this.#objects.get(key);
    return o === undefined ? undefined : { size: o.bytes.length, etag: o.etag, lastModifiedMs: o.lastModifiedMs };
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    for (const key of [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const o = this.#objects.get(key);
      if (o !== undefined) yield { key, size: o.bytes.length, lastModifiedMs: o.lastModifiedMs };
    }
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    const o = this.#objects.get(fromKey);
    if (o === undefined) return false;
    await this.#mutate((m) => m.set(toKey, o));
    return true;
  }

  async delete(key: string): Promise<void> {
    await this.#mutate((o) => o.delete(key));
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // one request per key as far as a crash is concerned: DeleteObjects is not atomic either
    await Promise.all(keys.map((k) => this.delete(k)));
  }

  /** In flight from the call; applied and acknowledged after a turn of the event loop. */
  async #mutate(m: Mutation): Promise<void> {
    this.#inFlight.add(m);
    this.#point();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#inFlight.delete(m);
    m(this.#objects);
    this.#point();
  }

  #point(): void {
    if (this.#recording) this.#points.push({ note: this.#note(), acked: new Map(this.#objects), inFlight: [...this.#inFlight] });
  }
}

function stored(bytes: Uint8Array): Stored {
  return { bytes: new Uint8Array(bytes), etag: md5Of(bytes).hex, lastModifiedMs: Date.now() };
}
