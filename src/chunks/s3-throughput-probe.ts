/**
 * The raw throughput of an S3 endpoint, the yardstick for S3 datastore benchmarks (issue #13:
 * ingest ≥ 0.8× raw PUT, cold restore ≥ 0.8× raw GET): `count` objects of `objectSize` bytes
 * (4 MiB, the fixed chunk size), `concurrency` requests in flight, through the same
 * S3ObjectClient and SDK the chunk backend uses. PUT first, then GET of the same objects, then
 * the objects are deleted again.
 *
 * Each object has its own random bytes (nothing the store could deduplicate or compress); the
 * bytes are made before the clock starts. Keys live under `prefix` (default
 * `.holdfast-probe-<random>/`), apart from any store's `<store>/` prefix.
 */
import { randomBytes } from 'node:crypto';
import { fail } from '../core/errors.ts';
import type { S3Objects } from './s3-client.ts';

export interface ProbeOptions {
  readonly objectSize?: number;
  readonly count?: number;
  readonly concurrency?: number;
  readonly prefix?: string;
  /** monotonic milliseconds; default performance.now */
  readonly now?: () => number;
}

export interface ProbePhase {
  readonly objects: number;
  readonly bytes: number;
  readonly seconds: number;
  /** bytes per second */
  readonly throughput: number;
}

export interface ProbeResult {
  readonly objectSize: number;
  readonly concurrency: number;
  readonly put: ProbePhase;
  readonly get: ProbePhase;
}

const MIB = 1024 * 1024;

/** Runs `task(i)` for i in 0..count-1 with at most `limit` running at once. */
async function inFlight(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

async function timed(now: () => number, objects: number, bytes: number, run: () => Promise<void>): Promise<ProbePhase> {
  const start = now();
  await run();
  const seconds = Math.max((now() - start) / 1000, 1e-9);
  return { objects, bytes, seconds, throughput: bytes / seconds };
}

export async function probeS3Throughput(objects: S3Objects, options: ProbeOptions = {}): Promise<ProbeResult> {
  const size = options.objectSize ?? 4 * MIB;
  const count = options.count ?? 16;
  const concurrency = options.concurrency ?? 8;
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw fail('INVALID_ARGUMENT', 'object size, count and concurrency must be positive integers', { size, count, concurrency });
  }
  const now = options.now ?? (() => performance.now());
  const prefix = options.prefix ?? `.holdfast-probe-${randomBytes(6).toString('hex')}/`;
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
  const bodies = keys.map(() => randomBytes(size));
  try {
    const put = await timed(now, count, count * size, () => inFlight(count, concurrency, (i) => objects.put(keys[i]!, bodies[i]!)));
    const get = await timed(now, count, count * size, () =>
      inFlight(count, concurrency, async (i) => {
        const got = await objects.get(keys[i]!);
        if (got?.byteLength !== size) throw fail('OBJECT_STORE_ERROR', `probe object ${keys[i]!} came back with ${got?.byteLength ?? 'no'} bytes, not ${size}`, { key: keys[i] });
      }),
    );
    return { objectSize: size, concurrency, put, get };
  } finally {
    await objects.deleteMany(keys);
  }
}
