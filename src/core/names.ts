/**
 * Validated names: datastores, backup types and ids, namespaces, archive names, user, token and
 * auth ids (pbs-format.md §5.1, VECTORS.md §9 and §14). Each parser returns a branded string, so a
 * value that reached the datastore or a path join has passed through here; anything else throws
 * `INVALID_NAME` naming the value.
 *
 * Most names are upstream's SAFE_ID, `[A-Za-z0-9_][A-Za-z0-9._-]*`: it cannot contain `/`,
 * whitespace or control characters, and cannot be `.` or `..`, which is what makes joining these
 * names into filesystem paths safe.
 */
import { fail } from './errors.ts';

declare const brand: unique symbol;
type Branded<B extends string> = string & { readonly [brand]: B };

export type DatastoreName = Branded<'DatastoreName'>;
export type BackupId = Branded<'BackupId'>;
/** `''` is the root namespace; otherwise `a/b/c`. */
export type BackupNamespace = Branded<'BackupNamespace'>;
/** An archive name with its server type extension: `root.pxar.didx`, `drive-scsi0.img.fidx`, `index.json.blob`. */
export type ArchiveName = Branded<'ArchiveName'>;
export type Userid = Branded<'Userid'>;
/** A user id or an API token id (`user@realm!token`). */
export type AuthId = Branded<'AuthId'>;

export const BACKUP_TYPES = ['vm', 'ct', 'host'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export const MAX_NAMESPACE_DEPTH = 7;
export const MAX_NAMESPACE_LENGTH = 256;

function invalid(kind: string, value: string, why: string): never {
  throw fail('INVALID_NAME', `invalid ${kind} '${printable(value)}': ${why}`, { kind, value });
}

/** Shows control characters as escapes so an error message stays on one line. */
function printable(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

function safeId(kind: string, value: string, min: number, max: number): void {
  if (value.length < min || value.length > max) invalid(kind, value, `length must be ${min}..${max}`);
  if (!SAFE_ID.test(value)) invalid(kind, value, 'allowed are letters, digits, _ . - and it must not start with . or -');
}

export function parseDatastoreName(value: string): DatastoreName {
  safeId('datastore name', value, 3, 32);
  return value as DatastoreName;
}

export function isBackupType(value: string): value is BackupType {
  return (BACKUP_TYPES as readonly string[]).includes(value);
}

export function parseBackupType(value: string): BackupType {
  if (!isBackupType(value)) invalid('backup type', value, `expected one of ${BACKUP_TYPES.join(', ')}`);
  return value;
}

/** Upstream sets no length limit; 255 is the filesystem's limit for the group directory name. */
export function parseBackupId(value: string): BackupId {
  safeId('backup id', value, 1, 255);
  return value as BackupId;
}

export function parseNamespace(value: string): BackupNamespace {
  if (value === '') return value as BackupNamespace;
  if (value.length > MAX_NAMESPACE_LENGTH) invalid('namespace', value, `longer than ${MAX_NAMESPACE_LENGTH}`);
  const components = value.split('/');
  if (components.length > MAX_NAMESPACE_DEPTH) invalid('namespace', value, `deeper than ${MAX_NAMESPACE_DEPTH} levels`);
  for (const c of components) {
    if (!SAFE_ID.test(c)) invalid('namespace', value, `component '${printable(c)}' is not a safe id`);
  }
  return value as BackupNamespace;
}

export function namespaceComponents(ns: BackupNamespace): string[] {
  return ns === '' ? [] : ns.split('/');
}

// ---- archive names (VECTORS.md §9)

export const ARCHIVE_TYPES = ['fixed', 'dynamic', 'blob'] as const;
export type ArchiveType = (typeof ARCHIVE_TYPES)[number];

const TYPE_EXTENSION: Record<ArchiveType, string> = { fixed: 'fidx', dynamic: 'didx', blob: 'blob' };

/** Client-side file extensions and the server archive type each is stored as. */
const CLIENT_EXTENSIONS: ReadonlyMap<string, ArchiveType> = new Map([
  ['pxar', 'dynamic'],
  ['mpxar', 'dynamic'],
  ['ppxar', 'dynamic'],
  ['pcat1', 'dynamic'],
  ['img', 'fixed'],
  ['conf', 'blob'],
  ['json', 'blob'],
  ['key', 'blob'],
  ['log', 'blob'],
]);

export const MANIFEST_BLOB_NAME = 'index.json.blob' as ArchiveName;
export const CATALOG_NAME = 'catalog.pcat1.didx' as ArchiveName;
export const CLIENT_LOG_BLOB_NAME = 'client.log.blob' as ArchiveName;
export const ENCRYPTED_KEY_BLOB_NAME = 'rsa-encrypted.key.blob' as ArchiveName;

function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : undefined;
}

/** The type named by a server extension (`.fidx`, `.didx`, `.blob`), or undefined. */
function serverType(name: string): ArchiveType | undefined {
  const ext = extensionOf(name);
  return ARCHIVE_TYPES.find((t) => TYPE_EXTENSION[t] === ext);
}

/**
 * Parses an archive name: one with a server extension is kept; otherwise the client extension
 * picks the type and its server extension is appended (`root.pxar` → `root.pxar.didx`).
 */
export function parseArchiveName(value: string): ArchiveName {
  safeId('archive name', value, 1, 255);
  if (serverType(value) !== undefined) return value as ArchiveName;
  const type = CLIENT_EXTENSIONS.get(extensionOf(value) ?? '');
  if (type === undefined) invalid('archive name', value, 'unknown archive type (extension)');
  return `${value}.${TYPE_EXTENSION[type]}` as ArchiveName;
}

/** Like upstream `BackupArchiveName::from_path`: the last path component, no trailing `/`. */
export function archiveNameFromPath(path: string): ArchiveName {
  if (path.endsWith('/')) invalid('archive name', path, 'got a directory');
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === '..' || base === '.') invalid('archive name', path, 'not a file name');
  return parseArchiveName(base);
}

export function archiveType(name: ArchiveName): ArchiveType {
  const type = serverType(name);
  if (type === undefined) throw fail('INTERNAL', `archive name '${name}' lost its type extension`, { name });
  return type;
}

/** `drive-scsi0.img.fidx` → `drive-scsi0.img`. */
export function withoutTypeExtension(name: ArchiveName): string {
  return name.slice(0, name.lastIndexOf('.'));
}

// ---- users, tokens, auth ids (VECTORS.md §14)

const USER_NAME = /^[^\s:/\p{Cc}]+$/u;

/** Parses `name@realm`: realm a safe id (1..32), name without whitespace, `:`, `/` or control characters; 3..64 total. */
export function parseUserid(value: string): Userid {
  checkUserid('user id', value, value);
  return value as Userid;
}

/** Validates `user` as a user id; errors name `whole`, the value the caller was given. */
function checkUserid(kind: string, whole: string, user: string): void {
  if (user.length < 3 || user.length > 64) invalid(kind, whole, 'user id length must be 3..64');
  const at = user.lastIndexOf('@');
  if (at <= 0) invalid(kind, whole, "expected 'name@realm'");
  const name = user.slice(0, at);
  const realm = user.slice(at + 1);
  if (!USER_NAME.test(name)) invalid(kind, whole, 'the user name must not contain whitespace, :, / or control characters');
  if (realm.length > 32 || !SAFE_ID.test(realm)) invalid(kind, whole, `bad realm '${printable(realm)}'`);
}

/** Parses a user id or a token id `name@realm!tokenname` (token name: safe id, 1..64). */
export function parseAuthId(value: string): AuthId {
  const bang = value.lastIndexOf('!');
  const isToken = bang !== -1 && bang > value.lastIndexOf('@');
  checkUserid('auth id', value, isToken ? value.slice(0, bang) : value);
  if (isToken) {
    const token = value.slice(bang + 1);
    if (token.length > 64 || !SAFE_ID.test(token)) invalid('auth id', value, `bad token name '${printable(token)}'`);
  }
  return value as AuthId;
}

export interface AuthIdParts {
  readonly user: Userid;
  readonly realm: string;
  /** Set for API tokens. */
  readonly tokenName: string | undefined;
}

export function authIdParts(id: AuthId): AuthIdParts {
  const bang = id.lastIndexOf('!');
  const isToken = bang !== -1 && bang > id.lastIndexOf('@');
  const user = (isToken ? id.slice(0, bang) : id) as Userid;
  return { user, realm: user.slice(user.lastIndexOf('@') + 1), tokenName: isToken ? id.slice(bang + 1) : undefined };
}

/**
 * PBS's owner rule: `authId` may act on a group owned by `owner` when it is the owner, or the
 * user whose API token owns it.
 */
export function ownerMatches(owner: string, authId: string): boolean {
  if (owner === authId) return true;
  const o = authIdParts(owner as AuthId);
  return o.tokenName !== undefined && o.user === authId;
}

export function isTokenId(id: AuthId): boolean {
  return authIdParts(id).tokenName !== undefined;
}
