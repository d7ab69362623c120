/**
 * A streaming POSIX tar (pax) writer for folder downloads: a 512-byte ustar header per member,
 * the file's bytes padded to 512, and two zero blocks at the end. What does not fit a ustar field
 * (a path or link over 100 bytes, a size of 8 GiB or more, an id or time out of octal range) goes
 * into a pax extended header ('x') just before the member, which GNU tar, bsdtar and Python read.
 *
 * Memory: one header at a time; file data passes through (archive-member.ts has the contract).
 */
import { checkedData, type ArchiveMember, type MemberKind } from './archive-member.ts';

const BLOCK = 512;
const TYPE_FLAGS: Readonly<Record<MemberKind, string>> = {
  file: '0', hardlink: '1', symlink: '2', 'char-device': '3', 'block-device': '4', directory: '5', fifo: '6',
};

interface Field {
  readonly at: number;
  readonly len: number;
}
const F = {
  name: { at: 0, len: 100 }, mode: { at: 100, len: 8 }, uid: { at: 108, len: 8 }, gid: { at: 116, len: 8 },
  size: { at: 124, len: 12 }, mtime: { at: 136, len: 12 }, chksum: { at: 148, len: 8 }, linkname: { at: 157, len: 100 },
  devmajor: { at: 329, len: 8 }, devminor: { at: 337, len: 8 },
} as const satisfies Record<string, Field>;

/** Whether `n` fits the octal field (len − 1 digits and a NUL). */
const fitsOctal = (n: number, f: Field): boolean => Number.isSafeInteger(n) && n >= 0 && n < 8 ** (f.len - 1);

function putOctal(h: Uint8Array, f: Field, n: number): void {
  const v = fitsOctal(n, f) ? n : 0;
  h.set(Buffer.from(`${v.toString(8).padStart(f.len - 1, '0')}\0`, 'latin1'), f.at);
}

/** One pax record: "LEN key=value\n", where LEN counts the whole record including itself. */
function paxRecord(key: string, value: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function paxRecords(m: ArchiveMember, name: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  if (name.length > F.name.len) out.push(paxRecord('path', name));
  if (m.target !== undefined && m.target.length > F.linkname.len) out.push(paxRecord('linkpath', m.target));
  const size = m.kind === 'file' ? (m.size ?? 0) : 0;
  if (!fitsOctal(size, F.size)) out.push(paxRecord('size', Buffer.from(String(size))));
  if (!fitsOctal(m.mtime, F.mtime)) out.push(paxRecord('mtime', Buffer.from(String(m.mtime))));
  if (!fitsOctal(m.uid, F.uid)) out.push(paxRecord('uid', Buffer.from(String(m.uid))));
  if (!fitsOctal(m.gid, F.gid)) out.push(paxRecord('gid', Buffer.from(String(m.gid))));
  return out;
}

function header(name: Uint8Array, type: string, m: Pick<ArchiveMember, 'mode' | 'uid' | 'gid' | 'mtime' | 'target' | 'device'>, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  h.set(name.subarray(0, F.name.len), F.name.at);
  putOctal(h, F.mode, m.mode & 0o7777);
  putOctal(h, F.uid, m.uid);
  putOctal(h, F.gid, m.gid);
  putOctal(h, F.size, size);
  putOctal(h, F.mtime, m.mtime);
  h[156] = type.charCodeAt(0);
  if (m.target !== undefined) h.set(m.target.subarray(0, F.linkname.len), F.linkname.at);
  h.set(Buffer.from('ustar\x0000', 'latin1'), 257);
  if (m.device !== undefined) {
    putOctal(h, F.devmajor, m.device.major);
    putOctal(h, F.devminor, m.device.minor);
  }
  h.fill(0x20, F.chksum.at, F.chksum.at + F.chksum.len);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1'), F.chksum.at);
  return h;
}

const padding = (n: number): Uint8Array => new Uint8Array((BLOCK - (n % BLOCK)) % BLOCK);

/** The tar stream of `members`, in their order (directories get a trailing "/"). */
export async function* tarStream(members: AsyncIterable<ArchiveMember>): AsyncGenerator<Uint8Array> {
  for await (const m of members) {
    const name = m.kind === 'directory' ? Buffer.concat([m.path, Buffer.from('/')]) : m.path;
    const size = m.kind === 'file' ? (m.size ?? 0) : 0;
    const pax = paxRecords(m, name);
    if (pax.length > 0) {
      const body = Buffer.concat(pax);
      yield header(Buffer.from('PaxHeader'), 'x', { mode: 0o644, uid: 0, gid: 0, mtime: 0 }, body.length);
      yield body;
      yield padding(body.length);
    }
    yield header(name, TYPE_FLAGS[m.kind], m, size);
    if (m.kind !== 'file') continue;
    yield* checkedData(m);
    yield padding(size);
  }
  yield new Uint8Array(2 * BLOCK);
}
