/**
 * The real-filesystem companion of the crash explorer: a real `holdfast serve` on a loop-mounted
 * ext4 image is killed with SIGKILL at seeded random moments while clients back up, prune and run
 * GC (with a 1-minute cutoff, so it really removes chunks). After each restart, every backup the client saw acknowledged must still be
 * listed and restore byte-identically, at every sync level (a process crash keeps the page cache,
 * so even `none` must lose nothing here). Root only; skips with the reason otherwise.
 *
 * The kill moment is a seeded random delay: it picks *where* the crash lands, nothing waits on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mountLoopFs } from '../helpers/loop-fs.ts';
import { pseudoRandom } from '../helpers/datastore-fixture.ts';
import { rng } from '../helpers/seeded.ts';

const ROUNDS = Number(process.env['HOLDFAST_KILL9_ROUNDS'] ?? 50);
const BIN = new URL('../../bin/holdfast.js', import.meta.url).pathname;
const LEVELS = ['none', 'filesystem', 'file'] as const;

interface Server {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly fingerprint: string;
  readonly closed: Promise<unknown>;
}

function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--no-default-datastore'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise((r) => proc.once('close', r));
  return new Promise((resolve, reject) => {
    let port = 0;
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (l) => {
      const m = /listening on https:\/\/[^:]+:(\d+)/.exec(l);
      if (m) port = Number(m[1]);
      const f = /^fingerprint: (\S+)/.exec(l);
      if (f) resolve({ proc, port, fingerprint: f[1]!, closed });
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready: ${stderr}`)));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => p.once('close', (code) => resolve({ code: code ?? -1, out, err })));
}

/** sha256 per relative path: what a restore must reproduce. */
function treeDigest(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = join(rel, name);
    const st = lstatSync(join(root, p));
    if (st.isDirectory()) Object.assign(out, treeDigest(root, p));
    else out[p] = createHash('sha256').update(readFileSync(join(root, p))).digest('hex');
  }
  return out;
}

/** Rewrites part of a group's source tree, so each round uploads some new chunks. */
function mutate(dir: string, round: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `round-${round % 4}.bin`), pseudoRandom(1_500_000 + (round % 3) * 400_000, seed * 1000 + round));
  writeFileSync(join(dir, 'stable.bin'), pseudoRandom(2_000_000, seed));
}


const fsys = mountLoopFs('ext4', 2048, 262_144);

test(`kill -9 of a real server on ext4, ${ROUNDS} times: every acknowledged backup survives and restores`, { skip: typeof fsys === 'string' ? fsys : false, timeout: 30 * 60_000 }, async () => {
  if (typeof fsys === 'string') return;
  const root = fsys.mountPoint;
  const cfg = join(root, 'cfg');
  const random = rng(Number(process.env['HOLDFAST_KILL9_SEED'] ?? 9));
  const env: NodeJS.ProcessEnv = { ...process.env, HOLDFAST_CONFIG_DIR: cfg, HOLDFAST_DATA_DIR: join(root, 'data') };
  const acked: { store: string; snapshot: string; expect: Record<string, string> }[] = [];
  let unacked = 0;
  let current: Server | undefined;
  try {
    for (const level of LEVELS) {
      // a 1-minute GC cutoff, so GC really removes chunks while backups run
      const r = await run(['datastore', 'create', `s-${level}`, join(root, `s-${level}`), '--tuning', `sync-level=${level},gc-atime-cutoff=1`], env);
      assert.equal(r.code, 0, r.err);
    }
    let server = (current = await startServer(env));
    const password = readFileSync(join(cfg, 'initial-admin-password'), 'utf8').trim();
    let time = 1_800_000_000;
    // Round -1 is not killed: it measures how long a round takes, so kills land across its span.
    let span = 0;
    for (let round = -1; round < ROUNDS; round++) {
      const started = Date.now();
      const clientEnv = (store: string): NodeJS.ProcessEnv => ({ ...env, HOLDFAST_REPOSITORY: `127.0.0.1:${server.port}:${store}`, HOLDFAST_PASSWORD: password, HOLDFAST_FINGERPRINT: server.fingerprint });
      const r0 = round + 1; // ≥ 0
      const jobs = LEVELS.slice(0, 2 + (r0 % 2)).map(async (_level, i) => {
        const store = LEVELS[(r0 + i) % 3]!;
        const src = join(root, 'src', `${store}-g${i}`);
        mutate(src, r0, i + 1);
        const expect = treeDigest(src);
        const t = (time += 10);
        const r = await run(['backup', `data.pxar:${src}`, '--backup-id', `g${i}`, '--backup-time', String(t), '--output-format', 'json'], clientEnv(`s-${store}`));
        if (r.code === 0) acked.push({ store: `s-${store}`, snapshot: `host/g${i}/${t}`, expect });
        else {
          unacked++;
          if (process.env['HOLDFAST_KILL9_DEBUG']) process.stderr.write(`round ${round}: ${r.err}\n`);
        }
      });
      if (r0 % 4 === 3) {
        // prune one group and run GC beside the backups; the pruned group's snapshots are no longer
        // expected, every other acknowledged snapshot still is
        const store = LEVELS[r0 % 3]!;
        for (let k = acked.length - 1; k >= 0; k--) if (acked[k]!.store === `s-${store}` && acked[k]!.snapshot.startsWith('host/g1/')) acked.splice(k, 1);
        jobs.push(run(['prune', 'host/g1', '--keep-last', '2'], clientEnv(`s-${store}`)).then(() => undefined));
        jobs.push(run(['garbage-collection', 'start', `s-${store}`], clientEnv(`s-${store}`)).then(() => undefined));
      }
      if (round < 0) {
        await Promise.all(jobs);
        span = Date.now() - started;
        assert.equal(unacked, 0, 'the calibration round (no kill) must succeed');
        continue;
      }
      const kill = new Promise<void>((resolve) => setTimeout(resolve, Math.floor(span * (0.3 + random() * 1.2))));
      await Promise.race([Promise.all(jobs), kill]);
      server.proc.kill('SIGKILL');
      await Promise.allSettled(jobs);
      await server.closed;
      server = current = await startServer(env);
      // every snapshot acknowledged in this round must be there after the restart
      const newest = acked.at(-1);
      if (newest && Number(newest.snapshot.split('/')[2]) > time - 40) await checkRestore(newest, server, password, env, root);
    }
    for (const a of acked.filter((_, i) => i % 5 === 0)) await checkRestore(a, server, password, env, root);
    server.proc.kill('SIGTERM');
    await server.closed;
    assert.ok(acked.length > 0, 'no backup was acknowledged at all');
    process.stdout.write(`# kill9: ${ROUNDS} kills, ${acked.length} acknowledged backups all restored, ${unacked} interrupted\n`);
  } finally {
    // a failed assertion must not leave the server running: its pipes would keep this test alive
    current?.proc.kill('SIGKILL');
    await current?.closed;
    fsys.cleanup();
  }
});

async function checkRestore(a: { store: string; snapshot: string; expect: Record<string, string> }, server: Server, password: string, env: NodeJS.ProcessEnv, root: string): Promise<void> {
  const target = join(root, 'restore');
  rmSync(target, { recursive: true, force: true });
  const r = await run(['restore', a.snapshot, 'data.pxar', target], { ...env, HOLDFAST_REPOSITORY: `127.0.0.1:${server.port}:${a.store}`, HOLDFAST_PASSWORD: password, HOLDFAST_FINGERPRINT: server.fingerprint });
  assert.equal(r.code, 0, `restore of acknowledged ${a.store} ${a.snapshot} failed: ${r.err}`);
  assert.deepEqual(treeDigest(target), a.expect, `restored ${a.snapshot} differs`);
  rmSync(target, { recursive: true, force: true });
}
