/**
 * The memory bound of docs/protocol.md "Resource bounds", on a real `holdfast serve` process
 * (issue #11 item 6): with many backup sessions whose chunk uploads stall half way, the server's
 * RSS stays under baseline + upload cap + 1 MiB per open upload stream (+ a fixed allowance for
 * TLS and HTTP/2 state), and falls back once the sessions are closed.
 *
 * The test never waits on time. The worst case is reached when every upload either holds a pool
 * buffer and has read all the client sent, or waits for one with a full stream window of unread
 * bytes. Each upload writes its first 1 MiB (exactly the server's stream window, so flow control
 * lets it through) and waits for the write to be packed into frames, then writes 2 MiB more, which
 * only uploads holding a buffer can send. Once the server reports every upload as holding a
 * buffer or waiting, and as many uploads finished writing as hold buffers, an HTTP/2 PING on each
 * connection is answered only after the server processed every frame sent before it: from then on
 * it holds all it will.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { join } from 'node:path';
import { HttpClient } from '../../src/remote/http-client.ts';
import { BACKUP_PROTOCOL } from '../../src/server/h2-upgrade.ts';
import { PER_SESSION_UPLOADS } from '../../src/server/protocol/upload-memory.ts';
import { data, RawApi, tokenHeader, type RawH2 } from '../conformance/raw-client.ts';
import { cleanEnv, spawnServe } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const MIB = 1024 * 1024;
const SESSIONS = 24;
const UPLOAD_CAP_MIB = 64;
/** The server's HTTP/2 stream window (docs/protocol.md): what a stream may send unread. */
const STREAM_WINDOW = 1 * MIB;
/** TLS and HTTP/2 state per connection, V8 heap growth: generous, but far below one stalled 3 MiB per stream. */
const ALLOWANCE_MIB = 64 + SESSIONS;

interface Status {
  readonly memory: { readonly rss: number };
  readonly uploads: { readonly maxBytes: number; readonly slotsInUse: number; readonly waiting: number; readonly sessions: number; readonly releases: number };
}

test('server RSS stays under baseline + upload cap + 1 MiB per stalled upload stream, and falls back after the sessions close', { timeout: 600_000 }, async () => {
  const dir = makeTempDir('upload-bound');
  const server = await spawnServe(
    ['--listen', '127.0.0.1:0', '--upload-memory', String(UPLOAD_CAP_MIB), '--max-sessions-per-user', String(SESSIONS + 1)],
    cleanEnv({ HOLDFAST_CONFIG_DIR: join(dir, 'config'), HOLDFAST_DATA_DIR: join(dir, 'data') }),
  );
  const sessions: RawH2[] = [];
  try {
    const password = (await server.waitForLine(/^first start: user \S+, password (\S+)$/))[1]!;
    const admin = new HttpClient({ host: '127.0.0.1', port: server.port, fingerprint: server.fingerprint });
    await admin.login('admin@pbs', password);
    const token = (await admin.post('access/users/admin@pbs/token/bound')) as { tokenid: string; value: string };
    await admin.put('access/acl', { path: '/', role: 'Admin', 'auth-id': token.tokenid });
    const api = new RawApi(server.port, tokenHeader(token.tokenid, token.value, '='));
    const status = async (): Promise<Status> => data(await api.request('GET', 'nodes/localhost/status')) as Status;

    // Warm-up: a session whose whole (bogus) chunk is read and checked, so the code paths and the
    // checker thread are loaded before the baseline is taken.
    const warm = await api.upgrade('backup', backupParams('warm-up'), BACKUP_PROTOCOL);
    const wid = data(await warm.call('POST', 'dynamic_index', 'query', { 'archive-name': 'a.didx' })) as number;
    const refused = await warm.upload('dynamic_chunk', { wid, digest: 'ab'.repeat(32), size: 4 * MIB, 'encoded-size': 4 * MIB + 12 }, Buffer.alloc(4 * MIB + 12));
    assert.equal(refused.status, 400, refused.body.toString());
    warm.session.destroy();
    const idle = await waitFor(status, (s) => s.uploads.sessions === 0 && s.uploads.releases === 1);
    const baseline = idle.memory.rss;

    const uploads: Stalled[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const h2 = await api.upgrade('backup', backupParams(`stall-${i}`), BACKUP_PROTOCOL);
      sessions.push(h2);
      const w = data(await h2.call('POST', 'dynamic_index', 'query', { 'archive-name': 'a.didx' })) as number;
      for (let u = 0; u < PER_SESSION_UPLOADS; u++) uploads.push(stallUpload(h2, w, 3 * MIB));
    }
    await Promise.all(uploads.map((u) => u.first));
    const total = uploads.length;
    const held = await waitFor(status, (s) => s.uploads.slotsInUse + s.uploads.waiting === total && uploads.filter((u) => u.done).length >= s.uploads.slotsInUse);
    assert.ok(held.uploads.waiting > total / 2, `most uploads wait for a buffer (${held.uploads.waiting} of ${total})`);
    await Promise.all(sessions.map((h2) => ping(h2.session)));
    const peak = (await status()).memory.rss;
    const bound = baseline + held.uploads.maxBytes + total * STREAM_WINDOW + ALLOWANCE_MIB * MIB;
    const report = `baseline ${mib(baseline)}, with ${total} stalled uploads ${mib(peak)} (bound ${mib(bound)}: cap ${mib(held.uploads.maxBytes)} + ${total} × 1 MiB + ${ALLOWANCE_MIB} MiB)`;
    assert.ok(peak <= bound, report);

    for (const h2 of sessions.splice(0)) h2.session.destroy();
    const released = await waitFor(status, (s) => s.uploads.sessions === 0 && s.uploads.releases === 2);
    assert.equal(released.uploads.slotsInUse + released.uploads.waiting, 0);
    const after = released.memory.rss;
    // Back near the baseline: at most a quarter of what the stalled sessions took on top of it.
    assert.ok(after - baseline <= (peak - baseline) / 4, `${report}; after the sessions closed ${mib(after)}`);
    process.stdout.write(`# ${report}; after close ${mib(after)}\n`);
  } finally {
    for (const h2 of sessions) h2.session.destroy();
    await server.stop();
  }
});

interface Stalled {
  /** settles when the first STREAM_WINDOW bytes were packed into frames */
  readonly first: Promise<void>;
  /** true once all `sent` bytes were packed */
  readonly done: boolean;
}

/** A `dynamic_chunk` upload that announces a 4 MiB chunk and sends only `sent` bytes of it. */
function stallUpload(h2: RawH2, wid: number, sent: number): Stalled {
  const size = 4 * MIB;
  const path = `/dynamic_chunk?wid=${wid}&digest=${'ab'.repeat(32)}&size=${size}&encoded-size=${size + 12}`;
  const stream = h2.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream' });
  stream.on('error', () => undefined);
  const state = { done: false };
  const first = new Promise<void>((resolve, reject) => {
    stream.write(Buffer.alloc(STREAM_WINDOW, 1), (err) => {
      if (err) reject(err);
      else {
        resolve();
        if (sent > STREAM_WINDOW) stream.write(Buffer.alloc(sent - STREAM_WINDOW, 2), (e) => (state.done = !e));
        else state.done = true;
      }
    });
  });
  return {
    first,
    get done() {
      return state.done;
    },
  };
}

function backupParams(id: string): Record<string, string | number> {
  return { store: 'default', 'backup-type': 'host', 'backup-id': id, 'backup-time': 1_800_000_000 };
}

function ping(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((err) => (err ? reject(err) : resolve()));
  });
}

/** Asks the server until `ok` holds; each question is a round trip, so this waits on the server, not on time. */
async function waitFor(status: () => Promise<Status>, ok: (s: Status) => boolean): Promise<Status> {
  for (;;) {
    const s = await status();
    if (ok(s)) return s;
  }
}

const mib = (n: number): string => `${(n / MIB).toFixed(0)} MiB`;
