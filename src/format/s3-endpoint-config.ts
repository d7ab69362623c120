/**
 * `s3.cfg`: the S3 endpoints a datastore can use, in PBS's section-config format (as PBS's
 * `s3-endpoint` sections), one section per endpoint:
 *
 *     s3-endpoint: ceph
 *     	endpoint http://127.0.0.1:7480
 *     	access-key HOLDFASTTESTACCESS01
 *     	region us-east-1
 *     	path-style true
 *
 * The secret key is not in this file: it lives apart, readable by root only (s3-endpoint-store.ts).
 *
 * Validation, everything a user or API caller gives (INVALID_ARGUMENT naming the parameter):
 * - id: PBS's safe-id, 3 to 32 characters.
 * - endpoint: an absolute `https://host[:port]` URL, no path, query or user info. The host may
 *   hold PBS's `{{bucket}}` and `{{region}}` templates (virtual-host style). Plain `http://` is
 *   accepted only for a loopback host (127.0.0.0/8, ::1, localhost): keys and data would cross the
 *   network in clear, and the local test gateway (scripts/ceph-rgw-up.sh) speaks plain HTTP.
 * - fingerprint: the SHA-256 of a self-signed certificate to pin (`aa:bb:…`, 32 bytes); only with
 *   https. Stored lower case.
 * - access and secret key: printable ASCII without spaces, as every S3 implementation issues them.
 */
import { fail } from '../core/errors.ts';
import type { Section } from './section-config.ts';

export const S3_CFG = 's3.cfg';
/** the endpoints' secret keys, `{ "<id>": "<secret key>" }`, mode 0600, beside s3.cfg */
export const S3_SECRETS_FILE = 's3-secrets.json';
export const S3_CFG_LOCK = '.s3.lck';
export const S3_SECTION_TYPE = 's3-endpoint';
export const DEFAULT_S3_REGION = 'us-east-1';

export interface S3Endpoint {
  readonly id: string;
  /** normalised URL without a trailing slash, e.g. `https://s3.example.com:8443` */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly region: string;
  /** path-style addressing (`endpoint/bucket/key`) instead of virtual-host style */
  readonly pathStyle: boolean;
  /** pinned SHA-256 certificate fingerprint, lower case */
  readonly fingerprint?: string;
}

const ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{2,31}$/;
const REGION = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const KEY_TEXT = /^[\x21-\x7e]+$/;
const FINGERPRINT = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}$/;
const TEMPLATES = /\{\{(bucket|region)\}\}/g;

function bad(param: string, value: string, why: string): Error {
  return fail('INVALID_ARGUMENT', `${param} '${value.slice(0, 200)}' ${why}`, { param, value: value.slice(0, 200) });
}

export function checkS3EndpointId(id: string): string {
  if (!ID.test(id)) throw bad('id', id, 'is not a valid endpoint id (3-32 of A-Z a-z 0-9 _ . -, not starting with . or -)');
  return id;
}

/** True for 127.0.0.0/8, ::1 and localhost: addresses that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Checks and normalises an endpoint URL (see the module note for the rules). */
export function checkEndpointUrl(text: string, fingerprint?: string): string {
  let url: URL;
  try {
    // templates are not valid host characters; check the URL with a stand-in label
    url = new URL(text.replace(TEMPLATES, 'tpl'));
  } catch {
    throw bad('endpoint', text, 'is not an absolute URL such as https://s3.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('endpoint', text, 'must use https:// (or http:// to a loopback address)');
  if (url.username !== '' || url.password !== '') throw bad('endpoint', text, 'must not hold credentials; use --access-key and --secret-key');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw bad('endpoint', text, 'must be scheme://host[:port] with no path or query');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw bad('endpoint', text, 'uses plain http to a non-loopback host; use https (keys and data would cross the network in clear)');
  }
  if (url.protocol === 'http:' && fingerprint !== undefined) throw bad('fingerprint', fingerprint, 'only applies to https endpoints');
  return text.replace(/\/+$/, '');
}

/** S3's bucket naming rules: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit. */
export function checkBucketName(bucket: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) throw bad('bucket', bucket, 'is not a valid S3 bucket name');
  return bucket;
}

export function checkRegion(region: string): string {
  if (!REGION.test(region)) throw bad('region', region, 'is not a valid region (lower-case letters, digits, - and _)');
  return region;
}

export function checkFingerprint(fp: string): string {
  if (!FINGERPRINT.test(fp)) throw bad('fingerprint', fp, 'is not a SHA-256 fingerprint (32 colon-separated hex bytes)');
  return fp.toLowerCase();
}

/** Access or secret key: printable ASCII, no spaces, at most `max` characters. */
export function checkKeyText(param: 'access-key' | 'secret-key', value: string, max: number): string {
  if (value.length === 0 || value.length > max || !KEY_TEXT.test(value)) {
    // never echo a secret back
    throw fail('INVALID_ARGUMENT', `${param} must be 1-${max} printable ASCII characters without spaces`, { param });
  }
  return value;
}

export interface S3EndpointInput {
  readonly id: string;
  readonly endpoint: string;
  readonly accessKey: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
  readonly fingerprint?: string;
}

/** Validates a complete endpoint description; the result is what gets stored. */
export function makeS3Endpoint(input: S3EndpointInput): S3Endpoint {
  const fingerprint = input.fingerprint === undefined ? undefined : checkFingerprint(input.fingerprint);
  const base = {
    id: checkS3EndpointId(input.id),
    endpoint: checkEndpointUrl(input.endpoint, fingerprint),
    accessKey: checkKeyText('access-key', input.accessKey, 128),
    region: checkRegion(input.region ?? DEFAULT_S3_REGION),
    pathStyle: input.pathStyle ?? false,
  };
  return fingerprint === undefined ? base : { ...base, fingerprint };
}

export function s3EndpointToSection(e: S3Endpoint): Section {
  const props = new Map<string, string>([
    ['endpoint', e.endpoint],
    ['access-key', e.accessKey],
    ['region', e.region],
    ['path-style', String(e.pathStyle)],
  ]);
  if (e.fingerprint !== undefined) props.set('fingerprint', e.fingerprint);
  return { type: S3_SECTION_TYPE, id: e.id, props };
}

/** Reads one section back, checking it as strictly as new input (a hand-edited file included). */
export function s3EndpointFromSection(s: Section, file: string): S3Endpoint {
  if (s.type !== S3_SECTION_TYPE) throw fail('INVALID_CONFIG', `${file}: unknown section type '${s.type}'`, { file, type: s.type });
  const get = (key: string): string | undefined => s.props.get(key);
  const required = (key: string): string => {
    const v = get(key);
    if (v === undefined || v === '') throw fail('INVALID_CONFIG', `${file}: s3-endpoint '${s.id}' has no ${key}`, { file, id: s.id, key });
    return v;
  };
  const pathStyle = get('path-style');
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw fail('INVALID_CONFIG', `${file}: s3-endpoint '${s.id}': path-style must be true or false`, { file, id: s.id, value: pathStyle });
  }
  const endpoint = required('endpoint');
  const accessKey = required('access-key');
  try {
    const region = get('region');
    const fingerprint = get('fingerprint');
    return makeS3Endpoint({
      id: s.id,
      endpoint,
      accessKey,
      pathStyle: pathStyle === 'true',
      ...(region === undefined ? {} : { region }),
      ...(fingerprint === undefined ? {} : { fingerprint }),
    });
  } catch (e) {
    throw fail('INVALID_CONFIG', `${file}: s3-endpoint '${s.id}': ${(e as Error).message}`, { file, id: s.id }, e);
  }
}

/** The URL for requests to `bucket`, with PBS's `{{bucket}}` / `{{region}}` templates filled in. */
export function expandEndpoint(e: Pick<S3Endpoint, 'endpoint' | 'region'>, bucket: string): string {
  return e.endpoint.replaceAll('{{bucket}}', bucket).replaceAll('{{region}}', e.region);
}
