#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to dist/ with tsc, the
// same tree with .js files, and copies the plain JS modules (worker-bootstrap.mjs). bin/holdfast.js
// runs dist/ while it is newer than every file in src/, and the sources through tsx otherwise, so
// an edit is never hidden by a stale build. Why compile at all: tsx costs about 40 MiB of RSS in
// every thread that loads TypeScript (main and each worker) and ~0.4 s at each CLI start. Then it
// bundles the CLI into dist/bundle/ (scripts/bundle-cli.mjs), which bin/holdfast.js prefers: it
// starts faster than the tree of small modules, which the worker threads keep using.
// First it builds the web UI (web/ → web/dist/, git-ignored) with Vite; the server serves that,
// and the native chunker loop (scripts/build-native.mjs; a failure there is only a warning).
import { copyFileSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle-cli.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = new Date();
const bestEffort = process.argv.includes('--best-effort');
await buildWeb();
spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
rmSync(join(root, 'dist'), { recursive: true, force: true });
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // an install without devDependencies: nothing to compile with, and nothing is lost
  console.error('build: typescript is not installed; bin/holdfast.js runs the sources through tsx');
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed; bin/holdfast.js keeps running the sources through tsx');
  // As `prepare` (during `npm ci`) a failed build must not fail the install: nothing is lost but speed.
  process.exit(bestEffort ? 0 : (r.status ?? 1));
}
for (const name of readdirSync(join(root, 'src'), { recursive: true })) {
  if (!String(name).endsWith('.mjs')) continue;
  const to = join(root, 'dist', String(name));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(root, 'src', String(name)), to);
}
try {
  await bundleCli({ root });
} catch (e) {
  // bin/holdfast.js then runs the tsc tree: slower to start, the same program
  console.error(`build: bundling the CLI failed: ${e instanceof Error ? e.message : String(e)}`);
  if (!bestEffort) process.exit(1);
}
// The stamp carries the build's start time: a source edited during the build counts as newer.
const stamp = join(root, 'dist', '.build-stamp');
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);

/** Vite builds the web UI into web/dist; without vite (no devDependencies) the server says so on `/`. */
async function buildWeb() {
  let vite;
  try {
    vite = await import('vite');
  } catch {
    console.error('build: vite is not installed; the web UI is not built');
    return;
  }
  try {
    await vite.build({ configFile: join(root, 'web', 'vite.config.js') });
  } catch (e) {
    console.error(`build: the web UI build failed: ${e instanceof Error ? e.message : String(e)}`);
    if (!bestEffort) process.exit(1);
  }
}
