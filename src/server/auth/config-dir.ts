/**
 * The config directory as the auth code sees it: whole-file reads and durable atomic writes, and
 * one exclusive flock per config file family (`<dir>/.<name>.lck`) around read-modify-write cycles.
 *
 * Readers take no lock: every write is an atomic rename, so a reader sees the old or the new file.
 * Writers always re-read under the lock, so two writers (server and CLI) never lose an update.
 */
import { join } from 'node:path';
import { isHoldfastError } from '../../core/errors.ts';
import { atomicWrite } from '../../storage/atomic-write.ts';
import { withLock } from '../../storage/file-lock.ts';
import type { Fs } from '../../storage/fs-port.ts';
import { NodeFs } from '../../storage/node-fs.ts';

export const SECRET_MODE = 0o600;
export const CONFIG_MODE = 0o640;

export class ConfigDir {
  readonly path: string;
  readonly #fs: Fs;

  constructor(path: string, fs: Fs = new NodeFs()) {
    this.path = path;
    this.#fs = fs;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async ensure(): Promise<void> {
    await this.#fs.mkdir(this.path, { recursive: true, mode: 0o700 });
  }

  /** The file's text, or undefined when it does not exist. */
  async read(name: string): Promise<string | undefined> {
    try {
      return Buffer.from(await this.#fs.readFile(this.file(name))).toString('utf8');
    } catch (e) {
      if (isHoldfastError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#fs.stat(this.file(name))) !== undefined;
  }

  async write(name: string, text: string, perm = CONFIG_MODE): Promise<void> {
    await atomicWrite(this.#fs, this.file(name), Buffer.from(text, 'utf8'), { durable: true, perm });
  }

  /** Runs `fn` holding the exclusive lock `.<lockName>.lck`. */
  async locked<T>(lockName: string, fn: () => Promise<T>): Promise<T> {
    await this.ensure();
    return withLock(this.file(`.${lockName}.lck`), fn);
  }
}
