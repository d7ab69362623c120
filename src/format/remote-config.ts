/**
 * `remote.cfg`: the other servers that sync jobs read from or write to, in PBS's section-config
 * format (PBS's `remote` sections), one section per remote:
 *
 *     remote: offsite
 *     	host pbs2.example.com
 *     	port 8007
 *     	auth-id sync@pbs
 *     	fingerprint 64:d3:…
 *
 * Unlike PBS, the password (or API token secret) is not in this file: it lives apart, mode 0600
 * (jobs/remote-store.ts), so the config can be shown and copied without it.
 *
 * Validation of everything a user or API caller gives (INVALID_ARGUMENT naming the parameter):
 * - name: PBS's safe id, 3 to 32 characters;
 * - host: a DNS name, an IPv4 address or an IPv6 address (bare or bracketed); `--host H:PORT`
 *   is split here, a port given both ways must agree;
 * - port: 1..65535 (default 8007, then not stored);
 * - auth-id: `user@realm` or `user@realm!token`;
 * - fingerprint: a SHA-256 certificate fingerprint (32 colon-separated hex bytes), stored lower case;
 * - comment: one line, at most 256 characters.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { fail, isHoldfastError } from '../core/errors.ts';
import { parseAuthId } from '../core/names.ts';
import type { Section } from './section-config.ts';

export const REMOTE_CFG = 'remote.cfg';
export const REMOTE_SECTION_TYPE = 'remote';
export const DEFAULT_REMOTE_PORT = 8007;

export interface Remote {
  readonly name: string;
  /** DNS name or IP address; an IPv6 address without brackets */
  readonly host: string;
  readonly port?: number;
  readonly authId: string;
  /** pinned SHA-256 certificate fingerprint, lower case */
  readonly fingerprint?: string;
  readonly comment?: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{2,31}$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FINGERPRINT = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}$/;

function bad(param: string, value: string, why: string): Error {
  return fail('INVALID_ARGUMENT', `${param} '${value.slice(0, 200)}' ${why}`, { param, value: value.slice(0, 200) });
}

export function checkRemoteName(name: string): string {
  if (!NAME.test(name)) throw bad('name', name, 'is not a valid remote name (3-32 of A-Z a-z 0-9 _ . -, not starting with . or -)');
  return name;
}

export function checkPort(port: number | string): number {
  const n = typeof port === 'number' ? port : /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad('port', String(port), 'is not a port number (1-65535)');
  return n;
}

/** Splits `HOST[:PORT]` (IPv6 as `[addr]:port` or bare `addr`) and checks both parts. */
export function parseHostPort(text: string): { host: string; port?: number } {
  if (isIPv6(text)) return { host: text };
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (m) {
    if (!isIPv6(m[1]!)) throw bad('host', text, 'is not a valid IPv6 address');
    return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: checkPort(m[2]) };
  }
  const colon = text.lastIndexOf(':');
  const host = colon === -1 ? text : text.slice(0, colon);
  if (!isIPv4(host) && !DNS_NAME.test(host)) throw bad('host', text, 'is not a DNS name or IP address');
  return colon === -1 ? { host } : { host, port: checkPort(text.slice(colon + 1)) };
}

export function checkFingerprint(fp: string): string {
  if (!FINGERPRINT.test(fp)) throw bad('fingerprint', fp, 'is not a SHA-256 fingerprint (32 colon-separated hex bytes)');
  return fp.toLowerCase();
}

export function checkRemoteAuthId(authId: string): string {
  try {
    return parseAuthId(authId);
  } catch (e) {
    if (isHoldfastError(e)) throw bad('auth-id', authId, 'is not a user (user@realm) or API token (user@realm!name)');
    throw e;
  }
}

export function checkComment(comment: string): string {
  if (comment.length > 256 || /[\r\n\0]/.test(comment)) throw bad('comment', comment, 'must be one line of at most 256 characters');
  return comment;
}

/** The password or token secret: 1-1024 characters, no control characters (never echoed). */
export function checkRemoteSecret(secret: string): string {
   
  if (secret.length === 0 || secret.length > 1024 || /[\0-\x1f\x7f]/.test(secret)) {
    throw fail('INVALID_ARGUMENT', 'password must be 1-1024 characters without control characters', { param: 'password' });
  }
  return secret;
}

export interface RemoteInput {
  readonly name: string;
  /** `HOST` or `HOST:PORT` */
  readonly host: string;
  readonly port?: number | string;
  readonly authId: string;
  readonly fingerprint?: string;
  readonly comment?: string;
}

/** Validates a complete remote; the result is what gets stored. */
export function makeRemote(input: RemoteInput): Remote {
  const hp = parseHostPort(input.host);
  const port = input.port === undefined ? undefined : checkPort(input.port);
  if (hp.port !== undefined && port !== undefined && hp.port !== port) throw bad('port', String(port), `differs from the port in --host ${input.host}`);
  const effective = port ?? hp.port;
  return {
    name: checkRemoteName(input.name),
    host: hp.host,
    ...(effective === undefined || effective === DEFAULT_REMOTE_PORT ? {} : { port: effective }),
    authId: checkRemoteAuthId(input.authId),
    ...(input.fingerprint === undefined ? {} : { fingerprint: checkFingerprint(input.fingerprint) }),
    ...(input.comment === undefined || input.comment === '' ? {} : { comment: checkComment(input.comment) }),
  };
}

export function remoteToSection(r: Remote): Section {
  const props = new Map<string, string>([
    ['host', r.host],
    ['auth-id', r.authId],
  ]);
  if (r.port !== undefined) props.set('port', String(r.port));
  if (r.fingerprint !== undefined) props.set('fingerprint', r.fingerprint);
  if (r.comment !== undefined) props.set('comment', r.comment);
  return { type: REMOTE_SECTION_TYPE, id: r.name, props };
}

/** Reads one section back, checking it as strictly as new input (a hand-edited file included). */
export function remoteFromSection(s: Section, file: string): Remote {
  if (s.type !== REMOTE_SECTION_TYPE) throw fail('INVALID_CONFIG', `${file}: unknown section type '${s.type}'`, { file, type: s.type });
  const get = (k: string): string | undefined => s.props.get(k);
  try {
    const port = get('port');
    const fingerprint = get('fingerprint');
    const comment = get('comment');
    return makeRemote({
      name: s.id,
      host: get('host') ?? '',
      authId: get('auth-id') ?? '',
      ...(port === undefined ? {} : { port }),
      ...(fingerprint === undefined ? {} : { fingerprint }),
      ...(comment === undefined ? {} : { comment }),
    });
  } catch (e) {
    throw fail('INVALID_CONFIG', `${file}: remote '${s.id}': ${(e as Error).message}`, { file, id: s.id }, e);
  }
}

/** What listings show: never the secret. */
export function describeRemote(r: Remote): Record<string, unknown> {
  return { name: r.name, host: r.host, port: r.port ?? DEFAULT_REMOTE_PORT, 'auth-id': r.authId, fingerprint: r.fingerprint, comment: r.comment };
}
