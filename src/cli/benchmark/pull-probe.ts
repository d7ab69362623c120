/**
 * The pull probe: what a pull sync does on the wire, without storing anything. For every snapshot
 * of a datastore it opens a reader session, downloads the manifest and each index, and downloads
 * every chunk the indexes name (raw, as pull copies them: not decoded), with the read-ahead and
 * receive windows sized for `link`; `workers` snapshots at once (a sync job's worker threads). The
 * sync benchmark runs it on the target's side of the link until timing the real sync job.
 *
 * Chunks shared between snapshots are downloaded once (pull skips chunks the target has).
 */
import { performance } from 'node:perf_hooks';
import { fail } from '../../core/errors.ts';
import { toHex } from '../../core/digest.ts';
import { parseDynamicIndex } from '../../format/dynamic-index.ts';
import { parseFixedIndex } from '../../format/fixed-index.ts';
import { decodeManifestBlob } from '../../format/manifest.ts';
import { h2Transport } from '../../remote/h2-transport.ts';
import type { HttpClient } from '../../remote/http-client.ts';
import { readAheadFor, type LinkTarget } from '../../remote/link-target.ts';
import type { ProtocolTransport } from '../../remote/protocol-transport.ts';
import { fetchInOrder } from '../../remote/read-ahead.ts';

export interface PullProbeResult {
  readonly snapshots: number;
  readonly chunks: number;
  /** encoded chunk bytes downloaded */
  readonly bytes: number;
  /** from the first reader session to the last chunk */
  readonly seconds: number;
  /** CPU seconds this process used meanwhile (TLS, HTTP/2, index parsing) */
  readonly cpuSeconds: number;
}

interface SnapshotRef {
  readonly type: string;
  readonly id: string;
  readonly time: number;
}

async function listSnapshots(client: HttpClient, store: string): Promise<SnapshotRef[]> {
  const data = await client.call('GET', `admin/datastore/${store}/snapshots`);
  if (!Array.isArray(data)) throw fail('UPSTREAM_ERROR', 'the snapshot list is not a list', {});
  return data.map((s: Record<string, unknown>) => ({ type: String(s['backup-type']), id: String(s['backup-id']), time: Number(s['backup-time']) }));
}

/** The chunk digests (hex) and sizes an index names. */
function indexChunks(name: string, bytes: Uint8Array): { digest: string; size: number }[] {
  if (name.endsWith('.fidx')) {
    const idx = parseFixedIndex(bytes);
    return idx.digests.map((d, i) => ({ digest: toHex(d), size: Math.min(idx.chunkSize, idx.size - i * idx.chunkSize) }));
  }
  let start = 0;
  return parseDynamicIndex(bytes).entries.map((e) => {
    const r = { digest: toHex(e.digest), size: e.end - start };
    start = e.end;
    return r;
  });
}

async function pullSnapshot(t: ProtocolTransport, seen: Set<string>, link: LinkTarget): Promise<{ chunks: number; bytes: number }> {
  const manifest = decodeManifestBlob(await t.download('download', { 'file-name': 'index.json.blob' }));
  let chunks = 0;
  let bytes = 0;
  for (const f of manifest.files) {
    if (!f.filename.endsWith('.didx') && !f.filename.endsWith('.fidx')) continue;
    const todo = indexChunks(f.filename, await t.download('download', { 'file-name': f.filename })).filter((c) => !seen.has(c.digest));
    for (const c of todo) seen.add(c.digest);
    for await (const raw of fetchInOrder(todo, (c) => t.download('chunk', { digest: c.digest }), readAheadFor(link))) {
      chunks++;
      bytes += raw.byteLength;
    }
  }
  return { chunks, bytes };
}

export async function runPullProbe(client: HttpClient, store: string, workers: number, link: LinkTarget): Promise<PullProbeResult> {
  const snapshots = await listSnapshots(client, store);
  const seen = new Set<string>();
  const queue = [...snapshots];
  let chunks = 0;
  let bytes = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      const session = await client.upgradeReader('reader', { store, 'backup-type': s.type, 'backup-id': s.id, 'backup-time': s.time }, 'proxmox-backup-reader-protocol-v1');
      const t = h2Transport(session);
      try {
        const r = await pullSnapshot(t, seen, link);
        chunks += r.chunks;
        bytes += r.bytes;
      } finally {
        await t.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, snapshots.length)) }, worker));
  const used = process.cpuUsage(cpu);
  return { snapshots: snapshots.length, chunks, bytes, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}
