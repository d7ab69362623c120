/**
 * The bundled CLI (scripts/bundle-cli.mjs, which `npm run build` runs and bin/holdfast.js prefers):
 * built here from the current sources, with its twin tree pointed at src/ so that no tsc build is
 * needed (workers then start from the sources through tsx, as in a source run). It must show
 * `--help` of every command, keep the commands' code out of what every start loads, and back up
 * and restore a directory against a real server, including an unchanged metadata re-backup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../../scripts/bundle-cli.mjs';
import { COMMAND_MODULES } from '../../src/cli/commands/index.ts';
import { snapshotTree } from '../../src/client/pxar-test-tree.ts';
import { cleanEnv, describeCli, runCommand, startTestServer, type CliResult, type TestServer } from '../helpers/server-fixture.ts';
import { pseudoRandom } from '../helpers/seeded.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
// inside the repository (git-ignored tmp/), so the bundle's package imports resolve to node_modules
const OUT = join(REPO, 'tmp', `bundle-test-${process.pid}`);
const RUNNER = join(OUT, 'run.mjs');

let srv: TestServer | undefined;

before(async () => {
  await bundleCli({ root: REPO, outdir: OUT, twinRoot: join(REPO, 'src'), twinExt: '.ts' });
  writeFileSync(RUNNER, "const { main } = await import('./main.js');\nprocess.exitCode = await main(process.argv.slice(2));\n");
});

after(async () => {
  await srv?.close();
  rmSync(OUT, { recursive: true, force: true });
});

function runBundle(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  return runCommand([process.execPath, RUNNER, ...args], env);
}

/** The bundle files a start loads before any command: main.js and its static imports, transitively. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(OUT, file), 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?["']\.\/([^"']+)["'];?$/gms)) staticClosure(m[1]!, seen);
  return seen;
}

test('bundleCli: the bundled CLI prints --help of every command', { timeout: 120_000 }, async () => {
  for (const name of COMMAND_MODULES.map((m) => m.names[0]!)) {
    const r = await runBundle([name, '--help']);
    assert.equal(r.code, 0, `${name} --help: ${describeCli(r)}`);
    assert.match(r.stdout, new RegExp(`^Usage: holdfast ${name}[ |]`, 'm'), `${name} --help: ${describeCli(r)}`);
  }
  const top = await runBundle(['--help']);
  assert.equal(top.code, 0, describeCli(top));
  for (const m of COMMAND_MODULES) assert.match(top.stdout, new RegExp(`^  ${m.names[0]!}\\b`, 'm'));
});

test('bundleCli: commands stay in chunks of their own, loaded only when they run', () => {
  const loaded = [...staticClosure('main.js')].map((f) => readFileSync(join(OUT, f), 'utf8')).join('\n');
  assert.match(loaded, /\/\/ src\/cli\/main\.ts/);
  for (const mod of ['src/cli/commands/backup.ts', 'src/cli/commands/serve.ts', 'src/server/', 'src/datastore/']) {
    assert.ok(!loaded.includes(`// ${mod}`), `${mod} is loaded at every start`);
  }
});

test('bundleCli: backup and restore load no koffi at start (their libc calls go through the native addon; koffi is the fallback, loaded on use)', () => {
  const main = readFileSync(join(OUT, 'main.js'), 'utf8');
  for (const cmd of ['backup', 'restore']) {
    const chunk = new RegExp(`names: \\["${cmd}"\\], load: async \\(\\) => \\(await import\\("\\./([^"]+)"\\)\\)`).exec(main)?.[1];
    assert.ok(chunk !== undefined, `the ${cmd} command's chunk is named in main.js`);
    const files = staticClosure(chunk, staticClosure('main.js'));
    const withKoffi = [...files].filter((f) => /^import\s[^;]*?["']koffi["']/m.test(readFileSync(join(OUT, f), 'utf8')));
    assert.deepEqual(withKoffi.length, 0, `${cmd} imports koffi through ${withKoffi.join(', ')}`);
  }
});

test('bundleCli: a backup through the bundle restores identically, and an unchanged re-backup reads no file', { timeout: 180_000 }, async () => {
  srv = await startTestServer();
  const src = join(srv.dir, 'src');
  mkdirSync(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 6; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandom(300_000 + i * 777, i));
  writeFileSync(join(src, 'top.txt'), 'hello\n');
  const backup = async (time: number): Promise<{ snapshot: string; archives: { files?: { read: number; unchanged: number } }[] }> => {
    const r = await runBundle(['backup', `root.pxar:${src}`, '--backup-id', 'bundle', '--backup-time', String(time), '--output-format', 'json'], srv!.env());
    assert.equal(r.code, 0, describeCli(r));
    return JSON.parse(r.stdout) as { snapshot: string; archives: { files?: { read: number; unchanged: number } }[] };
  };
  await backup(1_800_000_000);
  const again = await backup(1_800_000_060);
  assert.deepEqual(again.archives[0]?.files, { read: 0, new: 0, unchanged: 7 });
  const target = join(srv.dir, 'restored');
  const r = await runBundle(['restore', again.snapshot, 'root.pxar', target], srv.env());
  assert.equal(r.code, 0, describeCli(r));
  assert.deepEqual(await snapshotTree(target, { skipRootOwner: true }), await snapshotTree(src, { skipRootOwner: true }));
});
