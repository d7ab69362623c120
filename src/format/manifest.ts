/**
 * The snapshot manifest (`index.json.blob`): which files a snapshot holds, with their sizes and
 * checksums, plus an unsigned `unprotected` section and an optional HMAC signature.
 *
 * Text form: serde's `to_string_pretty` of PBS's struct, i.e. 2-space indent, keys in struct order
 * (`backup-type`, `backup-id`, `backup-time`, `files`, `unprotected`, `signature`; file entries
 * `filename`, `crypt-mode`, `size`, `csum`) and, inside `unprotected`, keys sorted byte-wise as a
 * serde `Value` map writes them. Stored as a compressed, never encrypted, DataBlob.
 *
 * Unknown top-level keys are KEPT (in `extra`), written back after the known ones and covered by
 * the signature: a newer client's fields survive a server rewrite. Unknown keys inside a file entry
 * are rejected, since that shape is fixed. Missing `crypt-mode` means `none`; missing
 * `unprotected` means `{}`; missing `signature` means null.
 *
 * Signature = hex HMAC-SHA256(id key, canonical JSON of the manifest without `unprotected` and
 * `signature`); signing also records the key fingerprint in `unprotected["key-fingerprint"]`.
 */
import { timingSafeEqual } from 'node:crypto';
import { BACKUP_TYPES, type BackupType } from '../core/backup-ref.ts';
import { fromHex, toHex } from '../core/digest.ts';
import { fail } from '../core/errors.ts';
import { encodeBlob, decodeBlob } from './blob.ts';
import { canonicalJsonBytes, indent, jsonNumber, jsonString, serdePrettyJson, MAX_JSON_DEPTH } from './canonical-json.ts';
import type { CryptConfig } from './crypt-config.ts';

export const MANIFEST_BLOB_NAME = 'index.json.blob';
export const CRYPT_MODES = ['none', 'encrypt', 'sign-only'] as const;
export type CryptMode = (typeof CRYPT_MODES)[number];
export const KEY_FINGERPRINT_KEY = 'key-fingerprint';

export interface ManifestFile {
  filename: string;
  cryptMode: CryptMode;
  size: number;
  /** 64 lowercase hex digits. */
  csum: string;
}

export interface Manifest {
  backupType: BackupType;
  backupId: string;
  /** Epoch seconds. */
  backupTime: number;
  files: ManifestFile[];
  unprotected: Record<string, unknown>;
  signature: string | null;
  /** Top-level keys this version does not know, kept verbatim. */
  extra?: Record<string, unknown>;
}

const KNOWN_TOP = new Set(['backup-type', 'backup-id', 'backup-time', 'files', 'unprotected', 'signature']);
const KNOWN_FILE = new Set(['filename', 'crypt-mode', 'size', 'csum']);

/** Refuses to write a manifest PBS could not read back (INVALID_ARGUMENT). */
function checkWritable(m: Manifest): void {
  const bad = (what: string, value: unknown): never => {
    throw fail('INVALID_ARGUMENT', `manifest ${what} is invalid`, { what, value });
  };
  if (!BACKUP_TYPES.includes(m.backupType)) bad('backup-type', m.backupType);
  if (!Number.isSafeInteger(m.backupTime)) bad('backup-time', m.backupTime);
  m.files.forEach((f, i) => {
    if (!CRYPT_MODES.includes(f.cryptMode)) bad(`files[${i}].crypt-mode`, f.cryptMode);
    if (!Number.isSafeInteger(f.size) || f.size < 0) bad(`files[${i}].size`, f.size);
    if (!/^[0-9a-f]{64}$/.test(f.csum)) bad(`files[${i}].csum`, f.csum);
  });
  if (m.signature !== null && !/^[0-9a-f]{64}$/.test(m.signature)) bad('signature', m.signature);
}

export function manifestToJson(m: Manifest): string {
  checkWritable(m);
  const lines = [
    `${jsonString('backup-type')}: ${jsonString(m.backupType)}`,
    `${jsonString('backup-id')}: ${jsonString(m.backupId)}`,
    `${jsonString('backup-time')}: ${jsonNumber(m.backupTime)}`,
    `${jsonString('files')}: ${filesJson(m.files)}`,
    `${jsonString('unprotected')}: ${serdePrettyJson(m.unprotected, 1)}`,
    `${jsonString('signature')}: ${m.signature === null ? 'null' : jsonString(m.signature)}`,
    ...Object.entries(m.extra ?? {}).map(([k, v]) => `${jsonString(k)}: ${serdePrettyJson(v, 1)}`),
  ];
  return `{\n${indent(1)}${lines.join(`,\n${indent(1)}`)}\n}`;
}

function filesJson(files: readonly ManifestFile[]): string {
  if (files.length === 0) return '[]';
  const entry = (f: ManifestFile): string =>
    [
      `{`,
      `${indent(3)}"filename": ${jsonString(f.filename)},`,
      `${indent(3)}"crypt-mode": ${jsonString(f.cryptMode)},`,
      `${indent(3)}"size": ${jsonNumber(f.size)},`,
      `${indent(3)}"csum": ${jsonString(f.csum)}`,
      `${indent(2)}}`,
    ].join('\n');
  return `[\n${indent(2)}${files.map(entry).join(`,\n${indent(2)}`)}\n${indent(1)}]`;
}

/** Parses and validates manifest JSON text; CORRUPT on anything PBS would not deserialize. */
export function parseManifestJson(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fail('CORRUPT', 'manifest is not JSON', {}, e);
  }
  const o = object(raw, 'manifest');
  checkDepth(o, 0);
  const m: Manifest = {
    backupType: oneOf(o['backup-type'], BACKUP_TYPES, 'backup-type'),
    backupId: string(o['backup-id'], 'backup-id'),
    backupTime: integer(o['backup-time'], 'backup-time', Number.MIN_SAFE_INTEGER),
    files: array(o['files'], 'files').map((f, i) => parseFile(f, i)),
    unprotected: o['unprotected'] === undefined ? {} : object(o['unprotected'], 'unprotected'),
    signature: o['signature'] === undefined || o['signature'] === null ? null : string(o['signature'], 'signature'),
  };
  const extra = Object.fromEntries(Object.entries(o).filter(([k]) => !KNOWN_TOP.has(k)));
  if (Object.keys(extra).length > 0) m.extra = extra;
  return m;
}

function parseFile(v: unknown, i: number): ManifestFile {
  const o = object(v, `files[${i}]`);
  const unknown = Object.keys(o).filter((k) => !KNOWN_FILE.has(k));
  if (unknown.length > 0) throw fail('CORRUPT', `manifest files[${i}] has unknown keys`, { keys: unknown });
  const csum = string(o['csum'], `files[${i}].csum`);
  try {
    fromHex(csum, 32);
  } catch (e) {
    throw fail('CORRUPT', `manifest files[${i}].csum is not 32 hex bytes`, { csum }, e);
  }
  return {
    filename: string(o['filename'], `files[${i}].filename`),
    cryptMode: o['crypt-mode'] === undefined ? 'none' : oneOf(o['crypt-mode'], CRYPT_MODES, `files[${i}].crypt-mode`),
    size: integer(o['size'], `files[${i}].size`, 0),
    csum: csum.toLowerCase(),
  };
}

function checkDepth(v: unknown, depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw fail('CORRUPT', `manifest nests deeper than ${MAX_JSON_DEPTH}`, {});
  if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) checkDepth(c, depth + 1);
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('CORRUPT', `manifest ${what} must be an object`, { what });
  return v as Record<string, unknown>;
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw fail('CORRUPT', `manifest ${what} must be an array`, { what });
  return v as unknown[];
}

function string(v: unknown, what: string): string {
  if (typeof v !== 'string') throw fail('CORRUPT', `manifest ${what} must be a string`, { what });
  return v;
}

function integer(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw fail('CORRUPT', `manifest ${what} must be an integer ≥ ${min}`, { what, value: v });
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw fail('CORRUPT', `manifest ${what} must be one of ${allowed.join(', ')}`, { what, value: v });
  return found;
}

/** The manifest as stored: a compressed, unencrypted DataBlob of the pretty JSON. */
export function encodeManifestBlob(m: Manifest): Uint8Array {
  return encodeBlob(new TextEncoder().encode(manifestToJson(m)), { compress: true });
}

export function decodeManifestBlob(bytes: Uint8Array): Manifest {
  const data = decodeBlob(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (e) {
    throw fail('CORRUPT', 'manifest is not UTF-8', {}, e);
  }
  return parseManifestJson(text);
}

/** The bytes a signature covers: canonical JSON of everything but `unprotected` and `signature`. */
export function signedManifestBytes(m: Manifest): Uint8Array {
  return canonicalJsonBytes({
    ...m.extra,
    'backup-type': m.backupType,
    'backup-id': m.backupId,
    'backup-time': m.backupTime,
    files: m.files.map((f) => ({ filename: f.filename, 'crypt-mode': f.cryptMode, size: f.size, csum: f.csum })),
  });
}

export function manifestSignature(m: Manifest, crypt: CryptConfig): string {
  return toHex(crypt.authTag(signedManifestBytes(m)));
}

/** A signed copy: records the key fingerprint and the signature, as the PBS client does. */
export function signManifest(m: Manifest, crypt: CryptConfig): Manifest {
  return {
    ...m,
    unprotected: { ...m.unprotected, [KEY_FINGERPRINT_KEY]: crypt.fingerprint() },
    signature: manifestSignature(m, crypt),
  };
}

/**
 * Checks a manifest against a key. A recorded key fingerprint must match the key even when the
 * manifest is unsigned (it names the key its chunks need). Returns 'unsigned' for a manifest
 * without signature (PBS accepts those); throws SIGNATURE_MISMATCH on any mismatch.
 */
export function verifyManifestSignature(m: Manifest, crypt: CryptConfig): 'valid' | 'unsigned' {
  const recorded = m.unprotected[KEY_FINGERPRINT_KEY];
  if (recorded !== undefined && (typeof recorded !== 'string' || recorded.toLowerCase() !== crypt.fingerprint())) {
    throw fail('SIGNATURE_MISMATCH', 'wrong key: the manifest was written with another key', { manifestKey: recorded, givenKey: crypt.fingerprint() });
  }
  if (m.signature === null) return 'unsigned';
  const expected = crypt.authTag(signedManifestBytes(m));
  const given = /^[0-9a-fA-F]{64}$/.test(m.signature) ? fromHex(m.signature) : undefined;
  if (!given || !timingSafeEqual(given, expected)) {
    throw fail('SIGNATURE_MISMATCH', 'wrong signature in manifest', { signature: m.signature });
  }
  return 'valid';
}
