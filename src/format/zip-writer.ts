/**
 * A streaming zip writer for folder downloads (PKWARE APPNOTE 6.3): every member stored
 * (method 0: backup data is mostly compressed already, and storing keeps the server's CPU for
 * backups), names in UTF-8 (flag bit 11), the CRC-32 and sizes in a data descriptor after the
 * bytes (flag bit 3), since the CRC is known only once the file has passed through.
 *
 * Zip64 extra fields and the zip64 end records are written only where a value does not fit
 * 32 bits (a file of 4 GiB or more, an offset past 4 GiB, 65535 members or more), so small
 * downloads open in every unzip.
 *
 * Directories end in "/"; symlinks are stored as their link text with S_IFLNK in the external
 * attributes (as Info-ZIP does). Hardlinks, devices and fifos have no zip form and are left out.
 * Memory: the central directory, ~60 bytes plus the name per member, is the only state kept.
 */
import { crc32 } from '@node-rs/crc32';
import { checkedData, type ArchiveMember } from './archive-member.ts';

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const FLAGS = (1 << 3) | (1 << 11);
const UNIX_MADE_BY = (3 << 8) | 45;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

interface CentralEntry {
  readonly name: Uint8Array;
  readonly crc: number;
  readonly size: number;
  readonly offset: number;
  readonly external: number;
  readonly time: number;
  readonly date: number;
}

/** MS-DOS time and date (local fields, 2-second steps; 1980 is the earliest date it can say). */
function dosTime(secs: number): { time: number; date: number } {
  const d = new Date(Math.max(secs, 315532800) * 1000);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((Math.min(d.getUTCFullYear(), 2107) - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function localHeader(e: Omit<CentralEntry, 'crc' | 'size' | 'offset' | 'external'>, zip64: boolean): Buffer {
  const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
  if (zip64) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2); // sizes 0 here: the data descriptor has them
  }
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(FLAGS, 6);
  h.writeUInt16LE(0, 8);
  h.writeUInt16LE(e.time, 10);
  h.writeUInt16LE(e.date, 12);
  h.writeUInt32LE(zip64 ? MAX32 : 0, 18);
  h.writeUInt32LE(zip64 ? MAX32 : 0, 22);
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, e.name, extra]);
}

function dataDescriptor(crc: number, size: number, zip64: boolean): Buffer {
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc, 4);
  if (zip64) {
    d.writeBigUInt64LE(BigInt(size), 8);
    d.writeBigUInt64LE(BigInt(size), 16);
  } else {
    d.writeUInt32LE(size, 8);
    d.writeUInt32LE(size, 12);
  }
  return d;
}

function centralHeader(e: CentralEntry): Buffer {
  const big = [e.size >= MAX32 ? e.size : undefined, e.size >= MAX32 ? e.size : undefined, e.offset >= MAX32 ? e.offset : undefined].filter((v) => v !== undefined);
  const extra = Buffer.alloc(big.length > 0 ? 4 + 8 * big.length : 0);
  if (big.length > 0) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(8 * big.length, 2);
    big.forEach((v, i) => extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  }
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(UNIX_MADE_BY, 4);
  h.writeUInt16LE(big.length > 0 ? 45 : 20, 6);
  h.writeUInt16LE(FLAGS, 8);
  h.writeUInt16LE(e.time, 12);
  h.writeUInt16LE(e.date, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(Math.min(e.size, MAX32), 20);
  h.writeUInt32LE(Math.min(e.size, MAX32), 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt32LE(e.external >>> 0, 38);
  h.writeUInt32LE(Math.min(e.offset, MAX32), 42);
  return Buffer.concat([h, e.name, extra]);
}

function endRecords(count: number, cdStart: number, cdSize: number): Buffer {
  const parts: Buffer[] = [];
  if (count >= MAX16 || cdStart >= MAX32 || cdSize >= MAX32) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(UNIX_MADE_BY, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(count), 24);
    z.writeBigUInt64LE(BigInt(count), 32);
    z.writeBigUInt64LE(BigInt(cdSize), 40);
    z.writeBigUInt64LE(BigInt(cdStart), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdStart + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    parts.push(z, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(count, MAX16), 8);
  end.writeUInt16LE(Math.min(count, MAX16), 10);
  end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
  end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
  parts.push(end);
  return Buffer.concat(parts);
}

const TYPE_BITS = { directory: S_IFDIR, file: S_IFREG, symlink: S_IFLNK } as const;

/** The zip stream of `members`, in their order; see the module comment for what is left out. */
export async function* zipStream(members: AsyncIterable<ArchiveMember>): AsyncGenerator<Uint8Array> {
  const central: CentralEntry[] = [];
  let offset = 0;
  for await (const m of members) {
    if (m.kind !== 'directory' && m.kind !== 'file' && m.kind !== 'symlink') continue;
    const name = m.kind === 'directory' ? Buffer.concat([m.path, Buffer.from('/')]) : Buffer.from(m.path);
    const size = m.kind === 'file' ? (m.size ?? 0) : m.kind === 'symlink' ? (m.target?.length ?? 0) : 0;
    const zip64 = size >= MAX32;
    const { time, date } = dosTime(m.mtime);
    const head = localHeader({ name, time, date }, zip64);
    const start = offset;
    yield head;
    let crc = 0;
    if (m.kind === 'file') {
      yield* checkedData(m, (piece) => (crc = crc32(piece, crc)));
    } else if (m.kind === 'symlink' && m.target !== undefined) {
      crc = crc32(m.target);
      yield m.target;
    }
    const desc = dataDescriptor(crc, size, zip64);
    yield desc;
    offset += head.length + size + desc.length;
    const external = ((TYPE_BITS[m.kind] | (m.mode & 0o7777)) << 16) | (m.kind === 'directory' ? 0x10 : 0);
    central.push({ name, crc, size, offset: start, external, time, date });
  }
  const cd = Buffer.concat(central.map(centralHeader));
  yield cd;
  yield endRecords(central.length, offset, cd.length);
}
