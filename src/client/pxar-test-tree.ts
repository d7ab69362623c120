/**
 * Test support for pxar create/extract (not used by production code): a full metadata snapshot
 * of a directory tree, keyed by relative path bytes, so that a restored tree can be compared to
 * its source with one deepEqual: type, mode, owner, nanosecond mtime, content digest, symlink
 * target, device number, every xattr, and which paths share an inode (hardlinks).
 */
import { createHash } from 'node:crypto';
import { promises as fsp, type BigIntStats } from 'node:fs';
import { getXattr, listXattrs } from './pxar-native.ts';

export interface EntrySnapshot {
  readonly type: string;
  readonly mode: string;
  readonly owner: string;
  readonly mtimeNs: string;
  readonly content?: string;
  readonly target?: string;
  readonly rdev?: string;
  readonly xattrs?: string[];
  readonly linkGroup?: string;
}

function typeOf(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return st.isCharacterDevice() ? 'char-device' : 'block-device';
}

async function digest(path: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fsp.open(path);
  try {
    for await (const piece of handle.createReadStream()) hash.update(piece as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

function xattrsOf(path: Buffer): string[] {
  return listXattrs(path)
    .map((n) => `${Buffer.from(n).toString('latin1')}=${Buffer.from(getXattr(path, n) ?? []).toString('hex')}`)
    .sort();
}

/** Snapshot of every entry under `root` (the root itself under the empty key). */
export async function snapshotTree(root: string, opts: { skipRootOwner?: boolean } = {}): Promise<Map<string, EntrySnapshot>> {
  const out = new Map<string, EntrySnapshot>();
  const inodes = new Map<string, string[]>();
  const visit = async (abs: Buffer, rel: string): Promise<void> => {
    const st = await fsp.lstat(abs, { bigint: true });
    const type = typeOf(st);
    const snap: EntrySnapshot = {
      type,
      mode: st.mode.toString(8),
      owner: rel === '' && opts.skipRootOwner === true ? '-' : `${st.uid}:${st.gid}`,
      mtimeNs: st.mtimeNs.toString(),
      ...(type === 'file' ? { content: await digest(abs) } : {}),
      ...(type === 'symlink' ? { target: (await fsp.readlink(abs, { encoding: 'buffer' })).toString('hex') } : {}),
      ...(type.endsWith('device') ? { rdev: st.rdev.toString() } : {}),
      ...(type === 'file' || type === 'directory' ? { xattrs: xattrsOf(abs) } : {}),
    };
    out.set(rel, snap);
    if (type === 'file' && st.nlink > 1n) inodes.set(`${st.ino}`, [...(inodes.get(`${st.ino}`) ?? []), rel]);
    if (type === 'directory') {
      for (const name of await fsp.readdir(abs, { encoding: 'buffer' })) {
        await visit(Buffer.concat([abs, Buffer.from('/'), name]), rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`);
      }
    }
  };
  await visit(Buffer.from(root), '');
  for (const paths of inodes.values()) {
    const group = [...paths].sort().join('|');
    for (const p of paths) out.set(p, { ...(out.get(p) as EntrySnapshot), linkGroup: group });
  }
  return out;
}

/** Collects an async byte stream into one buffer. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const piece of stream) pieces.push(piece);
  return Buffer.concat(pieces);
}

export async function* once(bytes: Uint8Array, pieceSize = 65536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += pieceSize) yield bytes.subarray(at, at + pieceSize);
}

/** The bytes of a `system.posix_acl_*` xattr (version 2) holding `[tag, perm, id]` entries. */
export function aclXattrBytes(entries: [number, number, number][]): Buffer {
  const out = Buffer.alloc(4 + 8 * entries.length);
  out.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    out.writeUInt16LE(tag, 4 + 8 * i);
    out.writeUInt16LE(perm, 6 + 8 * i);
    out.writeUInt32LE(id, 8 + 8 * i);
  });
  return out;
}
