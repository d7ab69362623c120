/**
 * S3ObjectClient: a thin wrapper over the AWS SDK v3 for one bucket, with the few operations a
 * chunk backend needs, each as an answer rather than an exception where S3 has one (404 →
 * undefined, 412 → 'exists').
 *
 * - Retries are ours, not the SDK's (its `maxAttempts` is 1), so that every attempt is counted
 *   and so that an unknown outcome is never reported as success (s3-retry.ts).
 * - Every attempt runs under one deadline (`requestTimeoutMs`) that covers the body as well: a
 *   stalled transfer is aborted and counts as a transient failure.
 * - Counters, per attempt as an S3 provider bills them: get (GetObject, ListObjectsV2), put
 *   (PutObject, CopyObject), post (DeleteObjects), head, delete; upload bytes are the PUT bodies of
 *   all attempts (also one a 412 refused before its body went out, with 100-continue),
 *   download bytes are GET bodies received.
 * - Writes sign their payload's SHA-256 (s3-payload-hash.ts), so the store refuses bytes damaged
 *   on the way (400 XAmzContentSHA256Mismatch); a stored object's ETag (the MD5 of a single-part
 *   upload) tells whether it holds the same bytes (`md5Of`).
 *   It and the signed payload SHA-256 are computed once per write, off the main thread for large
 *   bodies (s3-payload-hash.ts), and reused by every attempt.
 * - Plain http is for loopback endpoints only (checked in format/s3-endpoint-config.ts); https
 *   with a pinned fingerprint goes through PinnedHttpsAgent.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { copyBytes } from '../core/byte-copy.ts';
import { fail } from '../core/errors.ts';
import { expandEndpoint, type S3Endpoint } from '../format/s3-endpoint-config.ts';
import { httpStatusOf, withRetries, DEFAULT_RETRY, type RetryPolicy } from './s3-retry.ts';
import { PinnedHttpsAgent } from './s3-pinned-agent.ts';
import { PayloadHasher, type PayloadHashes } from './s3-payload-hash.ts';

export const S3_REQUEST_KINDS = ['get', 'put', 'post', 'head', 'delete'] as const;
export type S3RequestKind = (typeof S3_REQUEST_KINDS)[number];

export interface S3Counters extends Record<S3RequestKind, number> {
  readonly uploadBytes: number;
  readonly downloadBytes: number;
}

export interface S3ClientConfig {
  /** the endpoint URL with templates already expanded */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly pathStyle: boolean;
  readonly bucket: string;
  readonly fingerprint?: string;
  /** deadline of one attempt, body included; default 5 minutes */
  readonly requestTimeoutMs?: number;
  readonly retries?: number;
  readonly backoffMs?: number;
  /** injectable for tests; default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** most sockets open at once; default 64 */
  readonly maxSockets?: number;
}

export interface ObjectHead {
  readonly size: number;
  /** the ETag without quotes */
  readonly etag: string;
  readonly lastModifiedMs: number;
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModifiedMs: number;
}

/**
 * The operations a chunk backend uses: the port that fault wrappers in tests implement too.
 * Keys are full object keys inside the bucket.
 */
export interface S3Objects {
  readonly location: string;
  /**
   * PUT with If-None-Match: * — 'exists' (412) when the key holds an object already. `sha256`:
   * the SHA-256 (hex) of `bytes` when the caller has it, signed instead of hashing them again; a
   * wrong one fails the PUT (the store checks the body against it).
   */
  putIfAbsent(key: string, bytes: Uint8Array, sha256?: string): Promise<'stored' | 'exists'>;
  /** PUT that replaces whatever the key holds; `sha256` as for putIfAbsent. */
  put(key: string, bytes: Uint8Array, sha256?: string): Promise<void>;
  /**
   * The whole object, or undefined when there is none; a short body is an error. With `into`, the
   * bytes may be read into it (then the result is a view of it), as in ChunkBackend.get.
   */
  get(key: string, into?: Uint8Array): Promise<Uint8Array | undefined>;
  head(key: string): Promise<ObjectHead | undefined>;
  /** Every object under `prefix`, following continuation tokens. */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** Server-side copy; false when the source is missing. */
  copy(fromKey: string, toKey: string): Promise<boolean>;
  /** Deletes the key; deleting a missing key is not an error (S3 answers 204 either way). */
  delete(key: string): Promise<void>;
  /** Deletes up to any number of keys, 1000 per request; any per-key error rejects. */
  deleteMany(keys: readonly string[]): Promise<void>;
  /** The request and byte counters, when the implementation keeps them. */
  counters?(): S3Counters;
}

/** The client settings for `bucket` on a configured endpoint (s3.cfg plus its secret key). */
export function clientConfigFor(e: Omit<S3Endpoint, 'id'>, secretKey: string, bucket: string): S3ClientConfig {
  const base = { endpoint: expandEndpoint(e, bucket), region: e.region, accessKey: e.accessKey, secretKey, pathStyle: e.pathStyle, bucket };
  return e.fingerprint === undefined ? base : { ...base, fingerprint: e.fingerprint };
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const LIST_PAGE = 1000;

/** The base64 MD5 S3 checks (Content-MD5) and the hex form its ETag has. */
export function md5Of(bytes: Uint8Array): { base64: string; hex: string } {
  const d = createHash('md5').update(bytes).digest();
  return { base64: d.toString('base64'), hex: d.toString('hex') };
}

export class S3ObjectClient implements S3Objects {
  readonly location: string;
  readonly #sdk: S3Client;
  readonly #bucket: string;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #hasher = new PayloadHasher();
  readonly #counts: Record<keyof S3Counters, number> = { get: 0, put: 0, post: 0, head: 0, delete: 0, uploadBytes: 0, downloadBytes: 0 };

  constructor(config: S3ClientConfig) {
    this.#bucket = config.bucket;
    this.location = `${config.endpoint}/${config.bucket}`;
    this.#timeoutMs = config.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = {
      retries: config.retries ?? DEFAULT_RETRY.retries,
      backoffMs: config.backoffMs ?? DEFAULT_RETRY.backoffMs,
      sleep: config.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
    // the project pins this SDK release knowingly on Node 20; its start-up notice is noise here
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.#sdk = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.pathStyle,
      credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey },
      maxAttempts: 1,
      // the signed payload SHA-256 protects the body; chunk digests are checked above this layer
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: Math.min(this.#timeoutMs, 30_000),
        ...(config.fingerprint === undefined
          ? { httpsAgent: { keepAlive: true, maxSockets: config.maxSockets ?? 64 } }
          : { httpsAgent: new PinnedHttpsAgent(config.fingerprint, { maxSockets: config.maxSockets ?? 64 }) }),
        httpAgent: { keepAlive: true, maxSockets: config.maxSockets ?? 64 },
      },
    });
  }

  /** A snapshot of the request and byte counters since this client was made. */
  counters(): S3Counters {
    return { ...this.#counts };
  }

  async putIfAbsent(key: string, bytes: Uint8Array, sha256?: string): Promise<'stored' | 'exists'> {
    const hashes = sha256 !== undefined ? { sha256Hex: sha256 } : await this.#hasher.hash(bytes);
    return withRetries(this.#retry, 'PUT', key, () =>
      this.#attempt('put', async (signal) => {
        this.#counts.uploadBytes += bytes.byteLength;
        try {
          await this.#sdk.send(putCommand({ Bucket: this.#bucket, Key: key, Body: bytes, IfNoneMatch: '*' }, hashes), { abortSignal: signal });
          return 'stored';
        } catch (e) {
          if (httpStatusOf(e) === 412) return 'exists';
          throw e;
        }
      }),
    );
  }

  async put(key: string, bytes: Uint8Array, sha256?: string): Promise<void> {
    const hashes = sha256 !== undefined ? { sha256Hex: sha256 } : await this.#hasher.hash(bytes);
    await withRetries(this.#retry, 'PUT', key, () =>
      this.#attempt('put', async (signal) => {
        this.#counts.uploadBytes += bytes.byteLength;
        await this.#sdk.send(putCommand({ Bucket: this.#bucket, Key: key, Body: bytes }, hashes), { abortSignal: signal });
      }),
    );
  }

  /**
   * The object's bytes, or undefined when there is none. With `into`, a body that fits is read
   * into it (the result is then a view of `into`; a retried attempt overwrites it from the start).
   */
  async get(key: string, into?: Uint8Array): Promise<Uint8Array | undefined> {
    return withRetries(this.#retry, 'GET', key, () =>
      this.#attempt('get', async (signal) => {
        try {
          const out = await this.#sdk.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
          const body = out.Body === undefined ? new Uint8Array(0) : await readBody(out.Body as AsyncIterable<Uint8Array>, out.ContentLength, into);
          this.#counts.downloadBytes += body.byteLength;
          if (out.ContentLength !== undefined && body.byteLength !== out.ContentLength) {
            // a cut connection: transient, so the GET is tried again
            throw Object.assign(new Error(`short body: ${body.byteLength} of ${out.ContentLength} bytes`), { name: 'ShortBody' });
          }
          return body;
        } catch (e) {
          if (httpStatusOf(e) === 404) return undefined;
          throw e;
        }
      }),
    );
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    return withRetries(this.#retry, 'HEAD', key, () =>
      this.#attempt('head', async (signal) => {
        try {
          const out = await this.#sdk.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
          return { size: out.ContentLength ?? 0, etag: unquote(out.ETag), lastModifiedMs: out.LastModified?.getTime() ?? 0 };
        } catch (e) {
          if (httpStatusOf(e) === 404) return undefined;
          throw e;
        }
      }),
    );
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const page = await withRetries(this.#retry, 'LIST', prefix, () =>
        this.#attempt('get', (signal) =>
          this.#sdk.send(
            new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: LIST_PAGE, ...(token === undefined ? {} : { ContinuationToken: token }) }),
            { abortSignal: signal },
          ),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    return withRetries(this.#retry, 'COPY', `${fromKey} → ${toKey}`, () =>
      this.#attempt('put', async (signal) => {
        try {
          await this.#sdk.send(new CopyObjectCommand({ Bucket: this.#bucket, Key: toKey, CopySource: `${this.#bucket}/${encodeURIComponent(fromKey).replaceAll('%2F', '/')}` }), {
            abortSignal: signal,
          });
          return true;
        } catch (e) {
          if (httpStatusOf(e) === 404) return false;
          throw e;
        }
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await withRetries(this.#retry, 'DELETE', key, () =>
      this.#attempt('delete', (signal) => this.#sdk.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal })),
    );
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += LIST_PAGE) {
      const batch = keys.slice(i, i + LIST_PAGE);
      const out = await withRetries(this.#retry, 'DELETE-OBJECTS', batch[0] ?? '', () =>
        this.#attempt('post', (signal) =>
          this.#sdk.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), { abortSignal: signal }),
        ),
      );
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length > 0) {
        const first = errors[0];
        throw fail('OBJECT_STORE_ERROR', `S3 DeleteObjects failed for ${errors.length} key(s), first ${first?.Key ?? '?'}: ${first?.Code ?? ''} ${first?.Message ?? ''}`, {
          op: 'DELETE-OBJECTS',
          keys: errors.map((e) => e.Key),
        });
      }
    }
  }

  /** Creates the bucket; true when made, false when this account owns it already. For tests and tools: datastores never create buckets (as in PBS). */
  async createBucket(): Promise<boolean> {
    return withRetries(this.#retry, 'CREATE-BUCKET', this.#bucket, () =>
      this.#attempt('put', async (signal) => {
        try {
          await this.#sdk.send(new CreateBucketCommand({ Bucket: this.#bucket }), { abortSignal: signal });
          return true;
        } catch (e) {
          if (httpStatusOf(e) === 409) return false;
          throw e;
        }
      }),
    );
  }

  /** Closes the idle sockets and the hashing worker. */
  destroy(): void {
    this.#sdk.destroy();
    void this.#hasher.close().catch(() => undefined); // its worker is unref'd: nothing waits for it
  }

  /** One counted attempt under the deadline; a timeout aborts it with a TimeoutError (transient). */
  async #attempt<T>(kind: S3RequestKind, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#counts[kind]++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { name: 'TimeoutError' })), this.#timeoutMs);
    try {
      return await run(controller.signal);
    } catch (e) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A PutObject whose signed payload hash is `hashes.sha256Hex` (the signer then skips hashing it). */
function putCommand(input: ConstructorParameters<typeof PutObjectCommand>[0], hashes: PayloadHashes): PutObjectCommand {
  const command = new PutObjectCommand(input);
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[PAYLOAD_SHA256_HEADER] = hashes.sha256Hex;
      return next(args);
    },
    { step: 'build', name: 'holdfastPayloadSha256' },
  );
  return command;
}

const PAYLOAD_SHA256_HEADER = 'x-amz-content-sha256';

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"(.*)"$/, '$1');
}

/**
 * A GET's body in one buffer. With a known length it is copied piece by piece into a buffer of
 * that size (`into` when it is large enough): the SDK's `transformToByteArray` gathers the pieces
 * and then concatenates them, a second copy of every byte and twice the short-lived external
 * memory, which made V8 run a major GC every few MiB of a cold restore (1.4 CPU-s per GiB on the
 * server; docs/benchmarks.md). A body longer than announced is cut off at the announced length
 * plus one byte, so the caller's length check fails and the GET is retried.
 */
async function readBody(body: AsyncIterable<Uint8Array>, length: number | undefined, into?: Uint8Array): Promise<Uint8Array> {
  if (length === undefined) {
    const pieces: Uint8Array[] = [];
    for await (const piece of body) pieces.push(piece);
    return plainBytes(Buffer.concat(pieces));
  }
  const out = into !== undefined && into.byteLength >= length ? into.subarray(0, length) : plainBytes(Buffer.allocUnsafeSlow(length)); // every byte is written below
  let at = 0;
  for await (const piece of body) {
    if (at + piece.byteLength > length) return new Uint8Array(at + piece.byteLength); // too long: fails the length check
    copyBytes(out, piece, at);
    at += piece.byteLength;
  }
  return at === length ? out : out.subarray(0, at);
}

/** The same memory as a plain Uint8Array (what callers and `deepEqual` expect, not a Buffer). */
function plainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
