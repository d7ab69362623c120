/**
 * The S3 endpoints of a server: `s3.cfg` (section config, mode 0640, see format/s3-endpoint-config)
 * and `s3-secrets.json` (mode 0600, `{ "<id>": "<secret key>" }`) in the config dir. Secrets stay
 * out of s3.cfg so that the config can be shown, copied and backed up without them.
 *
 * Both files change only under the `.s3.lck` flock, each by one durable atomic write, so the CLI
 * and a running server never lose each other's updates. Write order keeps a crash harmless:
 * create writes the secret before the config entry (an orphan secret is unused), delete drops the
 * config entry before the secret. An endpoint that a datastore's `backend` property names
 * (`client=<id>`) cannot be deleted.
 */
import { join } from 'node:path';
import { fail } from '../core/errors.ts';
import { parsePropertyMap } from '../format/property-string.ts';
import {
  checkKeyText,
  checkS3EndpointId,
  makeS3Endpoint,
  S3_CFG,
  S3_CFG_LOCK as LOCK_FILE,
  S3_SECRETS_FILE,
  s3EndpointFromSection,
  s3EndpointToSection,
  type S3Endpoint,
  type S3EndpointInput,
} from '../format/s3-endpoint-config.ts';
import { SecretsFile, SectionConfigFile } from '../storage/config-files.ts';
import type { Fs } from '../storage/fs-port.ts';
import { DatastoreConfigFile } from './datastore-config.ts';

export { S3_SECRETS_FILE };
const CONFIG_MODE = 0o640;

/** An endpoint with its secret: what a client needs to sign requests. */
export interface S3EndpointWithSecret extends S3Endpoint {
  readonly secretKey: string;
}

/** A change to an endpoint; `fingerprint: null` removes the pin. */
export interface S3EndpointPatch {
  readonly endpoint?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
  readonly fingerprint?: string | null;
}

export class S3EndpointStore {
  readonly #fs: Fs;
  readonly #dir: string;
  readonly #config: SectionConfigFile<S3Endpoint>;
  readonly #secretsFile: SecretsFile;

  constructor(fs: Fs, configDir: string) {
    this.#fs = fs;
    this.#dir = configDir;
    this.#config = new SectionConfigFile(fs, configDir, { file: S3_CFG, lock: LOCK_FILE, fromSection: s3EndpointFromSection, toSection: s3EndpointToSection, mode: CONFIG_MODE });
    this.#secretsFile = new SecretsFile(fs, join(configDir, S3_SECRETS_FILE), 'endpoint ids');
  }

  get path(): string {
    return this.#config.path;
  }

  list(): Promise<S3Endpoint[]> {
    return this.#config.list();
  }

  async get(id: string): Promise<S3Endpoint> {
    const found = (await this.list()).find((e) => e.id === id);
    if (!found) throw fail('NOT_FOUND', `S3 endpoint '${id}' does not exist`, { id });
    return found;
  }

  async getWithSecret(id: string): Promise<S3EndpointWithSecret> {
    const endpoint = await this.get(id);
    const secretKey = (await this.#secretsFile.read())[id];
    if (secretKey === undefined) throw fail('INVALID_CONFIG', `${S3_SECRETS_FILE} has no secret key for S3 endpoint '${id}'`, { id });
    return { ...endpoint, secretKey };
  }

  async create(input: S3EndpointInput & { readonly secretKey: string }): Promise<S3Endpoint> {
    const endpoint = makeS3Endpoint(input);
    const secret = checkKeyText('secret-key', input.secretKey, 256);
    return this.#locked(async () => {
      const all = await this.list();
      if (all.some((e) => e.id === endpoint.id)) throw fail('ALREADY_EXISTS', `S3 endpoint '${endpoint.id}' exists already`, { id: endpoint.id });
      await this.#secretsFile.change({ [endpoint.id]: secret });
      await this.#writeConfig([...all, endpoint]);
      return endpoint;
    });
  }

  async update(id: string, patch: S3EndpointPatch): Promise<S3Endpoint> {
    const secret = patch.secretKey === undefined ? undefined : checkKeyText('secret-key', patch.secretKey, 256);
    return this.#locked(async () => {
      const all = await this.list();
      const old = all.find((e) => e.id === id);
      if (!old) throw fail('NOT_FOUND', `S3 endpoint '${id}' does not exist`, { id });
      const next = makeS3Endpoint(merge(old, patch));
      if (secret !== undefined) await this.#secretsFile.change({ [id]: secret });
      await this.#writeConfig(all.map((e) => (e.id === id ? next : e)));
      return next;
    });
  }

  async remove(id: string): Promise<void> {
    checkS3EndpointId(id);
    await this.#locked(async () => {
      const all = await this.list();
      if (!all.some((e) => e.id === id)) throw fail('NOT_FOUND', `S3 endpoint '${id}' does not exist`, { id });
      const users = await this.#datastoresUsing(id);
      if (users.length > 0) throw fail('LOCKED', `S3 endpoint '${id}' is used by datastore ${users.join(', ')}`, { id, datastores: users });
      await this.#writeConfig(all.filter((e) => e.id !== id));
      await this.#secretsFile.change({ [id]: null });
    });
  }

  async #datastoresUsing(id: string): Promise<string[]> {
    const stores = await new DatastoreConfigFile(this.#fs, this.#dir).list();
    return stores.filter((s) => backendClient(s.props.get('backend')) === id).map((s) => s.name);
  }

  #writeConfig(endpoints: readonly S3Endpoint[]): Promise<void> {
    return this.#config.write(endpoints);
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.#config.locked(fn);
  }
}

function merge(old: S3Endpoint, patch: S3EndpointPatch): S3EndpointInput {
  const fingerprint = patch.fingerprint === null ? undefined : (patch.fingerprint ?? old.fingerprint);
  return {
    id: old.id,
    endpoint: patch.endpoint ?? old.endpoint,
    accessKey: patch.accessKey ?? old.accessKey,
    region: patch.region ?? old.region,
    pathStyle: patch.pathStyle ?? old.pathStyle,
    ...(fingerprint === undefined ? {} : { fingerprint }),
  };
}

/** The `client` of a datastore's `backend` property string (`type=s3,client=ID,bucket=B`). */
function backendClient(backend: string | undefined): string | undefined {
  if (backend === undefined) return undefined;
  try {
    return parsePropertyMap(backend).get('client');
  } catch {
    return undefined; // a malformed backend string names no endpoint; the datastore code reports it
  }
}
