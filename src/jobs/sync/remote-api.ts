/**
 * The other server of a sync job, through the remote layer: a logged-in API client (password
 * login, or an API token), listings of namespaces, groups and snapshots through the API, and
 * reader or backup sessions on one snapshot (the h2 protocols).
 *
 * Every byte a reader session downloads is counted, and drawn from the job's `rate-in` bucket
 * when there is one; every body a backup session uploads is drawn from `rate-out`. The answers
 * of the other server are not trusted: listings are checked field by field (a bad entry is an
 * UPSTREAM_ERROR naming it), and what a reader session returns is checked by the puller.
 */
import { checkNamespace, formatTime, type GroupRef, type SnapshotRef } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { authIdParts, CLIENT_LOG_BLOB_NAME, isBackupType, SAFE_ID, type AuthId } from '../../core/names.ts';
import { DEFAULT_REMOTE_PORT } from '../../format/remote-config.ts';
import { h2Transport } from '../../remote/h2-transport.ts';
import { HttpClient } from '../../remote/http-client.ts';
import type { ProtocolTransport } from '../../remote/protocol-transport.ts';
import type { RemoteWithSecret } from './remote-store.ts';
import type { TokenBucket } from '../../core/token-bucket.ts';

export const READER_PROTOCOL_NAME = 'proxmox-backup-reader-protocol-v1';
export const BACKUP_PROTOCOL_NAME = 'proxmox-backup-protocol-v1';

/** One snapshot as the other server lists it. */
export interface RemoteSnapshot {
  readonly ref: SnapshotRef;
  /** the last verify's state (`ok`, `failed`), if any */
  readonly verifyState: string | undefined;
  /** every file but the plain key blob is encrypted */
  readonly encrypted: boolean;
  readonly protected: boolean;
  /**
   * The files the listing names (at most a few, see pull-snapshot.ts): a hint only, to start their
   * downloads beside the manifest's; the manifest alone says what the snapshot holds.
   */
  readonly files?: readonly string[];
}

/** A listed file name worth fetching ahead: an index or a blob, never the manifest or a path. */
const HINT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}\.(?:fidx|didx|blob)$/;

/** One group as the other server lists it; `owner` is absent when it does not say. */
export interface RemoteGroup extends GroupRef {
  readonly owner: string | undefined;
}

/** What a group or namespace deletion on the other server removed (PBS's BackupGroupDeleteStats). */
export interface RemoteRemoval {
  readonly removedGroups: number;
  readonly removedSnapshots: number;
  readonly protectedSnapshots: number;
}

export interface TransferCounters {
  bytes: number;
}

function upstream(what: string, value: unknown): never {
  throw fail('UPSTREAM_ERROR', `the remote answered a bad ${what}: ${JSON.stringify(value)?.slice(0, 200)}`, { what });
}

export class RemoteApi {
  readonly client: HttpClient;
  readonly store: string;
  /** who the other server sees: owns what a push creates there */
  readonly authId: string;
  readonly #rate: TokenBucket | undefined;
  readonly counters: TransferCounters = { bytes: 0 };

  private constructor(client: HttpClient, store: string, authId: string, rate: TokenBucket | undefined) {
    this.client = client;
    this.store = store;
    this.authId = authId;
    this.#rate = rate;
  }

  /** Logs in to the remote (a token needs no login) and returns the API for `store`. */
  static async connect(r: RemoteWithSecret, store: string, rate?: TokenBucket): Promise<RemoteApi> {
    const isToken = authIdParts(r.authId as AuthId).tokenName !== undefined;
    const client = new HttpClient({
      host: r.host,
      port: r.port ?? DEFAULT_REMOTE_PORT,
      ...(r.fingerprint === undefined ? {} : { fingerprint: r.fingerprint }),
      ...(isToken ? { token: { tokenid: r.authId, secret: r.secret } } : {}),
    });
    if (!isToken) await client.login(r.authId, r.secret);
    return new RemoteApi(client, store, r.authId, rate);
  }

  /** Ends the client's idle API connections (the job is over). */
  close(): void {
    this.client.close();
  }

  #path(rest: string): string {
    return `admin/datastore/${encodeURIComponent(this.store)}/${rest}`;
  }

  /** Namespaces at and below `parent`, at most `maxDepth` levels below it. */
  async namespaces(parent: string, maxDepth: number | undefined): Promise<string[]> {
    const list = (await this.client.get(this.#path('namespace'), parent === '' ? {} : { parent }));
    if (!Array.isArray(list)) upstream('namespace list', list);
    const base = parent === '' ? 0 : parent.split('/').length;
    const out: string[] = [];
    for (const item of list as unknown[]) {
      const ns = (item as { ns?: unknown } | null)?.ns;
      if (typeof ns !== 'string') upstream('namespace', item);
      checkNamespace(ns);
      const depth = (ns === '' ? 0 : ns.split('/').length) - base;
      if (maxDepth === undefined || depth <= maxDepth) out.push(ns);
    }
    return out;
  }

  async groups(ns: string): Promise<RemoteGroup[]> {
    const list = (await this.client.get(this.#path('groups'), ns === '' ? {} : { ns }));
    if (!Array.isArray(list)) upstream('group list', list);
    return (list as Record<string, unknown>[]).map((g) => {
      const type = g['backup-type'];
      const id = g['backup-id'];
      const owner = g['owner'];
      if (typeof type !== 'string' || !isBackupType(type) || typeof id !== 'string' || !SAFE_ID.test(id)) upstream('group', g);
      if (owner !== undefined && owner !== null && typeof owner !== 'string') upstream('group owner', g);
      return { ns, type, id, owner: owner ?? undefined };
    });
  }

  /** The finished snapshots of a group, oldest first. */
  async snapshots(g: GroupRef): Promise<RemoteSnapshot[]> {
    const list = (await this.client.get(this.#path('snapshots'), { 'backup-type': g.type, 'backup-id': g.id, ...(g.ns === '' ? {} : { ns: g.ns }) }));
    if (!Array.isArray(list)) upstream('snapshot list', list);
    const out = (list as Record<string, unknown>[]).map((s) => {
      const time = s['backup-time'];
      if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) upstream('snapshot', s);
      const files = Array.isArray(s['files']) ? (s['files'] as { filename?: unknown; 'crypt-mode'?: unknown }[]) : [];
      const data = files.filter((f) => f.filename !== 'rsa-encrypted.key.blob');
      // the client log, added after the backup, lists no crypt mode: it says nothing of the archives'
      const archives = data.filter((f) => f.filename !== CLIENT_LOG_BLOB_NAME);
      const state = (s['verification'] as { state?: unknown } | undefined)?.state;
      return {
        ref: { ...g, time },
        verifyState: typeof state === 'string' ? state : undefined,
        encrypted: archives.length > 0 && archives.every((f) => f['crypt-mode'] === 'encrypt'),
        protected: s['protected'] === true,
        files: data.map((f) => f.filename).filter((n): n is string => typeof n === 'string' && HINT_NAME.test(n) && n !== 'index.json.blob'),
      };
    });
    return out.sort((a, b) => a.ref.time - b.ref.time);
  }

  async deleteSnapshot(s: SnapshotRef): Promise<void> {
    await this.client.delete(this.#path('snapshots'), { 'backup-type': s.type, 'backup-id': s.id, 'backup-time': s.time, ...(s.ns === '' ? {} : { ns: s.ns }) });
  }

  /** Adds `blob` as the client log of snapshot `s` there (upload-backup-log: we own what we pushed). */
  async uploadClientLog(s: SnapshotRef, blob: Uint8Array): Promise<void> {
    await this.client.upload(this.#path('upload-backup-log'), { 'backup-type': s.type, 'backup-id': s.id, 'backup-time': s.time, ...(s.ns === '' ? {} : { ns: s.ns }) }, blob);
  }

  /** Deletes a group there; protected snapshots stay (and keep the group), as the answer says. */
  async deleteGroup(g: GroupRef): Promise<RemoteRemoval> {
    const answer = await this.client.delete(this.#path('groups'), { 'backup-type': g.type, 'backup-id': g.id, 'error-on-protected': false, ...(g.ns === '' ? {} : { ns: g.ns }) });
    const count = (key: string): number => {
      const n = (answer as Record<string, unknown> | null)?.[key];
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : upstream('group deletion answer', answer);
    };
    return { removedGroups: count('removed-groups'), removedSnapshots: count('removed-snapshots'), protectedSnapshots: count('protected-snapshots') };
  }

  /** Deletes an empty namespace there (never its groups: the caller removes those it may). */
  async deleteNamespace(ns: string): Promise<void> {
    await this.client.delete(this.#path('namespace'), { ns });
  }

  async createNamespace(ns: string): Promise<void> {
    const cut = ns.lastIndexOf('/');
    await this.client.post(this.#path('namespace'), { name: ns.slice(cut + 1), ...(cut === -1 ? {} : { parent: ns.slice(0, cut) }) });
  }

  /** A reader session on one snapshot; downloads are counted and rate-limited. */
  async reader(s: SnapshotRef): Promise<ProtocolTransport> {
    const t = h2Transport(await this.client.upgradeReader('reader', this.#snapshotQuery(s), READER_PROTOCOL_NAME));
    return {
      call: (m, p, q, b) => t.call(m, p, q, b),
      download: async (p, q, into) => {
        const bytes = await t.download(p, q, into);
        this.counters.bytes += bytes.length;
        await this.#rate?.take(bytes.length);
        return bytes;
      },
      close: () => t.close(),
    };
  }

  /** A backup session writing one snapshot; uploads are counted and rate-limited. */
  async writer(s: SnapshotRef): Promise<ProtocolTransport> {
    const t = h2Transport(await this.client.upgrade('backup', this.#snapshotQuery(s), BACKUP_PROTOCOL_NAME));
    return {
      call: async (m, p, q, b) => {
        if (b !== undefined) {
          this.counters.bytes += b.length;
          await this.#rate?.take(b.length);
        }
        return t.call(m, p, q, b);
      },
      download: (p, q) => t.download(p, q),
      close: () => t.close(),
    };
  }

  #snapshotQuery(s: SnapshotRef): Record<string, string | number> {
    return { store: this.store, 'backup-type': s.type, 'backup-id': s.id, 'backup-time': s.time, ...(s.ns === '' ? {} : { ns: s.ns }) };
  }

  show(s: SnapshotRef | GroupRef): string {
    const ns = s.ns === '' ? '' : `ns/${s.ns}/`;
    return `${ns}${s.type}/${s.id}${'time' in s ? `/${formatTime(s.time)}` : ''}`;
  }
}
