import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestoreReader } from '../remote/restore-reader.ts';
import { MountSource } from './mount-source.ts';
import type { ReaderSession } from './reader-session.ts';

/** A fake session: `end()` closes it (its fetches then fail); it records the indexes it downloaded. */
function fakeSession(id: number) {
  let end: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (end = resolve));
  let ended = false;
  const indexes: string[] = [];
  const reader = {
    chunk: async (name: string) => {
      if (ended) throw new Error('the h2 session is closed');
      if (!indexes.includes(name) && id > 0) throw new Error('no index downloaded in this session lists it');
      return new Uint8Array([id]);
    },
    chunkList: async (name: string) => {
      indexes.push(name);
      return { chunks: [], size: 0, fixed: false };
    },
  } as unknown as RestoreReader;
  const session: ReaderSession = { reader, closed, close: async () => end() };
  return {
    session,
    indexes,
    end: async () => {
      ended = true;
      end();
      await closed;
    },
  };
}

const ref = { digest: new Uint8Array(32), size: 1 };

test('a fetch after the session ended opens a new one, which downloads the indexes first, once for all readers', async () => {
  const first = fakeSession(0);
  const opened: ReturnType<typeof fakeSession>[] = [];
  const src = new MountSource(first.session, async () => {
    const s = fakeSession(opened.length + 1);
    opened.push(s);
    return s.session;
  });
  const fetch = src.fetch('a.mpxar.didx');
  src.fetch('a.ppxar.didx');
  assert.deepEqual(await fetch(ref), new Uint8Array([0]));
  await first.end();
  assert.deepEqual(await Promise.all([fetch(ref), fetch(ref), fetch(ref)]), [1, 1, 1].map((n) => new Uint8Array([n])));
  assert.equal(opened.length, 1, 'one new session for three readers');
  assert.deepEqual(opened[0]!.indexes, ['a.mpxar.didx', 'a.ppxar.didx']);
});

test('a failed reopening fails its reads, and the next read tries again', async () => {
  const first = fakeSession(0);
  let attempts = 0;
  const src = new MountSource(first.session, async () => {
    if (++attempts === 1) throw new Error('server down');
    return fakeSession(attempts).session;
  });
  const fetch = src.fetch('a.pxar.didx');
  await first.end();
  await assert.rejects(fetch(ref), /server down/);
  assert.deepEqual(await fetch(ref), new Uint8Array([2]));
});

test('a failure of a session that is still open is the read\'s own: no new session', async () => {
  let opens = 0;
  const s = fakeSession(0);
  const failing = { ...s.session, reader: { chunk: async () => Promise.reject(new Error('digest mismatch')) } as unknown as RestoreReader };
  const src = new MountSource(failing, async () => (opens++, fakeSession(1).session));
  await assert.rejects(src.fetch('a.pxar.didx')(ref), /digest mismatch/);
  assert.equal(opens, 0);
});
