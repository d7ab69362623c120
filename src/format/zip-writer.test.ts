import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArchiveMember } from './archive-member.ts';
import { zipStream } from './zip-writer.ts';
import { parseZip } from '../../test/helpers/archive-parse.ts';

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of src) parts.push(p);
  return Buffer.concat(parts);
}
const base = { mode: 0o644, uid: 1000, gid: 1000, mtime: 1_700_000_000 };
const file = (path: string, text: string, size = Buffer.byteLength(text)): ArchiveMember => ({ kind: 'file', path: Buffer.from(path), ...base, size, data: from([Buffer.from(text)]) });

test('zipStream stores members with UTF-8 names, CRC-32 in data descriptors, symlinks as link text, and leaves out what zip cannot hold', async () => {
  const zip = await collect(zipStream(from<ArchiveMember>([
    { kind: 'directory', path: Buffer.from('dir'), ...base },
    file('dir/ä.txt', 'hällo'),
    { kind: 'symlink', path: Buffer.from('dir/l'), ...base, target: Buffer.from('ä.txt') },
    { kind: 'fifo', path: Buffer.from('dir/p'), ...base },
    { kind: 'hardlink', path: Buffer.from('dir/h'), ...base, target: Buffer.from('dir/ä.txt') },
  ])));
  assert.deepEqual(parseZip(zip).map((m) => [m.name, m.type, m.data.toString()]), [['dir/', '5', ''], ['dir/ä.txt', '0', 'hällo'], ['dir/l', '2', 'ä.txt']]);
  const crcAt = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 16;
  assert.equal(zip.readUInt32LE(crcAt), 0, 'a directory has CRC 0');
  assert.equal(zip.readUInt16LE(6) & 0x0808, 0x0808, 'data descriptor and UTF-8 flags');
});
