/**
 * The remotes of a server: `remote.cfg` (format/remote-config.ts, mode 0640) and
 * `remote-secrets.json` (mode 0600, `{ "<name>": "<password or token secret>" }`) in the config
 * dir. Secrets stay out of remote.cfg so that the config can be shown and copied without them.
 *
 * Both files change only under the `.remote.lck` flock, each by one durable atomic write
 * (storage/config-files.ts). Write order keeps a crash harmless: create writes the secret before
 * the config entry, delete drops the entry before the secret. A remote that a sync job names
 * cannot be deleted (LOCKED, naming the jobs).
 */
import { join } from 'node:path';
import { fail } from '../../core/errors.ts';
import { checkRemoteName, checkRemoteSecret, makeRemote, REMOTE_CFG, remoteFromSection, remoteToSection, type Remote, type RemoteInput } from '../../format/remote-config.ts';
import { SecretsFile, SectionConfigFile } from '../../storage/config-files.ts';
import type { Fs } from '../../storage/fs-port.ts';
import { SyncJobStore } from './sync-job-store.ts';

export const REMOTE_SECRETS_FILE = 'remote-secrets.json';

export interface RemoteWithSecret extends Remote {
  readonly secret: string;
}

/** A change to a remote; null removes an optional value (port, fingerprint, comment). */
export interface RemotePatch {
  readonly host?: string;
  readonly port?: number | string | null;
  readonly authId?: string;
  readonly secret?: string;
  readonly fingerprint?: string | null;
  readonly comment?: string | null;
}

export class RemoteStore {
  readonly #fs: Fs;
  readonly #dir: string;
  readonly #config: SectionConfigFile<Remote>;
  readonly #secrets: SecretsFile;

  constructor(fs: Fs, configDir: string) {
    this.#fs = fs;
    this.#dir = configDir;
    this.#config = new SectionConfigFile(fs, configDir, { file: REMOTE_CFG, lock: '.remote.lck', fromSection: remoteFromSection, toSection: remoteToSection, mode: 0o640 });
    this.#secrets = new SecretsFile(fs, join(configDir, REMOTE_SECRETS_FILE), 'remote names');
  }

  list(): Promise<Remote[]> {
    return this.#config.list();
  }

  async get(name: string): Promise<Remote> {
    const found = (await this.list()).find((r) => r.name === name);
    if (!found) throw fail('NOT_FOUND', `remote '${name}' does not exist`, { remote: name });
    return found;
  }

  async getWithSecret(name: string): Promise<RemoteWithSecret> {
    const remote = await this.get(name);
    const secret = (await this.#secrets.read())[name];
    if (secret === undefined) throw fail('INVALID_CONFIG', `${REMOTE_SECRETS_FILE} has no password for remote '${name}'`, { remote: name });
    return { ...remote, secret };
  }

  async create(input: RemoteInput & { readonly secret: string }): Promise<Remote> {
    const remote = makeRemote(input);
    const secret = checkRemoteSecret(input.secret);
    return this.#config.locked(async () => {
      const all = await this.list();
      if (all.some((r) => r.name === remote.name)) throw fail('ALREADY_EXISTS', `remote '${remote.name}' exists already`, { remote: remote.name });
      await this.#secrets.change({ [remote.name]: secret });
      await this.#config.write([...all, remote]);
      return remote;
    });
  }

  /**
   * Changes the keys `patch` gives. `secretFollowsTarget`: a change of where the remote points
   * (host, port, auth-id or pinned fingerprint) must come with the password, else
   * INVALID_ARGUMENT: the API sets it, so that Remote.Modify, which never reads the stored
   * password, cannot send it to a server of its choice by pointing the remote there and running a
   * sync (PBS keeps the password; Holdfast closes that). The local CLI is the machine's admin.
   */
  async update(name: string, patch: RemotePatch, o: { readonly secretFollowsTarget?: boolean } = {}): Promise<Remote> {
    const secret = patch.secret === undefined ? undefined : checkRemoteSecret(patch.secret);
    return this.#config.locked(async () => {
      const all = await this.list();
      const old = all.find((r) => r.name === name);
      if (!old) throw fail('NOT_FOUND', `remote '${name}' does not exist`, { remote: name });
      const next = makeRemote(merge(old, patch));
      const moved = next.host !== old.host || next.port !== old.port || next.authId !== old.authId || next.fingerprint !== old.fingerprint;
      if (o.secretFollowsTarget === true && moved && secret === undefined) {
        throw fail('INVALID_ARGUMENT', `changing where remote '${name}' points (host, port, auth-id or fingerprint) needs its password again: the stored one is never sent to a new place`, { remote: name, param: 'password' });
      }
      if (secret !== undefined) await this.#secrets.change({ [name]: secret });
      await this.#config.write(all.map((r) => (r.name === name ? next : r)));
      return next;
    });
  }

  async remove(name: string): Promise<void> {
    checkRemoteName(name);
    await this.#config.locked(async () => {
      const all = await this.list();
      if (!all.some((r) => r.name === name)) throw fail('NOT_FOUND', `remote '${name}' does not exist`, { remote: name });
      const users = (await new SyncJobStore(this.#fs, this.#dir).list()).filter((j) => j.remote === name).map((j) => j.id);
      if (users.length > 0) throw fail('LOCKED', `remote '${name}' is used by sync job ${users.join(', ')}`, { remote: name, jobs: users });
      await this.#config.write(all.filter((r) => r.name !== name));
      await this.#secrets.change({ [name]: null });
    });
  }
}

function merge(old: Remote, p: RemotePatch): RemoteInput {
  const keep = <T>(v: T | null | undefined, was: T | undefined): T | undefined => (v === null ? undefined : (v ?? was));
  const port = p.host !== undefined && p.port === undefined ? undefined : keep(p.port, old.port);
  const fingerprint = keep(p.fingerprint, old.fingerprint);
  const comment = keep(p.comment, old.comment);
  return {
    name: old.name,
    host: p.host ?? (old.host.includes(':') ? `[${old.host}]` : old.host),
    authId: p.authId ?? old.authId,
    ...(port === undefined ? {} : { port }),
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(comment === undefined ? {} : { comment }),
  };
}
