/**
 * Applies restored metadata to one extracted path, in the order that makes each step stick:
 * owner first (chown clears suid/sgid and file capabilities), then xattrs, fcaps and ACLs (a
 * non-root owner may not set user.* xattrs once the file is read-only), then the mode, and the
 * mtime last (every earlier step may touch it). Symlinks get owner and mtime only; PBS stores
 * no xattrs for them and Linux symlink modes are fixed.
 */
import { promises as fsp } from 'node:fs';
import { isHoldfastError } from '../core/errors.ts';
import type { PxarMetadata } from '../format/pxar/metadata.ts';
import { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR, accessAclXattr, defaultAclXattr } from './pxar-acl.ts';
import { nodeFail, setMtime, setXattr } from './pxar-native.ts';
import type { PxarWarningCode } from './pxar-warnings.ts';

export interface ApplyOptions {
  /** Restore uid/gid (needs root). */
  readonly owner: boolean;
  /** Restore xattrs and fcaps (file capabilities are the `security.capability` xattr). */
  readonly xattrs: boolean;
  /** Restore POSIX ACLs. */
  readonly acls: boolean;
  readonly warn: (code: PxarWarningCode, message: string) => void;
}

const enc = new TextEncoder();
const FCAPS_NAME = enc.encode('security.capability');

export async function applyMetadata(abs: Buffer, meta: PxarMetadata, kind: 'directory' | 'file' | 'symlink' | 'other', opts: ApplyOptions): Promise<void> {
  const { stat } = meta;
  if (opts.owner) {
    try {
      await fsp.lchown(abs, stat.uid, stat.gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw nodeFail('lchown', abs, e);
      opts.warn('owner-skipped', `could not set owner ${stat.uid}:${stat.gid}`);
    }
  }
  if (kind === 'directory' || kind === 'file') setAttributes(abs, meta, kind, opts);
  if (kind !== 'symlink') {
    try {
      await fsp.chmod(abs, stat.mode & 0o7777);
    } catch (e) {
      throw nodeFail('chmod', abs, e);
    }
  }
  setMtime(abs, stat.mtime);
}

function setAttributes(abs: Buffer, meta: PxarMetadata, kind: 'directory' | 'file', opts: ApplyOptions): void {
  const wanted: [Uint8Array, Uint8Array | undefined][] = [];
  if (opts.xattrs) wanted.push(...meta.xattrs.map((x): [Uint8Array, Uint8Array] => [x.name, x.value]), [FCAPS_NAME, meta.fcaps]);
  if (opts.acls) {
    wanted.push([enc.encode(ACL_ACCESS_XATTR), accessAclXattr(meta.acl, meta.stat.mode)], [enc.encode(ACL_DEFAULT_XATTR), kind === 'directory' ? defaultAclXattr(meta.acl) : undefined]);
  }
  for (const [name, value] of wanted) {
    if (value === undefined) continue;
    try {
      setXattr(abs, name, value);
    } catch (e) {
      const errno = isHoldfastError(e) ? e.details['errno'] : undefined;
      if (errno !== 'ENOTSUP' && errno !== 'EOPNOTSUPP' && errno !== 'EPERM' && errno !== 'EACCES') throw e;
      opts.warn('xattr-unsupported', `could not set ${Buffer.from(name).toString()}: ${String(errno)}`);
    }
  }
}
