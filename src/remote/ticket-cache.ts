/**
 * TicketCache: the client keeps its login ticket between runs, as proxmox-backup-client does, so a
 * daily backup does not make the server run scrypt on the password every time (about 70 ms of
 * server CPU per login here); it renews the cached ticket instead, which the server checks with
 * one HMAC (`POST access/ticket` with the ticket as the password).
 *
 * Invariants:
 * - An entry is used only for the same server (host, port, pinned fingerprint), the same auth id
 *   and the same secret: a wrong or changed HOLDFAST_PASSWORD never rides on a cached ticket.
 *   The secret is stored only as a salted PBKDF2 check value, never in clear.
 * - Only tickets well inside their 2-hour lifetime are offered, so a renewal rarely fails; when it
 *   does (logout, key rotation) the client logs in with the password as if nothing was cached.
 * - The file is `$XDG_RUNTIME_DIR/holdfast/tickets.json` (else `~/.cache/holdfast/`), mode 0600
 *   in a 0700 directory, replaced atomically. It is a cache: an unreadable or unwritable file is
 *   ignored, never an error. `HOLDFAST_TICKET_CACHE=off` turns it off.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Offer a cached ticket while it is younger than this (the server accepts 7200 s). */
export const TICKET_REUSE_SECONDS = 3600;
const CHECK_ROUNDS = 10_000;
const MAX_ENTRIES = 64;

export interface CachedTicket {
  readonly username: string;
  readonly ticket: string;
  readonly csrf: string;
}

interface Entry extends CachedTicket {
  readonly server: string;
  readonly authId: string;
  readonly salt: string;
  readonly check: string;
  readonly time: number;
}

export interface TicketScope {
  /** `host:port|fingerprint` */
  readonly server: string;
  readonly authId: string;
  readonly secret: string;
}

function checkValue(secret: string, salt: Buffer): Buffer {
  return pbkdf2Sync(secret, salt, CHECK_ROUNDS, 32, 'sha256');
}

export class TicketCache {
  readonly #path: string | undefined;
  readonly #now: () => number;

  constructor(path: string | undefined, now: () => number = () => Math.floor(Date.now() / 1000)) {
    this.#path = path;
    this.#now = now;
  }

  /** The cache a CLI run uses, from its environment (disabled by HOLDFAST_TICKET_CACHE=off or without a home). */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): TicketCache {
    if (env['HOLDFAST_TICKET_CACHE'] === 'off') return new TicketCache(undefined);
    const base = env['XDG_RUNTIME_DIR'] || (env['HOME'] ? join(env['HOME'], '.cache') : undefined);
    return new TicketCache(base === undefined ? undefined : join(base, 'holdfast', 'tickets.json'));
  }

  get(scope: TicketScope): CachedTicket | undefined {
    const now = this.#now();
    const e = this.#load().find((x) => x.server === scope.server && x.authId === scope.authId && now - x.time < TICKET_REUSE_SECONDS && x.time <= now);
    if (!e) return undefined;
    const want = Buffer.from(e.check, 'base64');
    const got = checkValue(scope.secret, Buffer.from(e.salt, 'base64'));
    return want.length === got.length && timingSafeEqual(want, got) ? { username: e.username, ticket: e.ticket, csrf: e.csrf } : undefined;
  }

  put(scope: TicketScope, t: CachedTicket): void {
    const salt = randomBytes(16);
    const entry: Entry = { ...t, server: scope.server, authId: scope.authId, salt: salt.toString('base64'), check: checkValue(scope.secret, salt).toString('base64'), time: this.#now() };
    this.#save([entry, ...this.#load().filter((x) => !(x.server === scope.server && x.authId === scope.authId))].slice(0, MAX_ENTRIES));
  }

  drop(scope: TicketScope): void {
    this.#save(this.#load().filter((x) => !(x.server === scope.server && x.authId === scope.authId)));
  }

  #load(): Entry[] {
    if (this.#path === undefined) return [];
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.#path, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
    } catch {
      return [];
    }
  }

  #save(entries: readonly Entry[]): void {
    if (this.#path === undefined) return;
    const dir = join(this.#path, '..');
    const tmp = `${this.#path}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, JSON.stringify(entries), { mode: 0o600 });
      renameSync(tmp, this.#path);
    } catch {
      // a cache that cannot be written only costs the next run a password login
    }
  }
}

function isEntry(x: unknown): x is Entry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return ['username', 'ticket', 'csrf', 'server', 'authId', 'salt', 'check'].every((k) => typeof e[k] === 'string') && typeof e['time'] === 'number';
}
