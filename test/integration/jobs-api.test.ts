/**
 * Maintenance jobs end to end against a real HTTPS server, through the CLI (run in process with a
 * captured context): backups run as `backup` tasks, `verify-new` verifies each new snapshot,
 * `garbage-collection start|status`, `verify`, client-side `prune`, `prune-job run`, and
 * `task list|log|stop`. Every job shows up in `task list` and its log is readable.
 *
 * The tests of this file run in order and share the server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { indexChunks } from '../../src/datastore/index-files.ts';
import { fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

const T1 = 1_800_000_000;
const T2 = T1 + 3600;

let srv: TestServer;
let image = '';
let conf = '';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function cli(args: readonly string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { env: srv.env(), out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function ok(args: readonly string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `holdfast ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r.out;
}

async function json<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--output-format', 'json'])) as T;
}

interface ListedTask {
  readonly upid: string;
  readonly worker_type: string;
  readonly worker_id: string | null;
  readonly status?: string;
}

before(async () => {
  srv = await startTestServer({ workerThreads: false });
  const work = join(srv.dir, 'work');
  mkdirSync(work);
  image = join(work, 'disk.img');
  conf = join(work, 'app.conf');
  writeFileSync(image, fastRandom(1024 * 1024, 3));
  writeFileSync(conf, 'workers = 4\n');
  await srv.hs.registry.admin.update('default', { 'verify-new': 'true', 'keep-last': '1' });
});

after(async () => {
  await srv?.close();
});

test('a backup runs as a backup task, and verify-new verifies its snapshot in a verify task', async () => {
  await ok(['backup', `disk.img:${image}`, `app.conf:${conf}`, '--backup-id', 'web', '--backup-time', String(T1)]);
  await ok(['backup', `disk.img:${image}`, `app.conf:${conf}`, '--backup-id', 'web', '--backup-time', String(T2)]);
  const verifies = (await srv.hs.jobs.tasks.list({ typeFilter: 'verify' })).map((t) => t.upid);
  assert.equal(verifies.length, 2);
  for (const upid of verifies) assert.equal((await srv.hs.jobs.tasks.wait(upid)).state?.kind, 'ok');
  const tasks = await json<ListedTask[]>(['task', 'list']);
  const backups = tasks.filter((t) => t.worker_type === 'backup');
  assert.deepEqual(backups.map((t) => [t.worker_id, t.status]), [['default:host/web', 'OK'], ['default:host/web', 'OK']]);
  const snaps = await json<{ 'backup-time': number; verification?: { state: string } }[]>(['snapshot', 'list']);
  assert.deepEqual(snaps.map((s) => s.verification?.state), ['ok', 'ok']);
  const log = await ok(['task', 'log', backups[0]!.upid]);
  assert.match(log, /backup finished successfully/);
  assert.match(log, /TASK OK$/);
});

test('garbage-collection start follows the task and reports its log and GC status; status shows the result; --no-wait prints the UPID', async () => {
  const report = await json<{ upid: string; exitstatus: string; result: Record<string, unknown>; log: string[] }>(['garbage-collection', 'start', 'default']);
  assert.equal(report.exitstatus, 'OK');
  assert.equal(typeof report.result['disk-chunks'], 'number');
  assert.ok(report.log.some((l) => l.includes('phase 2 done')));
  assert.match(report.log.at(-1) ?? '', /TASK OK$/);
  const status = await json<Record<string, unknown>>(['garbage-collection', 'status', 'default']);
  assert.equal(status['upid'], report.upid);
  const started = await ok(['verify', 'default', '--no-wait']);
  assert.match(started, /^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8,16}:[0-9A-F]{8}:verify:default:admin@pbs:$/);
  assert.equal((await srv.hs.jobs.tasks.wait(started.trim())).state?.kind, 'ok');
});

test('prune GROUP --dry-run lists keep/remove with reasons and removes nothing; without it removes; prune-job uses the keep-* options', async () => {
  const dry = await ok(['prune', 'host/web', '--keep-last', '1', '--dry-run']);
  assert.match(dry, /host\/web\/\S+\s+remove/);
  assert.match(dry, /keep\s+keep-last/);
  assert.equal((await json<unknown[]>(['snapshot', 'list'])).length, 2);
  const removed = await json<{ 'backup-time': number; outcome: string }[]>(['prune', 'host/web', '--keep-last', '1']);
  assert.deepEqual(removed.map((e) => [e['backup-time'], e.outcome]), [[T2, 'kept'], [T1, 'removed']]);
  const job = await json<{ exitstatus: string; result: { kept: number; removed: number } }>(['prune-job', 'run', 'default']);
  assert.equal(job.exitstatus, 'OK');
  assert.deepEqual([job.result.kept, job.result.removed], [1, 0]);
});

test('verify fails with exit code 6 on a corrupt chunk, naming it in the task log', async () => {
  const base = srv.datastorePath();
  const snapDir = join(base, 'host', 'web', new Date(T2 * 1000).toISOString().replace('.000Z', 'Z'));
  const digest = indexChunks('disk.img.fidx', readFileSync(join(snapDir, 'disk.img.fidx')))[0]!.digest;
  const chunk = join(base, '.chunks', digest.slice(0, 4), digest);
  const bytes = readFileSync(chunk);
  bytes[20]! ^= 0xff;
  writeFileSync(chunk, bytes);
  const r = await cli(['verify', 'default', '--group', 'host/web']);
  assert.equal(r.code, 6, `${r.out}\n${r.err}`);
  assert.ok(r.out.includes(digest), r.out);
  assert.match(r.err, /CORRUPT/);
});

test('task stop ends a running backup task; every job is listed and its log readable', async () => {
  const client = await srv.admin();
  const session = await client.upgrade('backup', { store: 'default', 'backup-type': 'host', 'backup-id': 'idle', 'backup-time': T2 }, 'proxmox-backup-protocol-v1');
  try {
    const running = await json<ListedTask[]>(['task', 'list', '--running']);
    assert.deepEqual(running.map((t) => t.worker_id), ['default:host/idle']);
    await ok(['task', 'stop', running[0]!.upid]);
    const info = await srv.hs.jobs.tasks.wait(running[0]!.upid);
    assert.deepEqual(info.state, { kind: 'error', message: 'the backup was stopped' });
  } finally {
    session.destroy();
  }
  const all = await json<ListedTask[]>(['task', 'list', '--limit', '100']);
  const types = new Set(all.map((t) => t.worker_type));
  for (const type of ['backup', 'verify', 'garbage_collection', 'prune', 'prunejob']) assert.ok(types.has(type), `no ${type} task in ${[...types].join(', ')}`);
  for (const t of all) assert.match(await ok(['task', 'log', t.upid]), /TASK (OK|WARNINGS: \d+|ERROR: .+)$/);
});

test('status?wait=S holds the answer while the task runs and answers as soon as it stops; wait above 30 s is refused', async () => {
  const tasks = srv.hs.jobs.tasks;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const upid = await tasks.spawn({ type: 'hold-test', authId: 'admin@pbs' }, () => gate);
  // The route waits on the registry: knowing it got there (and only then ending the task) shows
  // the answer was held, with no clock involved.
  let entered!: () => void;
  const waiting = new Promise<void>((resolve) => (entered = resolve));
  const wait = tasks.wait.bind(tasks);
  Object.defineProperty(tasks, 'wait', { configurable: true, value: (u: string) => (entered(), wait(u)) });
  try {
    const client = await srv.admin();
    const path = `nodes/localhost/tasks/${encodeURIComponent(upid)}/status`;
    await assert.rejects(client.get(path, { wait: 31 }), { code: 'INVALID_ARGUMENT' });
    assert.equal(((await client.get(path)) as { status: string }).status, 'running');
    const answer = client.get(path, { wait: 30 });
    await waiting;
    release();
    assert.deepEqual(pick((await answer) as Record<string, unknown>, ['status', 'exitstatus']), { status: 'stopped', exitstatus: 'OK' });
  } finally {
    release();
    delete (tasks as { wait?: unknown }).wait;
  }
});

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}
