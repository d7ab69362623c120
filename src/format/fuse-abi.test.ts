import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../core/errors.ts';
import {
  ERRNO, IN_HEADER_SIZE, OPCODES, OUT_HEADER_SIZE, direntSize, encodeRdev, entryOut, initOut, packDirents, parseRequest, replyHeader,
} from './fuse-abi.ts';

/** A request as the kernel writes it: fuse_in_header then `arg`. */
function request(opcode: number, nodeid: number, arg: Uint8Array = new Uint8Array(0), unique = 7n): Uint8Array {
  const out = new Uint8Array(IN_HEADER_SIZE + arg.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, true);
  v.setUint32(4, opcode, true);
  v.setBigUint64(8, unique, true);
  v.setBigUint64(16, BigInt(nodeid), true);
  v.setUint32(24, 1000, true);
  out.set(arg, IN_HEADER_SIZE);
  return out;
}

const le = (...words: [number, 4 | 8][]): Uint8Array => {
  const out = new Uint8Array(words.reduce((n, [, w]) => n + w, 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const [x, w] of words) {
    if (w === 4) v.setUint32(at, x, true);
    else v.setBigUint64(at, BigInt(x), true);
    at += w;
  }
  return out;
};

test('parseRequest reads the header and the arguments of each request a read-only mount answers', () => {
  const lookup = parseRequest(request(OPCODES.LOOKUP, 1, new TextEncoder().encode('a b\0')));
  assert.equal(lookup.op, 'lookup');
  assert.equal(lookup.op === 'lookup' && Buffer.from(lookup.name).toString(), 'a b');
  assert.deepEqual([lookup.unique, lookup.nodeid, lookup.uid], [7n, 1, 1000]);
  const read = parseRequest(request(OPCODES.READ, 9, le([0, 8], [4096, 8], [131072, 4], [0, 4], [0, 8], [0, 4], [0, 4])));
  assert.deepEqual(read.op === 'read' && [read.offset, read.size], [4096, 131072]);
  const init = parseRequest(request(OPCODES.INIT, 0, le([7, 4], [38, 4], [131072, 4], [0xffff, 4])));
  assert.deepEqual(init.op === 'init' && [init.major, init.minor, init.maxReadahead, init.flags], [7, 38, 131072, 0xffff]);
  const forget = parseRequest(request(OPCODES.BATCH_FORGET, 0, le([2, 4], [0, 4], [5, 8], [1, 8], [6, 8], [3, 8])));
  assert.deepEqual(forget.op === 'batch-forget' && forget.items, [{ nodeid: 5, nlookup: 1 }, { nodeid: 6, nlookup: 3 }]);
  const getx = parseRequest(request(OPCODES.GETXATTR, 3, new Uint8Array([...le([0, 4], [0, 4]), ...new TextEncoder().encode('user.x\0')])));
  assert.deepEqual(getx.op === 'getxattr' && [getx.size, Buffer.from(getx.name).toString()], [0, 'user.x']);
  assert.equal(parseRequest(request(OPCODES.WRITE, 3, new Uint8Array(80))).op, 'other');
  assert.equal(parseRequest(request(OPCODES.GETATTR, 3, new Uint8Array(16))).op, 'getattr');
});

test('parseRequest refuses what does not fit its length with INVALID_ARGUMENT, never reading past it', () => {
  const bad = (bytes: Uint8Array): void => assert.throws(() => parseRequest(bytes), (e) => isHoldfastError(e, 'INVALID_ARGUMENT'));
  bad(new Uint8Array(IN_HEADER_SIZE - 1));
  const long = request(OPCODES.GETATTR, 1);
  new DataView(long.buffer).setUint32(0, IN_HEADER_SIZE + 100, true);
  bad(long);
  bad(request(OPCODES.LOOKUP, 1, new TextEncoder().encode('no-nul')));
  bad(request(OPCODES.READ, 1, new Uint8Array(10)));
  bad(request(OPCODES.BATCH_FORGET, 0, le([1000, 4], [0, 4], [5, 8], [1, 8])));
  const huge = request(OPCODES.GETATTR, 0);
  new DataView(huge.buffer).setBigUint64(16, 2n ** 60n, true);
  bad(huge);
});

test('replies: the header carries the length and a negative errno; a negative lookup is node 0', () => {
  const h = new DataView(replyHeader(9n, ERRNO.ENOENT, 0).buffer);
  assert.deepEqual([h.getUint32(0, true), h.getInt32(4, true), h.getBigUint64(8, true)], [OUT_HEADER_SIZE, -2, 9n]);
  assert.equal(new DataView(replyHeader(9n, 0, 100).buffer).getUint32(0, true), OUT_HEADER_SIZE + 100);
  assert.equal(new DataView(entryOut(0, undefined).buffer).getBigUint64(0, true), 0n);
  const init = new DataView(initOut({ maxReadahead: 65536, flags: 0b1010 }, 0b0011, 131072, 256).buffer);
  assert.equal(init.getUint16(28, true), 256, 'max_pages');
  assert.deepEqual([init.getUint32(0, true), init.getUint32(4, true), init.getUint32(8, true), init.getUint32(12, true)], [7, 31, 65536, 0b0010], 'only flags both sides want');
});

test('packDirents packs whole 8-aligned records up to the size asked, and stops before one that does not fit', () => {
  const names = ['.', '..', 'a', 'longer-name'].map((n) => new TextEncoder().encode(n));
  const entries = names.map((name, i) => ({ ino: i + 1, next: i + 1, mode: 0o040755, name }));
  const all = packDirents(entries, 4096);
  assert.equal(all.length, names.reduce((n, x) => n + direntSize(x.length), 0));
  assert.equal(all.length % 8, 0);
  const v = new DataView(all.buffer);
  assert.deepEqual([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getUint32(16, true), v.getUint32(20, true)], [1n, 1n, 1, 4], 'ino, next offset, name length, DT_DIR');
  assert.equal(packDirents(entries, direntSize(1) * 2 + 3).length, direntSize(1) * 2);
  assert.equal(packDirents(entries, 10).length, 0);
});

test('encodeRdev matches the kernel: major 8 minor 1 is 0x801; large minors keep their high bits', () => {
  assert.equal(encodeRdev(8, 1), 0x801);
  assert.equal(encodeRdev(1, 0x12345), (0x45 | (1 << 8) | (0x12300 << 12)) >>> 0);
});
