/**
 * kill -9 of either side in the middle of a pull sync (issue #14): two real servers, each in its
 * own network namespace (or both on loopback where namespaces are unavailable), several image
 * snapshots on the source, a pull sync job on the target slowed by `rate-in` so that it is still
 * moving chunks when a side dies. The kill waits for an event, never a time: the task log line of
 * the first snapshot synced. Then:
 * - nothing acknowledged is lost: every snapshot the task logged as synced is listed on the target;
 * - no partial snapshot is listed: every listed snapshot restores byte-identical to its source;
 * - the next run completes the sync, and every snapshot restores byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatTime } from '../../src/core/backup-ref.ts';
import { runCommand, withServerPair, type Netns, type NsServer } from '../helpers/netns.ts';
import { cleanEnv, cliOk, type CliResult, fastRandom, HOLDFAST_BIN } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const MIB = 1024 * 1024;
const GROUPS = 3;
/** two 4 MiB image chunks per snapshot, pulled at 2 MiB/s: seconds per snapshot, so a kill lands mid-sync */
const SNAPSHOT_BYTES = 8 * MIB;
const RATE_IN = '2MiB';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function holdfast(ns: Netns, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCommand([...ns.exec, process.execPath, HOLDFAST_BIN, ...args], env);
}

const ok = (r: CliResult, what: string): string => cliOk(r, what).stdout;

/** Backs up GROUPS images to the source; returns each group's data hash. */
async function backUp(source: NsServer, ns: Netns, dir: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let g = 0; g < GROUPS; g++) {
    const data = fastRandom(SNAPSHOT_BYTES, 1000 + g);
    const file = join(dir, `g${g}.img`);
    writeFileSync(file, data);
    ok(await holdfast(ns, ['backup', `disk.img:${file}`, '--backup-id', `g${g}`], source.env()), `backup g${g}`);
    hashes.set(`g${g}`, sha(data));
  }
  return hashes;
}

/** The source as remote `src` of the target, and the pull job `job` (config files, as on the server host). */
async function configure(target: NsServer, source: NsServer, sourceAddress: string): Promise<void> {
  const env = cleanEnv({ HOLDFAST_CONFIG_DIR: target.configDir, HOLDFAST_REMOTE_PASSWORD: source.password });
  const here: Netns = { name: 'host', address: '', exec: [] };
  ok(await holdfast(here, ['remote', 'create', 'src', '--host', sourceAddress, '--port', String(source.port), '--auth-id', 'admin@pbs', '--fingerprint', source.fingerprint], env), 'remote create');
  ok(await holdfast(here, ['sync-job', 'create', 'job', '--store', 'default', '--remote', 'src', '--remote-store', 'default', '--owner', 'admin@pbs', '--rate-in', RATE_IN], env), 'sync-job create');
}

interface RunningSync {
  /** resolves with the snapshot of the first "synced" task log line */
  readonly firstSynced: Promise<string>;
  /** every snapshot the task logged as synced so far */
  readonly synced: string[];
  readonly exited: Promise<number | null>;
}

/** `holdfast sync-job run job` on the target's side, its task log read line by line. */
function startSync(ns: Netns, target: NsServer): RunningSync {
  const child = spawn(ns.exec[0] ?? process.execPath, [...ns.exec.slice(1), ...(ns.exec.length > 0 ? [process.execPath] : []), HOLDFAST_BIN, 'sync-job', 'run', 'job'], {
    env: target.env(),
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const synced: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const firstSynced = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /(\S+): synced \(/.exec(line);
      if (!m) return;
      synced.push(m[1]!);
      resolve(m[1]!);
    });
    void exited.then(() => reject(new Error('the sync ended before it logged a synced snapshot')));
  });
  return { firstSynced, synced, exited };
}

interface Listed {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-time': number;
}

/** Lists the target's snapshots and restores each; asserts every one is byte-identical to its source. */
async function checkTarget(ns: Netns, target: NsServer, hashes: Map<string, string>, dir: string): Promise<string[]> {
  const list = JSON.parse(ok(await holdfast(ns, ['snapshot', 'list', '--output-format', 'json'], target.env()), 'snapshot list')) as Listed[];
  const shown: string[] = [];
  for (const s of list) {
    const path = `${s['backup-type']}/${s['backup-id']}/${formatTime(s['backup-time'])}`;
    const out = join(dir, `restored-${s['backup-id']}.img`);
    rmSync(out, { force: true });
    ok(await holdfast(ns, ['restore', path, 'disk.img', out], target.env()), `restore ${path}`);
    assert.equal(sha(readFileSync(out)), hashes.get(s['backup-id']), `${path} restores byte-identical`);
    rmSync(out);
    shown.push(path);
  }
  return shown.sort();
}

for (const victim of ['target', 'source'] as const) {
  test(`sync pull: kill -9 of the ${victim} mid-sync loses nothing acknowledged, lists no partial snapshot, and the next run restores byte-identical`, { timeout: 300_000 }, async () => {
    const dir = makeTempDir('holdfast-sync-kill-');
    try {
      await withServerPair({}, async ({ pair, serve }) => {
        let source = await serve(pair.a);
        let target = await serve(pair.b);
        const hashes = await backUp(source, pair.a, dir);
        await configure(target, source, pair.a.address);

        const run = startSync(pair.b, target);
        await run.firstSynced; // the event: one snapshot acknowledged on the target, the next one on its way
        const killed = victim === 'target' ? target : source;
        killed.child.kill('SIGKILL');
        await killed.stop();
        assert.notEqual(await run.exited, 0, 'the interrupted sync fails');
        if (victim === 'target') target = await serve(pair.b, [], target);
        else source = await serve(pair.a, [], source);

        const after = await checkTarget(pair.b, target, hashes, dir);
        for (const s of run.synced) assert.ok(after.includes(s), `acknowledged ${s} is still listed`);
        assert.ok(after.length < GROUPS, `the kill interrupted the sync (listed: ${after.join(', ')})`);

        const again = startSync(pair.b, target);
        assert.equal(await again.exited, 0, 'the next run completes');
        const all = await checkTarget(pair.b, target, hashes, dir);
        assert.equal(all.length, GROUPS);
        assert.deepEqual(new Set(all.map((p) => p.split('/')[1])), new Set(hashes.keys()));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
