/**
 * `holdfast backup --dry-run` against a real server: it counts what a backup would archive (the
 * same walk: exclusions, `.pxarexclude`, symlinks, hardlinks), checked against what a real backup
 * of the same tree restores; it uploads nothing (no group, no snapshot appears); it reports the
 * group a snapshot would join; and it fails where the backup would (bad namespace, bad password).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeCli, startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import type { DryRunPlan } from '../../src/cli/backup-dry-run.ts';

const TIMEOUT = { timeout: 120_000 };
let srv: TestServer;
let src: string;

/** Entries below `root` by kind, and regular file bytes (each inode once), as a restore left them. */
function tally(root: string): { files: number; directories: number; symlinks: number; bytes: number } {
  const out = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  const seen = new Set<number>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.directories++;
        walk(p);
      } else if (st.isSymbolicLink()) out.symlinks++;
      else {
        out.files++;
        if (!seen.has(st.ino)) out.bytes += st.size;
        seen.add(st.ino);
      }
    }
  };
  walk(root);
  return out;
}

async function groupsNamed(id: string): Promise<unknown[]> {
  const r = await srv.cli(['list', '--output-format', 'json']);
  assert.equal(r.code, 0, describeCli(r));
  return (JSON.parse(r.stdout) as { 'backup-id': string }[]).filter((g) => g['backup-id'] === id);
}

before(async () => {
  srv = await startTestServer();
  src = join(srv.dir, 'src');
  mkdirSync(join(src, 'docs', 'deep'), { recursive: true });
  mkdirSync(join(src, 'cache'));
  writeFileSync(join(src, '.pxarexclude'), 'cache/\n');
  writeFileSync(join(src, 'cache', 'big'), Buffer.alloc(50_000));
  writeFileSync(join(src, 'a.txt'), 'alpha');
  writeFileSync(join(src, 'skip.iso'), Buffer.alloc(10_000));
  writeFileSync(join(src, 'docs', 'b.bin'), Buffer.alloc(70_000, 1));
  writeFileSync(join(src, 'docs', 'deep', 'c.txt'), 'gamma');
  linkSync(join(src, 'docs', 'b.bin'), join(src, 'docs', 'b-again.bin'));
  symlinkSync('a.txt', join(src, 'to-a'));
}, TIMEOUT);

after(async () => {
  await srv?.close();
});

test('backup --dry-run counts what the backup archives, uploads nothing, then names the group it would join', TIMEOUT, async () => {
  const args = ['backup', `t.pxar:${src}`, '--backup-id', 'dry', '--backup-time', '1800000000', '--exclude', '*.iso'];
  const dry = await srv.cli([...args, '--dry-run', '--output-format', 'json']);
  assert.equal(dry.code, 0, describeCli(dry));
  const plan = JSON.parse(dry.stdout) as DryRunPlan;
  assert.equal(plan.dryRun, true);
  assert.equal(plan.snapshot, 'host/dry/2027-01-15T08:00:00Z');
  assert.equal(plan.group, null, 'no such group yet');
  assert.deepEqual(plan.archives[0]!.archives, ['t.mpxar.didx', 't.ppxar.didx'], 'metadata mode writes a split archive');
  assert.deepEqual(await groupsNamed('dry'), [], 'a dry run leaves no group (and so no snapshot) behind');

  const real = await srv.cli(args);
  assert.equal(real.code, 0, describeCli(real));
  const target = join(srv.dir, 'restored');
  const r = await srv.cli(['restore', 'host/dry/1800000000', 't.pxar', target]);
  assert.equal(r.code, 0, describeCli(r));
  const restored = tally(target);
  const e = plan.archives[0]!.entries!;
  // the backup adds one file of its own: .pxarexclude-cli, PBS's record of the --exclude patterns
  assert.deepEqual(
    { files: e.files + e.hardlinks + 1, directories: e.directories, symlinks: e.symlinks, bytes: e.bytes + '*.iso\n'.length },
    restored,
    'the dry run counted what the backup stored',
  );
  assert.deepEqual({ files: e.files, hardlinks: e.hardlinks, directories: e.directories, symlinks: e.symlinks }, { files: 4, hardlinks: 1, directories: 2, symlinks: 1 });

  const again = await srv.cli([...args.slice(0, -4), '--backup-time', '1800000600', '--dry-run']);
  assert.equal(again.code, 0, describeCli(again));
  assert.match(again.stdout, /^dry run: nothing was uploaded; the backup would be host\/dry\/2027-01-15T08:10:00Z in datastore /);
  assert.match(again.stdout, /its group holds 1 snapshot\(s\), the last from 2027-01-15T08:00:00Z; files unchanged since then would be reused unread/);
  assert.match(again.stdout, /t\.mpxar\.didx \+ t\.ppxar\.didx/);
  assert.equal((await groupsNamed('dry')).length, 1);
});

test('backup --dry-run fails where the backup would: a missing namespace, a wrong password, a missing source', TIMEOUT, async () => {
  const noNs = await srv.cli(['backup', `t.pxar:${src}`, '--ns', 'nowhere', '--dry-run']);
  assert.notEqual(noNs.code, 0, describeCli(noNs));
  assert.match(noNs.stderr, /nowhere/);
  const badPassword = await srv.cli(['backup', `t.pxar:${src}`, '--dry-run'], undefined, { HOLDFAST_PASSWORD: 'not-the-password', HOLDFAST_TICKET_CACHE: 'off' });
  assert.notEqual(badPassword.code, 0, describeCli(badPassword));
  const missing = await srv.cli(['backup', `t.pxar:${join(src, 'absent')}`, '--dry-run']);
  assert.notEqual(missing.code, 0, describeCli(missing));
  assert.match(missing.stderr, /does not exist/);
});
