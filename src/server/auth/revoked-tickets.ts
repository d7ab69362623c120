/**
 * The logged-out tickets, kept on disk so a logout survives a server restart: `revoked-tickets.json`
 * in the config dir (mode 0600), `{"version":1,"entries":[{"hash","until"}]}`.
 *
 * Invariants:
 * - only a SHA-256 of each ticket is stored (a ticket is a credential; its hash is not);
 * - an entry is kept until its ticket would have expired anyway (`until`, epoch seconds), and
 *   dropped at the next load or revoke after that, so the list holds at most the tickets
 *   logged out within one ticket lifetime;
 * - at most MAX_ENTRIES: past that, the entries that expire soonest go first (a bound against a
 *   user who logs in and out in a loop; each of those is within minutes of its own expiry);
 * - a revoke is written durably (fsync, rename, directory fsync) before the logout is answered;
 *   a failed write fails the logout (the caller learns the ticket may still work after a restart).
 *
 * Writers re-read under the config dir's lock, so a CLI and the server never lose each other's
 * entries. A file that cannot be parsed is treated as empty and logged by the caller's load.
 */
import { createHash } from 'node:crypto';
import { SECRET_MODE, type ConfigDir } from './config-dir.ts';

export const REVOKED_TICKETS_FILE = 'revoked-tickets.json';
export const MAX_ENTRIES = 65_536;

const hashOf = (ticket: string): string => createHash('sha256').update(ticket).digest('hex');

function parse(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (text === undefined) return out;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) return out;
  for (const e of entries as unknown[]) {
    const { hash, until } = (e ?? {}) as { hash?: unknown; until?: unknown };
    if (typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) && typeof until === 'number' && Number.isSafeInteger(until)) out.set(hash, until);
  }
  return out;
}

function bounded(entries: Map<string, number>, now: number): Map<string, number> {
  const live = [...entries].filter(([, until]) => until >= now);
  live.sort((a, b) => b[1] - a[1]);
  return new Map(live.slice(0, MAX_ENTRIES));
}

export class RevokedTickets {
  readonly #config: ConfigDir;
  #entries = new Map<string, number>();

  private constructor(config: ConfigDir) {
    this.#config = config;
  }

  static async load(config: ConfigDir, now: number): Promise<RevokedTickets> {
    const list = new RevokedTickets(config);
    list.#entries = bounded(parse(await config.read(REVOKED_TICKETS_FILE)), now);
    return list;
  }

  has(ticket: string): boolean {
    return this.#entries.has(hashOf(ticket));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lists `ticket` until `until` and writes the list durably before resolving. */
  async revoke(ticket: string, until: number, now: number): Promise<void> {
    await this.#config.locked('revoked-tickets', async () => {
      const merged = parse(await this.#config.read(REVOKED_TICKETS_FILE));
      for (const [h, u] of this.#entries) merged.set(h, Math.max(u, merged.get(h) ?? 0));
      merged.set(hashOf(ticket), until);
      const next = bounded(merged, now);
      const entries = [...next].map(([hash, u]) => ({ hash, until: u }));
      await this.#config.write(REVOKED_TICKETS_FILE, `${JSON.stringify({ version: 1, entries })}\n`, SECRET_MODE);
      this.#entries = next;
    });
  }
}
