/**
 * MemoryS3Objects: the S3Objects port (src/chunks/s3-client.ts) over a Map, with S3's answers
 * (412 on a conditional PUT to an existing key, MD5 ETags, lexicographic listing) and request
 * counts, for tests that need no S3 server. `FaultyS3Objects` wraps any S3Objects and fails the
 * operations a test chooses, as the real client does once its retries are used up.
 */
import { createHash } from 'node:crypto';
import { fail } from '../../src/core/errors.ts';
import { md5Of, type ListedObject, type ObjectHead, type S3Objects } from '../../src/chunks/s3-client.ts';

interface Stored {
  readonly bytes: Uint8Array;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

export class MemoryS3Objects implements S3Objects {
  readonly location = 'memory://bucket';
  readonly objects = new Map<string, Stored>();
  readonly requests: string[] = [];
  /** PUTs that came with the caller's SHA-256 of the body (checked, as S3 checks a signed one) */
  givenSha256 = 0;

  async putIfAbsent(key: string, bytes: Uint8Array, sha256?: string): Promise<'stored' | 'exists'> {
    this.requests.push(`PUT-IF-ABSENT ${key}`);
    this.#checkSha256(key, bytes, sha256);
    if (this.objects.has(key)) return 'exists';
    this.#store(key, bytes);
    return 'stored';
  }

  async put(key: string, bytes: Uint8Array, sha256?: string): Promise<void> {
    this.requests.push(`PUT ${key}`);
    this.#checkSha256(key, bytes, sha256);
    this.#store(key, bytes);
  }

  /** As an S3 store refuses a body that does not match its signed SHA-256 (400 XAmzContentSHA256Mismatch). */
  #checkSha256(key: string, bytes: Uint8Array, sha256: string | undefined): void {
    if (sha256 === undefined) return;
    this.givenSha256++;
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw fail('OBJECT_STORE_ERROR', `S3 PUT ${key} failed: XAmzContentSHA256Mismatch`, { op: 'PUT', key, status: 400 });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.requests.push(`GET ${key}`);
    const o = this.objects.get(key);
    return o === undefined ? undefined : new Uint8Array(o.bytes);
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    this.requests.push(`HEAD ${key}`);
    const o = this.objects.get(key);
    return o === undefined ? undefined : { size: o.bytes.length, etag: o.etag, lastModifiedMs: o.lastModifiedMs };
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.requests.push(`LIST ${prefix}`);
    for (const key of [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const o = this.objects.get(key);
      if (o !== undefined) yield { key, size: o.bytes.length, lastModifiedMs: o.lastModifiedMs };
    }
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    this.requests.push(`COPY ${fromKey} ${toKey}`);
    const o = this.objects.get(fromKey);
    if (o === undefined) return false;
    this.#store(toKey, o.bytes);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.requests.push(`DELETE ${key}`);
    this.objects.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    this.requests.push(`DELETE-OBJECTS ${keys.length}`);
    for (const k of keys) this.objects.delete(k);
  }

  #store(key: string, bytes: Uint8Array): void {
    this.objects.set(key, { bytes: new Uint8Array(bytes), etag: md5Of(bytes).hex, lastModifiedMs: Date.now() });
  }
}

export type S3Operation = 'putIfAbsent' | 'put' | 'get' | 'head' | 'list' | 'copy' | 'delete' | 'deleteMany';

/**
 * Fails every call of the chosen operations (while `failing` holds them), and every call for
 * which `failWhen` answers true, with OBJECT_STORE_ERROR.
 */
export class FaultyS3Objects implements S3Objects {
  readonly failing = new Set<S3Operation>();
  failWhen: ((op: S3Operation, key: string) => boolean) | undefined;
  readonly #inner: S3Objects;

  constructor(inner: S3Objects) {
    this.#inner = inner;
  }

  get location(): string {
    return this.#inner.location;
  }

  #check(op: S3Operation, key: string): void {
    if (this.failing.has(op) || this.failWhen?.(op, key) === true) throw fail('OBJECT_STORE_ERROR', `injected failure of ${op} ${key}`, { op, key, outcome: 'unknown' });
  }

  async putIfAbsent(key: string, bytes: Uint8Array, sha256?: string): Promise<'stored' | 'exists'> {
    this.#check('putIfAbsent', key);
    return this.#inner.putIfAbsent(key, bytes, sha256);
  }

  async put(key: string, bytes: Uint8Array, sha256?: string): Promise<void> {
    this.#check('put', key);
    return this.#inner.put(key, bytes, sha256);
  }

  async get(key: string, into?: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check('get', key);
    return this.#inner.get(key, into);
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    this.#check('head', key);
    return this.#inner.head(key);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    this.#check('list', prefix);
    return this.#inner.list(prefix);
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    this.#check('copy', fromKey);
    return this.#inner.copy(fromKey, toKey);
  }

  async delete(key: string): Promise<void> {
    this.#check('delete', key);
    return this.#inner.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    this.#check('deleteMany', keys[0] ?? '');
    return this.#inner.deleteMany(keys);
  }
}

/**
 * Holds the conditional PUTs of the keys `holds` picks until the test answers them: `release`
 * lets the oldest held ones through to the inner store, or fails them with OBJECT_STORE_ERROR (as
 * the real client does once its retries are used up). `whenHeld(n)` resolves once n are waiting,
 * so a test orders events without timing.
 */
export class GatedS3Objects extends FaultyS3Objects {
  holds: (key: string) => boolean = () => false;
  readonly #held: { readonly key: string; readonly go: (ok: boolean) => void }[] = [];
  readonly #waiters: { readonly n: number; readonly resolve: () => void }[] = [];

  /** The keys of the PUTs held now, oldest first. */
  get held(): string[] {
    return this.#held.map((h) => h.key);
  }

  whenHeld(n: number): Promise<void> {
    if (this.#held.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Answers the `count` oldest held PUTs (default all): stored, or failed when `ok` is false. */
  release(ok: boolean, count = this.#held.length): void {
    for (const h of this.#held.splice(0, count)) h.go(ok);
  }

  override async putIfAbsent(key: string, bytes: Uint8Array, sha256?: string): Promise<'stored' | 'exists'> {
    if (this.holds(key)) {
      const ok = await new Promise<boolean>((go) => {
        this.#held.push({ key, go });
        for (const w of this.#waiters.filter((x) => x.n <= this.#held.length)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve();
        }
      });
      if (!ok) throw fail('OBJECT_STORE_ERROR', `injected failure of the held PUT ${key}`, { op: 'putIfAbsent', key, outcome: 'unknown' });
    }
    return super.putIfAbsent(key, bytes, sha256);
  }
}
