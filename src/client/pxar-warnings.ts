/**
 * Non-fatal conditions met while creating or extracting a pxar archive. Both sides keep going
 * and report each one through `onWarning` (default: ignored), so one unreadable file or an
 * unsupported xattr does not abort a whole backup or restore.
 */

export const PXAR_WARNING_CODES = [
  /** An entry disappeared between readdir and reading it. */
  'vanished',
  /** An entry could not be opened or listed (EACCES/EPERM); it is left out. */
  'permission-denied',
  /** A file shrank while being read; the rest of its declared size is zero-filled. */
  'file-changed',
  /** The target filesystem refused xattrs, ACLs or fcaps; they are not restored. */
  'xattr-unsupported',
  /** A device node was not created because the process is not root (or devices are disabled). */
  'device-skipped',
  /** Ownership could not be restored (EPERM) or was skipped because the process is not root. */
  'owner-skipped',
  /** A partial restore: a hardlink's target lies outside the selected paths, so it is not linked. */
  'hardlink-not-selected',
] as const;

export type PxarWarningCode = (typeof PXAR_WARNING_CODES)[number];

export interface PxarWarning {
  readonly code: PxarWarningCode;
  /** Path relative to the archive root (lossy UTF-8 for display). */
  readonly path: string;
  readonly message: string;
}

export type WarningSink = (w: PxarWarning) => void;
