/**
 * The reader session behind a mount, which may live for days while the server closes a session
 * idle for its `session-idle-timeout` (10 minutes by default). A chunk fetch that finds its session
 * ended opens a new one and asks once more; chunks are named by digest and checked on arrival, so
 * asking again cannot give different bytes. The new session downloads the indexes of the archives
 * the mount reads first: a reader session hands out only chunks that an index downloaded in it
 * lists (as PBS's does). Anything else (a missing chunk, a refused login, a
 * snapshot deleted meanwhile) fails the read it belongs to, and only that read.
 *
 * Invariant: at most one session is being opened at a time; readers that find the same ended
 * session wait for the same new one. Every session opened is closed: an ended one once its
 * successor is ready (its decoding threads would otherwise outlive it), the last one by `close`. A failed opening fails the reads waiting for it, and the
 * next read tries again, so a mount recovers once the server is back.
 */
import type { ChunkRef } from '../remote/restore-reader.ts';
import type { ChunkFetch } from '../remote/archive-access.ts';
import type { ReaderSession } from './reader-session.ts';

export class MountSource {
  readonly #open: () => Promise<ReaderSession>;
  #current: Promise<ReaderSession>;
  readonly #ended = new WeakSet<ReaderSession>();
  #closing = false;
  /** The archives whose chunks the mount fetches: each new session downloads their indexes. */
  readonly #archives = new Set<string>();

  constructor(first: ReaderSession, open: () => Promise<ReaderSession>) {
    this.#open = open;
    this.#current = Promise.resolve(this.#watch(first));
  }

  #watch(s: ReaderSession): ReaderSession {
    void s.closed.then(() => this.#ended.add(s));
    return s;
  }

  /** The first session's reader (for the manifest and the indexes, read at mount time). */
  get current(): Promise<ReaderSession> {
    return this.#current;
  }

  /** Chunk fetches for archive `name` that survive the session's end. */
  fetch(name: string): ChunkFetch {
    this.#archives.add(name);
    return async (c: ChunkRef) => {
      const s = await this.#session();
      try {
        return await s.reader.chunk(name, c);
      } catch (e) {
        if (!this.#ended.has(s) || this.#closing) throw e;
        const p = this.#current;
        if ((await p) === s && this.#current === p) this.#current = this.#reopen();
        return (await this.#current).reader.chunk(name, c);
      }
    };
  }

  /** The current session; when opening it failed (the server was down), one more try. */
  async #session(): Promise<ReaderSession> {
    const p = this.#current;
    try {
      return await p;
    } catch {
      if (this.#current === p) this.#current = this.#reopen();
      return this.#current;
    }
  }

  async #reopen(): Promise<ReaderSession> {
    const old = await this.#current.catch(() => undefined);
    const n = this.#watch(await this.#open());
    try {
      for (const name of this.#archives) await n.reader.chunkList(name);
    } catch (e) {
      await n.close();
      throw e;
    }
    // the ended session's reads have all failed over to this one or are failing now
    if (old !== undefined) void old.close().catch(() => undefined);
    return n;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await (await this.#current.catch(() => undefined))?.close();
  }
}
