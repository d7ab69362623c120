/**
 * The task index: `<tasks dir>/index`, one line per ended task, oldest first:
 *
 *     UPID:…: 65A1B2C3 WARNINGS: 2
 *
 * (the UPID, the end time as hex epoch seconds, the final state). Lines are appended under an
 * in-process mutex; only the server writes it. Like the logs it is never synced: a line torn by a
 * power loss is skipped when read, and the registry re-adds its task from the log at the next start.
 */
import { toHoldfastError } from '../core/errors.ts';
import { KeyedMutex } from '../core/keyed-mutex.ts';
import type { Logger } from '../core/log.ts';
import { parseUpid } from '../core/upid.ts';
import type { Fs } from '../storage/fs-port.ts';
import { formatTaskState, parseTaskState, splitLogText, type TaskState } from './task-log.ts';
import { readTextIfExists } from '../storage/read-text.ts';

export interface TaskIndexEntry {
  readonly upid: string;
  /** epoch seconds */
  readonly endTime: number;
  readonly state: TaskState;
}

export function isUpid(text: string): boolean {
  try {
    parseUpid(text);
    return true;
  } catch {
    return false;
  }
}

export class TaskIndex {
  readonly path: string;
  readonly #fs: Fs;
  readonly #log: Logger;
  readonly #mutex = new KeyedMutex();

  constructor(fs: Fs, path: string, log: Logger) {
    this.#fs = fs;
    this.path = path;
    this.#log = log;
  }

  /** Appends a line; a failure only costs the listing, so it is logged, not thrown. */
  async append(e: TaskIndexEntry): Promise<void> {
    const line = `${e.upid} ${e.endTime.toString(16).toUpperCase().padStart(8, '0')} ${formatTaskState(e.state)}\n`;
    await this.#mutex.run(this.path, async () => {
      try {
        const size = (await this.#fs.stat(this.path))?.size ?? 0;
        const h = await this.#fs.open(this.path, size === 0 ? 'w' : 'r+', 0o640);
        try {
          await h.write(Buffer.from(line), size);
        } finally {
          await h.close();
        }
      } catch (err) {
        this.#log.warn(`cannot add task ${e.upid} to ${this.path}: ${toHoldfastError(err).message}`);
      }
    });
  }

  async read(): Promise<TaskIndexEntry[]> {
    const text = await readTextIfExists(this.#fs, this.path);
    if (text === undefined) return [];
    const out: TaskIndexEntry[] = [];
    for (const line of splitLogText(text)) {
      const m = /^(\S+) ([0-9A-Fa-f]{8,}) (.*)$/.exec(line);
      if (m?.[1] === undefined || !isUpid(m[1])) continue;
      out.push({ upid: m[1], endTime: Number.parseInt(m[2] ?? '0', 16), state: parseTaskState(m[3] ?? '') });
    }
    return out;
  }
}
