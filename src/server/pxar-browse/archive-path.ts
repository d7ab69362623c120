/**
 * The `filepath` parameter of the catalog and pxar-file-download routes, as PBS takes it: the
 * base64 of `/ARCHIVE/path/in/archive` (bytes, not necessarily UTF-8), or `root` (also `/`) for
 * the snapshot's list of archives. ARCHIVE is a manifest name: `NAME.pxar.didx` (unified, with
 * the snapshot's catalog) or `NAME.mpxar.didx` (split; its payload is `NAME.ppxar.didx`).
 *
 * Every component must be a safe pxar name (no "", ".", "..", NUL): a path is looked up, never
 * joined onto a filesystem path, but a hostile value still gets a typed INVALID_ARGUMENT.
 */
import { fail } from '../../core/errors.ts';
import { nameProblem } from '../../format/pxar/names.ts';

export const ARCHIVE_KINDS = ['unified', 'split'] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

export interface ArchivePath {
  /** The manifest name; undefined for the snapshot's root (the list of archives). */
  readonly archive: string | undefined;
  readonly kind: ArchiveKind;
  /** The path inside the archive, components joined by "/"; empty for the archive's root. */
  readonly inner: Uint8Array;
}

const SLASH = 0x2f;
const MAX_PATH = 64 * 1024;

/** The archive kind of a manifest name, or undefined when it is no browsable pxar archive. */
export function archiveKind(name: string): ArchiveKind | undefined {
  if (name.endsWith('.mpxar.didx')) return 'split';
  if (name.endsWith('.pxar.didx')) return 'unified';
  return undefined;
}

/** The payload archive that belongs to a split archive's metadata archive. */
export const payloadArchiveOf = (metadataArchive: string): string => metadataArchive.replace(/\.mpxar\.didx$/, '.ppxar.didx');

/** The name a download of the whole archive gets: `root.pxar.didx` → `root`. */
export const archiveBaseName = (archive: string): string => archive.replace(/\.m?pxar\.didx$/, '');

function decode(value: string): Buffer {
  if (value === 'root' || value === '/') return Buffer.from('/');
  if (value.length > MAX_PATH || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw fail('INVALID_ARGUMENT', "parameter 'filepath' is not base64", { param: 'filepath' });
  return Buffer.from(value, 'base64');
}

function components(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== SLASH) continue;
    if (i > start) parts.push(bytes.subarray(start, i));
    else if (start !== 0 && i !== bytes.length) throw fail('INVALID_ARGUMENT', "parameter 'filepath' has an empty component", { param: 'filepath' });
    start = i + 1;
  }
  for (const p of parts) {
    const problem = nameProblem(p);
    if (problem !== undefined) throw fail('INVALID_ARGUMENT', `parameter 'filepath': ${problem}`, { param: 'filepath' });
  }
  return parts;
}

export function parseArchivePath(value: string): ArchivePath {
  const parts = components(decode(value));
  const [first, ...rest] = parts;
  if (first === undefined) return { archive: undefined, kind: 'unified', inner: new Uint8Array(0) };
  const archive = first.toString('utf8');
  const kind = archiveKind(archive);
  if (kind === undefined) throw fail('INVALID_ARGUMENT', `'${archive}' is not a pxar archive (NAME.pxar.didx or NAME.mpxar.didx)`, { archive });
  const inner = Buffer.concat(rest.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('/'), p])));
  return { archive, kind, inner };
}

/** The `filepath` value (base64) of `/archive/inner`. */
export function encodeArchivePath(archive: string, inner: Uint8Array): string {
  const parts = [Buffer.from(`/${archive}`), ...(inner.length > 0 ? [Buffer.from('/'), inner] : [])];
  return Buffer.concat(parts).toString('base64');
}
