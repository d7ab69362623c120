import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import type { ArchiveMember } from './archive-member.ts';
import { tarStream } from './tar-writer.ts';
import { zipStream } from './zip-writer.ts';
import { parseTar } from '../../test/helpers/archive-parse.ts';

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
const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;

test('tarStream writes ustar members in 512-byte blocks, a pax path for names over 100 bytes, and two zero blocks', async () => {
  const tar = await collect(tarStream(from<ArchiveMember>([{ kind: 'directory', path: Buffer.from('top'), ...base }, file('top/a', 'hello'), file(long, 'x'), { kind: 'symlink', path: Buffer.from('top/l'), ...base, target: Buffer.from('a') }])));
  assert.equal(tar.length % 512, 0);
  assert.ok(tar.subarray(-1024).every((b) => b === 0));
  assert.deepEqual(parseTar(tar).map((m) => [m.name, m.type, m.data.toString()]), [['top/', '5', ''], ['top/a', '0', 'hello'], [long, '0', 'x'], ['top/l', '2', '']]);
  assert.equal(tar.subarray(257, 263).toString('latin1'), 'ustar\0');
});

test('tarStream and zipStream raise SIZE_MISMATCH when a member yields other than its size', async () => {
  for (const write of [tarStream, zipStream]) {
    await assert.rejects(collect(write(from([file('a', 'hello', 4)]))), (e) => isHoldfastError(e, 'SIZE_MISMATCH'));
    await assert.rejects(collect(write(from([file('a', 'hello', 9)]))), (e) => isHoldfastError(e, 'SIZE_MISMATCH'));
  }
});
