/**
 * The repository a client backs up to: `[[AUTH-ID@]HOST[:PORT]:]DATASTORE` (VECTORS.md §11).
 *
 * The auth id may itself contain `@` (`admin@pam@host:store`), so the host is what follows the
 * last `@`. IPv6 hosts are written in brackets (`[ff80::1]:9007:store`) and kept bracketed.
 * Fields not given stay undefined so that a repository prints back as it was written; the
 * `repository*` accessors apply upstream's defaults (root@pam, localhost, 8007).
 *
 * `resolveRepository` merges command-line atoms with the environment (PBS_REPOSITORY, or
 * PBS_SERVER / PBS_PORT / PBS_DATASTORE / PBS_AUTH_ID) with upstream's precedence.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { fail, isHoldfastError } from '../core/errors.ts';
import { SAFE_ID, parseAuthId, type AuthId } from '../core/names.ts';

export interface Repository {
  readonly authId: AuthId | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly store: string;
}

export const DEFAULT_AUTH_ID = 'root@pam' as AuthId;
export const DEFAULT_HOST = 'localhost';
export const DEFAULT_PORT = 8007;

const DNS_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function invalid(text: string, why: string, cause?: unknown): never {
  throw fail('INVALID_REPOSITORY', `invalid repository '${text}': ${why}`, { value: text }, cause);
}

function checkHost(text: string, host: string): string {
  if (host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1))) return host;
  if (isIPv4(host) || DNS_NAME.test(host)) return host;
  return invalid(text, `bad host '${host}'`);
}

function checkPort(text: string, port: string): number {
  const n = /^\d{1,5}$/.test(port) ? Number(port) : 0;
  if (n < 1 || n > 65535) invalid(text, `bad port '${port}'`);
  return n;
}

function checkStore(text: string, store: string): string {
  if (!SAFE_ID.test(store)) invalid(text, `bad datastore name '${store}'`);
  return store;
}

function checkAuthId(text: string, authId: string): AuthId {
  try {
    return parseAuthId(authId);
  } catch (e) {
    if (!isHoldfastError(e)) throw e;
    return invalid(text, e.message, e);
  }
}

/** Splits `HOST[:PORT]`, where HOST may be a bracketed IPv6 address. */
function splitHostPort(text: string, hostPort: string): { host: string; port: number | undefined } {
  const close = hostPort.startsWith('[') ? hostPort.indexOf(']') : -1;
  const colon = hostPort.indexOf(':', close === -1 ? 0 : close);
  if (colon === -1) return { host: checkHost(text, hostPort), port: undefined };
  return { host: checkHost(text, hostPort.slice(0, colon)), port: checkPort(text, hostPort.slice(colon + 1)) };
}

export function parseRepository(text: string): Repository {
  if (text === '') invalid(text, 'empty');
  const close = text.lastIndexOf(']');
  const lastColon = text.lastIndexOf(':');
  if (lastColon === -1 || lastColon < close) {
    return { authId: undefined, host: undefined, port: undefined, store: checkStore(text, text) };
  }
  const store = checkStore(text, text.slice(lastColon + 1));
  const prefix = text.slice(0, lastColon);
  const at = prefix.lastIndexOf('@');
  const authId = at === -1 ? undefined : checkAuthId(text, prefix.slice(0, at));
  return { authId, ...splitHostPort(text, prefix.slice(at + 1)), store };
}

/** Prints as upstream: with an auth id, host and port are always filled in. */
export function formatRepository(repo: Repository): string {
  if (repo.authId !== undefined) {
    return `${repo.authId}@${repo.host ?? DEFAULT_HOST}:${repo.port ?? DEFAULT_PORT}:${repo.store}`;
  }
  if (repo.port !== undefined) return `${repo.host ?? DEFAULT_HOST}:${repo.port}:${repo.store}`;
  if (repo.host !== undefined) return `${repo.host}:${repo.store}`;
  return repo.store;
}

export interface RepositoryParts {
  readonly authId?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly store: string;
}

/** Builds a repository from parts; a bare IPv6 host gets its brackets. */
export function makeRepository(parts: RepositoryParts): Repository {
  const label = formatRepository({ authId: undefined, host: parts.host, port: parts.port, store: parts.store });
  const host = parts.host !== undefined && isIPv6(parts.host) ? `[${parts.host}]` : parts.host;
  const port = parts.port === undefined ? undefined : checkPort(label, String(parts.port));
  return {
    authId: parts.authId === undefined ? undefined : checkAuthId(label, parts.authId),
    host: host === undefined ? undefined : checkHost(label, host),
    port,
    store: checkStore(label, parts.store),
  };
}

export const repositoryAuthId = (r: Repository): AuthId => r.authId ?? DEFAULT_AUTH_ID;
export const repositoryHost = (r: Repository): string => r.host ?? DEFAULT_HOST;
export const repositoryPort = (r: Repository): number => r.port ?? DEFAULT_PORT;

export interface RepositoryArgs {
  readonly repository?: string | undefined;
  readonly server?: string | undefined;
  readonly port?: number | undefined;
  readonly datastore?: string | undefined;
  readonly authId?: string | undefined;
}

function hasAtoms(a: RepositoryArgs): boolean {
  return [a.server, a.port, a.datastore, a.authId].some((v) => v !== undefined);
}

function fromAtoms(a: RepositoryArgs): Repository {
  if (a.datastore === undefined) throw fail('INVALID_REPOSITORY', '--datastore is required', { args: a });
  return makeRepository({ authId: a.authId, host: a.server, port: a.port, store: a.datastore });
}

function envAtoms(env: Readonly<Record<string, string | undefined>>): RepositoryArgs {
  const port = env['PBS_PORT'];
  return {
    server: env['PBS_SERVER'],
    port: port === undefined ? undefined : checkPort(`PBS_PORT=${port}`, port),
    datastore: env['PBS_DATASTORE'],
    authId: env['PBS_AUTH_ID'],
  };
}

/**
 * Picks the repository from arguments and environment: `--repository` excludes the atoms
 * (server, port, datastore, auth-id); atoms on the command line replace PBS_REPOSITORY and are
 * merged over the environment's atoms; otherwise PBS_REPOSITORY, then the environment's atoms.
 */
export function resolveRepository(args: RepositoryArgs, env: Readonly<Record<string, string | undefined>>): Repository {
  if (args.repository !== undefined && hasAtoms(args)) {
    throw fail('INVALID_REPOSITORY', '--repository and --server/--port/--datastore/--auth-id are mutually exclusive', {
      args,
    });
  }
  if (args.repository !== undefined) return parseRepository(args.repository);
  const fromEnv = envAtoms(env);
  if (hasAtoms(args)) {
    const defined = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
    return fromAtoms({ ...fromEnv, ...defined });
  }
  const envRepository = env['PBS_REPOSITORY'];
  if (envRepository !== undefined) return parseRepository(envRepository);
  if (hasAtoms(fromEnv)) return fromAtoms(fromEnv);
  throw fail(
    'INVALID_REPOSITORY',
    'no repository specified: unable to get a repository from --repository, the atoms, PBS_REPOSITORY or PBS_SERVER/PBS_DATASTORE',
  );
}
