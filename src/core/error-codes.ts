/**
 * The closed registry of error codes. Every error Holdfast raises carries one of these codes; the
 * registry maps it to a one-line meaning, an HTTP status and a CLI exit code. `docs/errors.md` is
 * kept in sync with this table by a test, in both directions.
 *
 * Exit codes: 1 generic failure, 2 usage/bad input, 3 not found, 4 conflict/locked,
 * 5 authentication/permission, 6 data integrity (corrupt bytes), 7 durability (sync failed),
 * 8 I/O environment.
 */
export interface ErrorCodeInfo {
  readonly meaning: string;
  readonly http: number;
  readonly exit: number;
}

export const ERROR_CODES = {
  // bad input
  INVALID_ARGUMENT: { meaning: 'an argument or parameter has an invalid value', http: 400, exit: 2 },
  INVALID_NAME: { meaning: 'a datastore, namespace, backup id or archive name is not allowed', http: 400, exit: 2 },
  INVALID_TUNING: { meaning: 'a tuning property string has an unknown key or a bad value', http: 400, exit: 2 },
  INVALID_CONFIG: { meaning: 'a config file cannot be parsed', http: 500, exit: 2 },
  INVALID_PROPERTY_STRING: { meaning: 'a property string is malformed', http: 400, exit: 2 },
  INVALID_CALENDAR_EVENT: { meaning: 'a calendar event (schedule) cannot be parsed', http: 400, exit: 2 },
  INVALID_REPOSITORY: { meaning: 'a repository string cannot be parsed', http: 400, exit: 2 },
  CHUNK_TOO_LARGE: { meaning: 'a chunk exceeds the 16 MiB protocol limit', http: 400, exit: 2 },
  DIGEST_MISMATCH: { meaning: 'the data does not hash to the digest it was sent with', http: 400, exit: 6 },
  SIZE_MISMATCH: { meaning: 'a size or encoded size does not match the data', http: 400, exit: 6 },
  INDEX_MISMATCH: { meaning: 'an index close found a wrong count, size or checksum', http: 400, exit: 6 },
  UNKNOWN_CHUNK: { meaning: 'an index references a chunk that was neither uploaded nor known', http: 400, exit: 6 },
  UNKNOWN_WRITER: { meaning: 'no open index writer has this wid', http: 400, exit: 2 },
  BACKUP_TIME_NOT_NEWER: { meaning: 'the backup time is not newer than the previous snapshot', http: 400, exit: 4 },
  PROTOCOL_ERROR: { meaning: 'the request breaks the backup or reader protocol', http: 400, exit: 2 },
  MANIFEST_MISMATCH: { meaning: "the manifest at finish does not describe the session's snapshot and files", http: 400, exit: 6 },
  CHUNK_NOT_ALLOWED: { meaning: 'a chunk download is not covered by an index downloaded in this session', http: 403, exit: 5 },
  // not found / conflicts
  NOT_FOUND: { meaning: 'the named object does not exist', http: 404, exit: 3 },
  DATASTORE_NOT_FOUND: { meaning: 'no datastore has this name', http: 404, exit: 3 },
  ALREADY_EXISTS: { meaning: 'the object to create exists already', http: 409, exit: 4 },
  DIRECTORY_NOT_EMPTY: { meaning: 'a datastore cannot be created in a non-empty directory', http: 400, exit: 4 },
  NAMESPACE_NOT_EMPTY: { meaning: 'a namespace to delete (or one below it) still holds backup groups', http: 409, exit: 4 },
  LOCKED: { meaning: 'the object is locked by another operation', http: 409, exit: 4 },
  DATASTORE_MAINTENANCE: { meaning: 'the datastore is in maintenance mode (read-only or offline) and refuses this operation', http: 503, exit: 4 },
  TOO_MANY_SESSIONS: { meaning: 'the caller has as many backup or reader sessions open as the server allows', http: 429, exit: 4 },
  TIMEOUT: { meaning: 'a session or request body stalled longer than the server allows', http: 408, exit: 1 },
  PROTECTED: { meaning: 'the snapshot is protected', http: 409, exit: 4 },
  OWNER_MISMATCH: { meaning: 'the backup group belongs to another owner', http: 403, exit: 5 },
  // auth
  UNAUTHENTICATED: { meaning: 'no valid credentials were given', http: 401, exit: 5 },
  FORBIDDEN: { meaning: 'the credentials lack the privilege for this path', http: 403, exit: 5 },
  // integrity of stored or received bytes
  BAD_MAGIC: { meaning: 'bytes do not start with a known format magic', http: 400, exit: 6 },
  BAD_CRC: { meaning: 'a blob CRC32 does not match its payload', http: 400, exit: 6 },
  TRUNCATED: { meaning: 'bytes end before the format says they should', http: 400, exit: 6 },
  CORRUPT: { meaning: 'bytes are structurally invalid for their format', http: 400, exit: 6 },
  DECRYPT_FAILED: { meaning: 'decryption or authentication with the given key failed', http: 400, exit: 6 },
  KEY_REQUIRED: { meaning: 'the data is encrypted and no key was given', http: 400, exit: 5 },
  SIGNATURE_MISMATCH: { meaning: 'a manifest signature or key fingerprint does not match', http: 400, exit: 6 },
  MISSING_CHUNK: { meaning: 'a chunk that an index references is missing from the datastore', http: 404, exit: 6 },
  // durability and environment
  SYNC_FAILED: { meaning: 'fsync or syncfs failed; the operation was not acknowledged', http: 500, exit: 7 },
  IO_ERROR: { meaning: 'a filesystem operation failed', http: 500, exit: 8 },
  OBJECT_STORE_ERROR: { meaning: 'an object-store (S3) request failed after its retries, or its outcome is unknown; nothing was acknowledged', http: 502, exit: 8 },
  ATIME_UNSUPPORTED: { meaning: 'the filesystem does not store explicit atime updates', http: 500, exit: 8 },
  ABORTED: { meaning: 'the operation was aborted before it finished', http: 500, exit: 1 },
  UPSTREAM_ERROR: { meaning: 'the server answered with an error', http: 502, exit: 1 },
  SYNC_INCOMPLETE: { meaning: 'a sync job ran, but some snapshots or groups failed to sync; the others were synced', http: 500, exit: 1 },
  NOTIFICATION_FAILED: { meaning: 'a notification could not be delivered to its target', http: 502, exit: 1 },
  UNTRUSTED_CERTIFICATE: { meaning: "the server's TLS certificate is neither CA-verified nor pinned by fingerprint", http: 502, exit: 5 },
  INTERNAL: { meaning: 'an unexpected internal error', http: 500, exit: 1 },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(s: string): s is ErrorCode {
  return Object.hasOwn(ERROR_CODES, s);
}
