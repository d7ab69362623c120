/**
 * The sync level, checked at the system-call boundary: a real `holdfast serve` runs under
 * `strace -f -e trace=syncfs,fsync,fdatasync` with its config and one datastore per sync level on
 * a loop-mounted ext4 image (sparse; each datastore's 65536 dirs take 256 MiB of blocks), and the
 * real CLI backs up 64 MiB of new data to each. Only the calls made while the client ran are
 * counted (the server also syncs at start-up and when it opens a store, done beforehand):
 *   none       → no sync call at all;
 *   filesystem → at least one syncfs before `holdfast backup` returned, and no per-chunk fsync;
 *   file       → at least one fsync per uploaded chunk (two: file and prefix dir), and no syncfs.
 * Linux and root only (loop mount); skips with the reason when strace or root is missing. When the
 * loop mount fails, it falls back to a temp dir (the syscalls are the same; the note says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountLoopFs } from '../helpers/loop-fs.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { cleanEnv, describeCli, fastRandom, runCli, spawnServe } from '../helpers/server-fixture.ts';

const LEVELS = ['none', 'filesystem', 'file'] as const;
const SYNC_CALLS = ['syncfs', 'fsync', 'fdatasync'] as const;
type SyncCallName = (typeof SYNC_CALLS)[number];

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (strace)';
  if (process.getuid?.() !== 0) return 'needs root (loop mount, tracing the server)';
  if (!hasStrace()) return 'needs strace (apt-get install strace)';
  return false;
}

interface TracedCall {
  readonly name: SyncCallName;
  /** epoch seconds */
  readonly at: number;
  readonly line: string;
}

/** Call starts in `strace -f -ttt` output (`PID EPOCH.USEC name(…`); "resumed" halves are skipped. */
function parseTrace(text: string): TracedCall[] {
  const out: TracedCall[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\s+(\d+\.\d+)\s+(syncfs|fsync|fdatasync)\(/.exec(line);
    if (m) out.push({ at: Number(m[1]), name: m[2] as SyncCallName, line });
  }
  return out;
}

function countIn(calls: readonly TracedCall[], from: number, to: number): Record<SyncCallName, number> {
  const n: Record<SyncCallName, number> = { syncfs: 0, fsync: 0, fdatasync: 0 };
  for (const c of calls) if (c.at >= from && c.at <= to) n[c.name]++;
  return n;
}

const reason = skipReason();

test('strace: each sync level makes exactly the sync calls it promises during a backup', { skip: reason, timeout: 300_000 }, async (t) => {
  const loop = mountLoopFs('ext4', 1536, 262_144);
  const root = typeof loop === 'string' ? makeTempDir('holdfast-strace-') : loop.mountPoint;
  if (typeof loop === 'string') t.diagnostic(`no loop-mounted ext4 (${loop}); using ${root} instead: the syscalls counted are the same`);
  const scratch = makeTempDir('holdfast-strace-src-');
  const traceFile = join(scratch, 'strace.out');
  const env = cleanEnv({ HOLDFAST_CONFIG_DIR: join(root, 'config') });
  let server: Awaited<ReturnType<typeof spawnServe>> | undefined;
  try {
    for (const level of LEVELS) {
      const r = await runCli(['datastore', 'create', `s-${level}`, join(root, `s-${level}`), '--tuning', `sync-level=${level}`], env);
      assert.equal(r.code, 0, describeCli(r));
    }
    const image = join(scratch, 'disk.img');
    writeFileSync(image, fastRandom(64 * 1024 * 1024, 99));

    server = await spawnServe(['--listen', '127.0.0.1:0', '--no-default-datastore'], env, [
      'strace', '-f', '--seccomp-bpf', '-ttt', '-e', `trace=${SYNC_CALLS.join(',')}`, '-o', traceFile,
    ]);
    const password = readFileSync(join(root, 'config', 'initial-admin-password'), 'utf8').trim();
    const clientEnv = (level: string): NodeJS.ProcessEnv => ({
      ...env,
      HOLDFAST_REPOSITORY: `127.0.0.1:${server!.port}:s-${level}`,
      HOLDFAST_PASSWORD: password,
      HOLDFAST_FINGERPRINT: server!.fingerprint,
    });
    // Opening a store writes its durable in-use marker: do that before the measured windows.
    for (const level of LEVELS) {
      const r = await runCli(['snapshot', 'list'], clientEnv(level));
      assert.equal(r.code, 0, describeCli(r));
    }
    const windows: { level: (typeof LEVELS)[number]; from: number; to: number; chunks: number }[] = [];
    for (const level of LEVELS) {
      const from = Date.now() / 1000;
      const r = await runCli(['backup', `disk.img:${image}`, '--backup-id', `strace-${level}`, '--output-format', 'json'], clientEnv(level));
      const to = Date.now() / 1000;
      assert.equal(r.code, 0, describeCli(r));
      const report = JSON.parse(r.stdout) as { archives: { uploadedChunks?: number }[] };
      const chunks = report.archives.reduce((a, x) => a + (x.uploadedChunks ?? 0), 0);
      assert.equal(chunks, 16, '64 MiB of new data is 16 new 4 MiB chunks');
      windows.push({ level, from, to, chunks });
    }
    assert.equal(await server.stop(), 0, `the traced server did not exit cleanly: ${server.stderr()}`);
    server = undefined;

    const calls = parseTrace(readFileSync(traceFile, 'utf8'));
    assert.ok(calls.length > 0, 'strace recorded no sync call at all (start-up makes some): is the trace working?');
    const seen: Record<string, Record<SyncCallName, number>> = {};
    for (const w of windows) seen[w.level] = countIn(calls, w.from, w.to);
    t.diagnostic(`sync calls during each backup of 16 new chunks: ${JSON.stringify(seen)}`);

    assert.deepEqual(seen['none'], { syncfs: 0, fsync: 0, fdatasync: 0 }, 'sync-level=none made sync calls during a backup');
    const fsLevel = seen['filesystem']!;
    assert.ok(fsLevel.syncfs >= 1, 'sync-level=filesystem: no syncfs before `holdfast backup` returned');
    assert.ok(fsLevel.fsync + fsLevel.fdatasync <= 2, `sync-level=filesystem: ${fsLevel.fsync + fsLevel.fdatasync} fsyncs; only the manifest and its directory may be fsynced, no chunk`);
    const fileLevel = seen['file']!;
    // per chunk: the chunk file before its rename and its prefix directory after (docs/durability.md)
    assert.ok(fileLevel.fsync + fileLevel.fdatasync >= 2 * 16, `sync-level=file: ${fileLevel.fsync} fsyncs for 16 chunks, expected at least 2 per chunk`);
    assert.equal(fileLevel.syncfs, 0, 'sync-level=file needs no syncfs');
  } finally {
    if (server) await server.stop();
    rmSync(scratch, { recursive: true, force: true });
    if (typeof loop === 'string') rmSync(root, { recursive: true, force: true });
    else loop.cleanup();
  }
});
