/**
 * What the S3 benchmarks (`bench:ingest --backend s3`, `holdfast benchmark sync-level --backend
 * s3`) need besides the local ones: an endpoint (from `S3_ENDPOINT`, `S3_ACCESS_KEY`,
 * `S3_SECRET_KEY`, `S3_REGION` or the AWS_* names, as `scripts/ceph-rgw-up.sh` exports them) and a
 * bucket, the datastore's `backend` string, emptying the store between runs, and in the same run
 * the raw 4 MiB PUT/GET throughput of the endpoint through the same client and SDK with the same
 * number of requests in flight (the yardstick: ingest ≥ 0.8× raw PUT). When the object
 * store runs on this machine (a Ceph from scripts/ceph-rgw-up.sh), also how busy its daemons kept
 * their cores during a run: a saturated store means the run measured the store, not Holdfast.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_TYPES } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { S3ObjectClient } from '../../chunks/s3-client.ts';
import { CHUNK_CACHE_DIR, MARKER_DIR } from '../../chunks/s3-backend-type.ts';
import { probeS3Throughput, type ProbeResult } from '../../chunks/s3-throughput-probe.ts';
import { S3EndpointStore } from '../../datastore/s3-endpoint-store.ts';
import { NodeFs } from '../../storage/node-fs.ts';

const ENDPOINT_ID = 'bench';
const MIB = 1024 * 1024;

export interface BenchS3 {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  readonly bucket: string;
}

/** The endpoint from the environment; `bucket` default: a fresh `holdfast-bench-<random>`. */
export function benchS3FromEnv(env: NodeJS.ProcessEnv, bucket?: string): BenchS3 {
  const endpoint = env['S3_ENDPOINT'];
  const accessKey = env['S3_ACCESS_KEY'] ?? env['AWS_ACCESS_KEY_ID'];
  const secretKey = env['S3_SECRET_KEY'] ?? env['AWS_SECRET_ACCESS_KEY'];
  if (!endpoint || !accessKey || !secretKey) {
    throw fail('INVALID_ARGUMENT', '--backend s3 needs S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY (eval "$(scripts/ceph-rgw-up.sh)")', { param: 'backend' });
  }
  return { endpoint, accessKey, secretKey, region: env['S3_REGION'] ?? 'us-east-1', bucket: bucket ?? `holdfast-bench-${randomBytes(5).toString('hex')}` };
}

function client(s3: BenchS3): S3ObjectClient {
  return new S3ObjectClient({ endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, pathStyle: true, bucket: s3.bucket });
}

/** Registers the endpoint in `configDir`, makes the bucket if needed; the datastore's `backend`. */
export async function prepareBenchS3(configDir: string, s3: BenchS3): Promise<string> {
  const endpoints = new S3EndpointStore(new NodeFs(), configDir);
  if (!(await endpoints.list()).some((e) => e.id === ENDPOINT_ID)) {
    await endpoints.create({ id: ENDPOINT_ID, endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, pathStyle: true });
  }
  const c = client(s3);
  try {
    await c.createBucket();
  } finally {
    c.destroy();
  }
  return `type=s3,client=${ENDPOINT_ID},bucket=${s3.bucket}`;
}

async function deletePrefix(c: S3ObjectClient, prefix: string): Promise<number> {
  const keys: string[] = [];
  for await (const o of c.list(prefix)) keys.push(o.key);
  await c.deleteMany(keys);
  return keys.length;
}

/** Back to a fresh store between runs (server stopped): its chunks, snapshots and caches go. */
export async function emptyS3Store(s3: BenchS3, store: string, cacheDir: string): Promise<number> {
  const c = client(s3);
  try {
    const n = await deletePrefix(c, `${store}/.chunks/`);
    await deletePrefix(c, `${store}/.cnt/`);
    for (const d of [...BACKUP_TYPES, CHUNK_CACHE_DIR, MARKER_DIR]) await rm(join(cacheDir, d), { recursive: true, force: true });
    return n;
  } finally {
    c.destroy();
  }
}

/** Removes every object of the store (the bucket stays). */
export async function removeS3Store(s3: BenchS3, store: string): Promise<void> {
  const c = client(s3);
  try {
    await deletePrefix(c, `${store}/`);
  } finally {
    c.destroy();
  }
}

/**
 * One yardstick from several probes: the median PUT and the median GET throughput (each phase on
 * its own; they may come from different probes). A local store's speed drifts from run to run
 * (a memstore RGW: ±15% here), so the benchmark probes once per run, beside each Holdfast run,
 * and compares medians with medians rather than three runs with one probe. Of an even count it
 * takes the upper middle: the yardstick is the divisor of every ratio, so the faster probe is the
 * one that never flatters Holdfast.
 */
export function medianProbe(probes: readonly ProbeResult[]): ProbeResult {
  if (probes.length === 0) throw fail('INVALID_ARGUMENT', 'no probe to take the median of');
  const mid = (phase: 'put' | 'get'): ProbeResult['put'] => {
    const sorted = [...probes.map((p) => p[phase])].sort((a, b) => a.throughput - b.throughput);
    return sorted[sorted.length >> 1]!;
  };
  return { objectSize: probes[0]!.objectSize, concurrency: probes[0]!.concurrency, put: mid('put'), get: mid('get') };
}

/** Raw 4 MiB PUT then GET of about `bytes` (16..64 objects), `concurrency` in flight. */
export async function rawS3Throughput(s3: BenchS3, bytes: number, concurrency: number): Promise<ProbeResult> {
  const c = client(s3);
  try {
    return await probeS3Throughput(c, { count: Math.min(64, Math.max(16, Math.ceil(bytes / (4 * MIB)))), concurrency });
  } finally {
    c.destroy();
  }
}

/** The daemons of an object store on this machine: a Ceph RGW as scripts/ceph-rgw-up.sh starts it. */
export const LOCAL_STORE_DAEMONS: readonly string[] = ['radosgw', 'ceph-osd', 'ceph-mon'];

/**
 * From this share of its cores busy on, a local object store is taken as the bottleneck of a run
 * (measured: a memstore RGW near capacity ran its pinned core at 98% while Holdfast's idled at
 * 36%, docs/benchmarks.md).
 */
export const STORE_SATURATED = 0.9;

/** The CPU a local object store's daemons used during `wallSeconds`, on `cores` cores. */
export interface StoreLoad {
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly cores: number;
}

/** The share of its cores the store kept busy (0..1, more when it could use more cores than named). */
export function storeBusyShare(l: StoreLoad): number {
  return l.wallSeconds > 0 && l.cores > 0 ? l.cpuSeconds / (l.wallSeconds * l.cores) : 0;
}

/** One line for a report: how busy the store was, and whether it bounded the run. */
export function storeLoadText(l: StoreLoad): string {
  const busy = storeBusyShare(l);
  const cores = `${l.cores} core${l.cores === 1 ? '' : 's'}`;
  const verdict = busy >= STORE_SATURATED ? ': saturated, so the store bounded this run, not Holdfast' : '';
  return `${l.cpuSeconds.toFixed(1)} CPU-s in ${l.wallSeconds.toFixed(2)} s, ${(busy * 100).toFixed(0)}% of its ${cores}${verdict}`;
}
