#!/usr/bin/env node
// Builds the native buzhash loop (native/buzhash.c → native/build/Release/holdfast_buzhash.node)
// with node-gyp: npm's own copy (npm names it in npm_config_node_gyp while running a script, and
// it sits beside npm otherwise), against the headers of the Node that runs this script when they
// are installed (`--nodedir`), so nothing is downloaded. Run by scripts/build.mjs, hence by
// `npm run build` and by `npm ci` (the `prepare` script). A failed build is a warning, never an
// error: the client then uses the JS loop, which cuts at the same bytes, only slower
// (src/client/buzhash-native.ts says why at backup time). `--strict` makes a failure fatal.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../native', import.meta.url));
const output = join(dir, 'build', 'Release', 'holdfast_buzhash.node');
const sources = ['buzhash.c', 'binding.gyp'].map((f) => join(dir, f));
const strict = process.argv.includes('--strict');

function upToDate() {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return sources.every((s) => statSync(s).mtimeMs <= built);
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  return candidates.find((c) => c !== undefined && c !== '' && existsSync(c));
}

function warn(message) {
  console.error(`build-native: ${message}; the client will use the slower JS chunker`);
  process.exit(strict ? 1 : 0);
}

if (upToDate()) process.exit(0);
const gyp = nodeGyp();
if (gyp === undefined) warn('node-gyp not found (it comes with npm)');
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`); // only a failure's log is worth reading
  warn(`node-gyp failed (exit ${r.status ?? r.signal})`);
}
