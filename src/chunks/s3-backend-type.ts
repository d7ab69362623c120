/**
 * The `s3` chunk backend type (chunk-backend-types.ts): `backend type=s3,client=ID,bucket=B
 * [,cache-size=SIZE][,put-concurrency=N]` in datastore.cfg, as PBS 4.2 spells it (cli/backend-types.ts registers it;
 * `put-concurrency` is ours: the most chunk PUTs pending behind answered uploads, 0 for none,
 * see S3ChunkBackend).
 *
 * A datastore of this type keeps in its directory (the local cache, governed by `sync-level` like
 * any local datastore) the snapshot tree and two caches:
 *   <cache>/.chunk-cache/<4 hex>/<digest>  copies of chunks, at most `cache-size` bytes, LRU
 *                                          (CachedChunkBackend)
 *   <cache>/.s3-markers/<4 hex>/<key>      GC marks (S3ChunkBackend)
 * and in the bucket `<store>/.chunks/<4 hex>/<digest>` (S3ChunkBackend) and every metadata file
 * under `<store>/.cnt/` (S3ContentMirror). One client per open datastore, so its request and byte
 * counters are the datastore's. `<4 hex>` is the digest's first four hex digits, the prefix
 * directory of PBS's layout. Destroying the store deletes every object under `<store>/`
 * (s3-store-removal.ts).
 */
import { join } from 'node:path';
import { fail } from '../core/errors.ts';
import { checkBucketName, checkS3EndpointId, S3_CFG, S3_CFG_LOCK, S3_SECRETS_FILE, s3EndpointFromSection, s3EndpointToSection, type S3Endpoint } from '../format/s3-endpoint-config.ts';
import { SecretsFile, SectionConfigFile } from '../storage/config-files.ts';
import type { Fs } from '../storage/fs-port.ts';
import { CachedChunkBackend } from './cached-chunk-backend.ts';
import { type ChunkBackendType, type StorageContext, type StoreStorage } from './chunk-backend-types.ts';
import { DEFAULT_PUT_CONCURRENCY, S3ChunkBackend } from './s3-chunk-backend.ts';
import { clientConfigFor, S3ObjectClient } from './s3-client.ts';
import { S3ContentMirror } from './s3-content-mirror.ts';
import { removeS3Store } from './s3-store-removal.ts';

export const S3_BACKEND_TYPE = 's3';
export const CHUNK_CACHE_DIR = '.chunk-cache';
export const MARKER_DIR = '.s3-markers';
/** 4 GiB: about a thousand average chunks; PBS recommends a 64–128 GiB cache disk */
export const DEFAULT_CACHE_BYTES = 4 * 1024 ** 3;
const OPTIONS = ['client', 'bucket', 'cache-size', 'put-concurrency'] as const;
const MAX_PUT_CONCURRENCY = 64;
const UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `4G`, `512M`, `1073741824`: bytes (binary units, an optional `iB`/`B` suffix). */
export function parseCacheSize(text: string): number {
  const m = /^(\d{1,15})\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? Number.NaN) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 16 * 1024 ** 2) {
    throw fail('INVALID_ARGUMENT', `cache-size '${text.slice(0, 40)}' is not a size of at least 16M (e.g. 64G, 512M)`, { param: 'cache-size', value: text.slice(0, 40) });
  }
  return n;
}

/** `put-concurrency=N`: 0 (every put waits for its PUT) to 64; absent: the default. */
export function parsePutConcurrency(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PUT_CONCURRENCY;
  const n = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n <= MAX_PUT_CONCURRENCY)) {
    throw fail('INVALID_ARGUMENT', `put-concurrency '${text.slice(0, 40)}' is not a whole number from 0 to ${MAX_PUT_CONCURRENCY}`, { param: 'put-concurrency', value: text.slice(0, 40) });
  }
  return n;
}

function required(options: ReadonlyMap<string, string>, key: string): string {
  const v = options.get(key);
  if (v === undefined || v === '') throw fail('INVALID_ARGUMENT', `backend type=s3 needs ${key}=…`, { param: 'backend', key });
  return v;
}

export const s3BackendType: ChunkBackendType = {
  type: S3_BACKEND_TYPE,
  checkOptions(options) {
    for (const k of options.keys()) {
      if (!(OPTIONS as readonly string[]).includes(k)) throw fail('INVALID_ARGUMENT', `backend type=s3 has no option '${k}' (known: ${OPTIONS.join(', ')})`, { param: 'backend', key: k });
    }
    checkS3EndpointId(required(options, 'client'));
    checkBucketName(required(options, 'bucket'));
    const size = options.get('cache-size');
    if (size !== undefined) parseCacheSize(size);
    parsePutConcurrency(options.get('put-concurrency'));
  },
  async prepare(ctx: StorageContext): Promise<StoreStorage> {
    const id = required(ctx.options, 'client');
    const { endpoint, secretKey } = await endpointWithSecret(ctx.configFs, ctx.configDir, id);
    const objects = new S3ObjectClient(clientConfigFor(endpoint, secretKey, required(ctx.options, 'bucket')));
    const size = ctx.options.get('cache-size');
    const capacityBytes = size === undefined ? DEFAULT_CACHE_BYTES : parseCacheSize(size);
    const putConcurrency = parsePutConcurrency(ctx.options.get('put-concurrency'));
    return {
      makeBackend: (fs: Fs, base: string) =>
        new CachedChunkBackend({
          inner: new S3ChunkBackend({ objects, store: ctx.store, fs, markerDir: join(base, MARKER_DIR), putConcurrency }),
          fs,
          dir: join(base, CHUNK_CACHE_DIR),
          capacityBytes,
        }),
      mirror: new S3ContentMirror({ objects, store: ctx.store }),
      close: () => objects.destroy(),
      destroy: (onProgress) => removeS3Store(objects, ctx.store, onProgress),
    };
  },
};

async function endpointWithSecret(fs: Fs, configDir: string, id: string): Promise<{ endpoint: S3Endpoint; secretKey: string }> {
  const config = new SectionConfigFile(fs, configDir, { file: S3_CFG, lock: S3_CFG_LOCK, fromSection: s3EndpointFromSection, toSection: s3EndpointToSection });
  const endpoint = (await config.list()).find((e) => e.id === id);
  if (!endpoint) throw fail('NOT_FOUND', `S3 endpoint '${id}' does not exist (holdfast s3 endpoint create)`, { id });
  const secretKey = (await new SecretsFile(fs, join(configDir, S3_SECRETS_FILE), 'endpoint ids').read())[id];
  if (secretKey === undefined) throw fail('INVALID_CONFIG', `${S3_SECRETS_FILE} has no secret key for S3 endpoint '${id}'`, { id });
  return { endpoint, secretKey };
}
