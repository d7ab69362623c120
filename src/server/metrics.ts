/**
 * ServerMetrics: what `GET /metrics` reports, in Prometheus's text format (prom-client renders it;
 * issue #15). Two kinds of figures:
 *
 * - Events counted as they happen: HTTP requests and errors (by method, status class and error
 *   code), backups (by store and outcome) with their bytes, new and reused chunks and duration.
 * - State read at scrape time from what the server already keeps: per datastore its usage and
 *   dedup factor (the last GC's figures, as the dashboard shows them), chunk count, snapshot count,
 *   sync calls and the seconds they took by kind at the store's sync level, and the last GC, verify
 *   and prune outcome and time (from the task list); the process's memory and CPU (prom-client's
 *   default process metrics) and the upload pool.
 *
 * Invariants: a scrape never changes state and never fails on one broken datastore (its figures
 * are left out and `holdfast_datastore_scrape_errors_total` counts it); labels are only store
 * names, methods, status classes, error codes and outcomes, so series stay bounded.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncCounts } from '../storage/fs-port.ts';
import type { UploadMemoryStats } from './protocol/upload-memory.ts';

/** One datastore's state, as the scrape reads it. */
export interface StoreFigures {
  readonly name: string;
  readonly syncLevel: string;
  /** bytes of chunks on disk (last GC), undefined before the first GC */
  readonly diskBytes: number | undefined;
  readonly chunks: number | undefined;
  readonly dedupFactor: number | undefined;
  readonly snapshots: number;
  readonly syncCalls: SyncCounts;
  readonly syncSeconds: SyncCounts;
  /** the chunk storage's request, byte and cache counters (object stores), if it keeps them */
  readonly storageCounters?: Readonly<Record<string, number>> | undefined;
  /** the newest finished task of each kind */
  readonly lastTasks: readonly { readonly kind: 'gc' | 'verify' | 'prune'; readonly ok: boolean; readonly endTime: number }[];
}

export interface MetricsSources {
  stores(): Promise<readonly (StoreFigures | Error)[]>;
  uploads(): UploadMemoryStats;
}

export interface BackupOutcome {
  readonly store: string;
  readonly ok: boolean;
  readonly bytes: number;
  readonly chunks: number;
  readonly reused: number;
  readonly seconds: number;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class ServerMetrics {
  readonly #registry = new Registry();
  readonly #http: Counter<'method' | 'status'>;
  readonly #httpErrors: Counter<'code'>;
  readonly #backups: Counter<'store' | 'outcome'>;
  readonly #backupBytes: Counter<'store'>;
  readonly #backupChunks: Counter<'store' | 'kind'>;
  readonly #backupSeconds: Histogram<'store'>;

  constructor(sources: MetricsSources) {
    const registers = [this.#registry];
    collectDefaultMetrics({ register: this.#registry, prefix: 'holdfast_' });
    this.#http = new Counter({ name: 'holdfast_http_requests_total', help: 'HTTP API requests answered, by method and status class', labelNames: ['method', 'status'], registers });
    this.#httpErrors = new Counter({ name: 'holdfast_http_errors_total', help: 'HTTP API error answers, by error code', labelNames: ['code'], registers });
    this.#backups = new Counter({ name: 'holdfast_backups_total', help: 'backup sessions ended, by store and outcome (ok, failed)', labelNames: ['store', 'outcome'], registers });
    this.#backupBytes = new Counter({ name: 'holdfast_backup_bytes_total', help: 'plaintext bytes of the chunks uploaded by finished backups', labelNames: ['store'], registers });
    this.#backupChunks = new Counter({ name: 'holdfast_backup_chunks_total', help: 'chunks uploaded by finished backups: new (stored) or reused (already there)', labelNames: ['store', 'kind'], registers });
    this.#backupSeconds = new Histogram({ name: 'holdfast_backup_duration_seconds', help: 'duration of finished backups', labelNames: ['store'], buckets: [1, 5, 15, 60, 300, 900, 3600, 14400], registers });
    this.#storeGauges(sources, registers);
    const uploadGauge = (name: string, help: string, pick: (s: UploadMemoryStats) => number): Gauge =>
      new Gauge({ name, help, registers, collect: function (this: Gauge) { this.set(pick(sources.uploads())); } });
    uploadGauge('holdfast_upload_pool_max_bytes', 'the cap on chunk upload buffers of all sessions', (s) => s.maxBytes);
    uploadGauge('holdfast_upload_pool_slots_in_use', 'chunk upload buffers leased now', (s) => s.slotsInUse);
    uploadGauge('holdfast_upload_pool_waiting', 'chunk uploads waiting for a buffer', (s) => s.waiting);
    uploadGauge('holdfast_backup_sessions', 'backup sessions open now', (s) => s.sessions);
  }

  httpAnswered(method: string, status: number, code: string | undefined): void {
    this.#http.inc({ method, status: `${Math.floor(status / 100)}xx` });
    if (code !== undefined) this.#httpErrors.inc({ code });
  }

  backupEnded(o: BackupOutcome): void {
    this.#backups.inc({ store: o.store, outcome: o.ok ? 'ok' : 'failed' });
    if (!o.ok) return;
    this.#backupBytes.inc({ store: o.store }, o.bytes);
    this.#backupChunks.inc({ store: o.store, kind: 'new' }, o.chunks - o.reused);
    this.#backupChunks.inc({ store: o.store, kind: 'reused' }, o.reused);
    this.#backupSeconds.observe({ store: o.store }, o.seconds);
  }

  /** The exposition text of every metric. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }

  /** Per-datastore gauges, read from `sources.stores()` once per scrape by the first of them. */
  #storeGauges(sources: MetricsSources, registers: Registry[]): void {
    const errors = new Counter({ name: 'holdfast_datastore_scrape_errors_total', help: 'datastores whose figures could not be read at a scrape', registers });
    const labelNames = ['store'] as const;
    // prom-client calls each collect on every scrape, in registration order: the first one reads
    // the stores, the others wait for that same reading
    let pending: Promise<void> = Promise.resolve();
    const first = async (): Promise<void> => {
      pending = refresh();
      await pending;
    };
    const later = (): Promise<void> => pending;
    const used = new Gauge({ name: 'holdfast_datastore_used_bytes', help: "bytes of the datastore's chunks on disk, as of its last GC", labelNames, registers, collect: first });
    const chunks = new Gauge({ name: 'holdfast_datastore_chunks', help: 'chunks in the datastore, as of its last GC', labelNames, registers, collect: later });
    const dedup = new Gauge({ name: 'holdfast_datastore_dedup_factor', help: 'referenced bytes / stored bytes, as of the last GC', labelNames, registers, collect: later });
    const snapshots = new Gauge({ name: 'holdfast_datastore_snapshots', help: 'snapshots in the datastore, all namespaces', labelNames, registers, collect: later });
    const level = new Gauge({ name: 'holdfast_datastore_sync_level_info', help: 'the sync level of the datastore (always 1)', labelNames: ['store', 'level'], registers, collect: later });
    const syncCalls = new Gauge({ name: 'holdfast_sync_calls_total', help: 'fsync/syncfs calls made for the datastore since the server started, by kind and sync level', labelNames: ['store', 'level', 'kind'], registers, collect: later });
    const syncSeconds = new Gauge({ name: 'holdfast_sync_seconds_total', help: 'seconds spent in those sync calls', labelNames: ['store', 'level', 'kind'], registers, collect: later });
    const lastOk = new Gauge({ name: 'holdfast_datastore_last_task_success', help: 'whether the newest finished GC, verify or prune task succeeded (1) or not (0)', labelNames: ['store', 'task'], registers, collect: later });
    const lastEnd = new Gauge({ name: 'holdfast_datastore_last_task_end_seconds', help: 'end time (epoch seconds) of the newest finished task of that kind', labelNames: ['store', 'task'], registers, collect: later });
    const storage = new Gauge({
      name: 'holdfast_datastore_storage_total',
      help: "the datastore's chunk-storage counters since the server opened it (object stores: requests get/put/post/head/delete, uploadBytes, downloadBytes, cacheHits, cacheMisses; cacheBytes is a level)",
      labelNames: ['store', 'counter'],
      registers,
      collect: later,
    });
    const all = [used, chunks, dedup, snapshots, level, syncCalls, syncSeconds, lastOk, lastEnd, storage];
    const refresh = async (): Promise<void> => {
      for (const g of all) g.reset();
      for (const f of await sources.stores()) {
        if (f instanceof Error) {
          errors.inc();
          continue;
        }
        const store = f.name;
        if (f.diskBytes !== undefined) used.set({ store }, f.diskBytes);
        if (f.chunks !== undefined) chunks.set({ store }, f.chunks);
        if (f.dedupFactor !== undefined) dedup.set({ store }, f.dedupFactor);
        snapshots.set({ store }, f.snapshots);
        level.set({ store, level: f.syncLevel }, 1);
        for (const kind of ['fsyncFile', 'fsyncDir', 'syncfs'] as const) {
          syncCalls.set({ store, level: f.syncLevel, kind }, f.syncCalls[kind]);
          syncSeconds.set({ store, level: f.syncLevel, kind }, f.syncSeconds[kind]);
        }
        for (const [counter, n] of Object.entries(f.storageCounters ?? {})) storage.set({ store, counter }, n);
        for (const t of f.lastTasks) {
          lastOk.set({ store, task: t.kind }, t.ok ? 1 : 0);
          lastEnd.set({ store, task: t.kind }, t.endTime);
        }
      }
    };
  }
}
