/**
 * The two kinds of config file the server keeps beside each other in its config directory, one
 * implementation each for every config that has them (datastore.cfg, s3.cfg, notifications.cfg and
 * their secrets):
 *
 * - `SectionConfigFile<T>`: a PBS section-config file of `T` entries, read fresh on every call and
 *   changed only under its flock, by one durable atomic write, so the CLI and a running server
 *   never lose each other's updates.
 * - `SecretsFile`: a JSON object of names to secret strings, mode 0600, kept out of the config so
 *   that a config can be shown, copied and backed up without its secrets.
 *
 * Invariant: a caller that changes both files of one config does it inside one `locked` call of
 * the config file, secrets first on create and last on delete, so a crash leaves at worst an
 * unused secret, never a config entry without its secret.
 */
import { join } from 'node:path';
import { fail } from '../core/errors.ts';
import { formatSectionConfig, parseSectionConfig, type Section } from '../format/section-config.ts';
import { atomicWrite } from './atomic-write.ts';
import { withLock } from './file-lock.ts';
import type { Fs } from './fs-port.ts';
import { readTextIfExists } from './read-text.ts';

export interface SectionConfigFormat<T> {
  /** the file name in the config directory, e.g. `datastore.cfg` */
  readonly file: string;
  /** the lock file's name beside it, e.g. `.datastore.lck` */
  readonly lock: string;
  /** one entry from its section; INVALID_CONFIG (naming `path`) for a bad one */
  fromSection(s: Section, path: string): T;
  toSection(t: T): Section;
  /** checks of the whole list before it is written (e.g. references between entries) */
  check?(all: readonly T[]): void;
  /** file mode of the config (default 0640) */
  readonly mode?: number;
}

export class SectionConfigFile<T> {
  readonly #fs: Fs;
  readonly #dir: string;
  readonly #f: SectionConfigFormat<T>;

  constructor(fs: Fs, configDir: string, format: SectionConfigFormat<T>) {
    this.#fs = fs;
    this.#dir = configDir;
    this.#f = format;
  }

  get path(): string {
    return join(this.#dir, this.#f.file);
  }

  /** Every entry, in file order; none when the file does not exist. */
  async list(): Promise<T[]> {
    const text = await readTextIfExists(this.#fs, this.path);
    if (text === undefined) return [];
    const all = parseSectionConfig(text, this.path).map((s) => this.#f.fromSection(s, this.path));
    this.#f.check?.(all);
    return all;
  }

  /** Runs `fn` under the config's lock (creating the config directory, 0700, if needed). */
  async locked<R>(fn: () => Promise<R>): Promise<R> {
    await this.#fs.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    return withLock(join(this.#dir, this.#f.lock), fn);
  }

  /** Replaces the file's entries; only inside `locked`. What is written must read back. */
  async write(all: readonly T[]): Promise<void> {
    this.#f.check?.(all);
    const text = formatSectionConfig(all.map((t) => this.#f.toSection(t)));
    parseSectionConfig(text, this.path).forEach((s) => this.#f.fromSection(s, this.path));
    await atomicWrite(this.#fs, this.path, Buffer.from(text), { durable: true, perm: this.#f.mode ?? 0o640 });
  }

  /** Read-modify-write under the lock; `fn` returns the new list. */
  async update(fn: (current: T[]) => readonly T[] | Promise<readonly T[]>): Promise<void> {
    await this.locked(async () => this.write(await fn(await this.list())));
  }
}

export class SecretsFile {
  readonly #fs: Fs;
  readonly #path: string;
  readonly #what: string;

  /** `what` names the keys in errors, e.g. "endpoint ids". */
  constructor(fs: Fs, path: string, what: string) {
    this.#fs = fs;
    this.#path = path;
    this.#what = what;
  }

  async read(): Promise<Record<string, string>> {
    const text = await readTextIfExists(this.#fs, this.#path);
    if (text === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw fail('INVALID_CONFIG', `${this.#path} is not valid JSON`, { file: this.#path }, e);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
      throw fail('INVALID_CONFIG', `${this.#path} must map ${this.#what} to secrets`, { file: this.#path });
    }
    return { ...(parsed as Record<string, string>) };
  }

  /** Sets (a string) or removes (null) entries; only under the lock of the config it belongs to. */
  async change(changes: Readonly<Record<string, string | null>>): Promise<void> {
    const all = await this.read();
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete all[k];
      else all[k] = v;
    }
    await atomicWrite(this.#fs, this.#path, Buffer.from(`${JSON.stringify(all, null, 2)}\n`), { durable: true, perm: 0o600 });
  }
}
