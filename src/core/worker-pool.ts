/**
 * WorkerPool: a fixed set of worker threads that run one kind of CPU-heavy job (hashing,
 * compression, blob decoding) off the event loop, so both cores stay busy while the main thread
 * does I/O. Jobs are queued FIFO; each worker runs one at a time. Buffers named in `transfer` move
 * to the worker without a copy.
 *
 * Workers are TypeScript modules: they start through `worker-bootstrap.mjs`, which imports the
 * module given in `workerData.module` (registering tsx first when running from the sources). In
 * the compiled tree (dist/) a worker's `.ts` URL names its `.js` output instead. A worker answers `{ id, ok, value }`
 * or `{ id, ok: false, error: { code, message, details } }`; errors come back as HoldfastErrors.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { fail, HoldfastError } from './errors.ts';
import { isErrorCode } from './error-codes.ts';

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Job {
  readonly id: number;
  readonly msg: unknown;
  readonly transfer: readonly TransferListItem[];
  readonly pending: Pending;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { code: string; message: string; details: Record<string, unknown> } };

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const COMPILED = import.meta.url.endsWith('.js');

/** The module to load for `url`: as given from the sources, its `.js` output when compiled. */
export function workerModule(url: URL): URL {
  return COMPILED && url.pathname.endsWith('.ts') ? new URL(url.href.replace(/\.ts$/, '.js')) : url;
}

export class WorkerPool {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #inflight = new Map<Worker, Job>();
  readonly #size: number;
  readonly #module: string;
  #nextId = 1;
  #closed = false;

  /**
   * Up to `size` workers, each started when a job finds no idle one: a worker is a V8 isolate of
   * its own, whose start costs tens of milliseconds of CPU, which a short run (an unchanged
   * re-backup) that never needs it should not pay.
   */
  constructor(moduleUrl: URL, size = Math.max(1, availableParallelism())) {
    this.#size = size;
    this.#module = workerModule(moduleUrl).href;
  }

  /** The most workers this pool runs. */
  get size(): number {
    return this.#size;
  }

  /** Workers started so far. */
  get started(): number {
    return this.#all.length;
  }

  /**
   * Starts `count` workers (default: all) now, for a caller that will surely use them and can
   * overlap their start with other work; the rest still start on demand.
   */
  warm(count = this.#size): this {
    while (!this.#closed && this.#all.length < Math.min(count, this.#size)) this.#spawn();
    return this;
  }

  run<T>(msg: unknown, transfer: readonly TransferListItem[] = []): Promise<T> {
    if (this.#closed) return Promise.reject(fail('ABORTED', 'worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, msg, transfer, pending: { resolve: resolve, reject } });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#all.map((w) => w.terminate()));
  }

  #spawn(): void {
    const w = new Worker(BOOTSTRAP, { workerData: { module: this.#module } });
    w.unref();
    w.on('message', (r: Reply) => this.#onReply(w, r));
    w.on('error', (e) => this.#onCrash(w, e));
    this.#all.push(w);
    this.#idle.push(w);
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      if (this.#idle.length === 0) {
        if (this.#all.length >= this.#size) return;
        this.#spawn();
      }
      const w = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#inflight.set(w, job);
      w.ref();
      try {
        w.postMessage({ id: job.id, msg: job.msg }, [...job.transfer]);
      } catch (e) {
        // not sent (a detached or uncloneable buffer): the job fails, the worker is idle again
        // and unref'd, so it neither waits for an answer that cannot come nor holds the process
        this.#inflight.delete(w);
        w.unref();
        this.#idle.push(w);
        job.pending.reject(fail('INTERNAL', `cannot hand a job to a worker thread: ${e instanceof Error ? e.message : String(e)}`, {}, e));
      }
    }
  }

  #onReply(w: Worker, r: Reply): void {
    const job = this.#inflight.get(w);
    this.#inflight.delete(w);
    w.unref();
    this.#idle.push(w);
    if (job) {
      if (r.ok) job.pending.resolve(r.value);
      else job.pending.reject(new HoldfastError(isErrorCode(r.error.code) ? r.error.code : 'INTERNAL', r.error.message, r.error.details));
    }
    this.#pump();
  }

  #onCrash(w: Worker, e: unknown): void {
    const job = this.#inflight.get(w);
    this.#inflight.delete(w);
    job?.pending.reject(fail('INTERNAL', `worker thread crashed: ${e instanceof Error ? e.message : 'unknown error'}`, {}, e));
  }
}
