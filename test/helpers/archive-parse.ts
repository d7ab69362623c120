/**
 * Readers for the downloads the file-browse tests get: the member names (and a file's bytes) of a
 * tar and of a zip, read straight from the bytes, so the tests need no unzip or tar binary and
 * check the writers against the formats' own layouts (ustar + pax; zip central directory).
 */
export interface ParsedMember {
  readonly name: string;
  readonly type: string;
  readonly data: Buffer;
}

/** Members of a tar: pax `path` records override the ustar name. */
export function parseTar(tar: Buffer): ParsedMember[] {
  const out: ParsedMember[] = [];
  let at = 0;
  let paxPath: string | undefined;
  while (at + 512 <= tar.length) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const field = (s: number, l: number): string => h.subarray(s, s + l).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12), 8) || 0;
    const type = String.fromCharCode(h[156] ?? 0);
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = m?.[1];
      continue;
    }
    out.push({ name: paxPath ?? field(0, 100), type, data: Buffer.from(data) });
    paxPath = undefined;
  }
  return out;
}

/** Members of a zip, from its central directory (stored entries only, as Holdfast writes). */
export function parseZip(zip: Buffer): ParsedMember[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out: ParsedMember[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central header at ${at}`);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    out.push({ name, type: (mode & 0o170000) === 0o120000 ? '2' : name.endsWith('/') ? '5' : '0', data: Buffer.from(zip.subarray(dataAt, dataAt + size)) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
