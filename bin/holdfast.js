#!/usr/bin/env node
// Entry point. Runs the compiled tree in dist/ (`npm run build`, run by `npm ci`) when it is newer
// than every source file, else the TypeScript sources through tsx, so an edit is never hidden by a
// stale build; HOLDFAST_FROM_SOURCE=1 forces the sources. The libuv pool is widened before any I/O
// so that fsyncs at sync-level=file overlap.
import { fileURLToPath } from 'node:url';
import { builtIsFresh } from './build-freshness.mjs';

process.env.UV_THREADPOOL_SIZE ??= '16';
await limitMallocArenas();
const root = new URL('../', import.meta.url);
let entry;
if (process.env.HOLDFAST_FROM_SOURCE !== '1' && builtIsFresh(fileURLToPath(root))) {
  entry = new URL('dist/cli/main.js', root);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('src/cli/main.ts', root);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));

// glibc gives each thread that contends for malloc an arena of its own (up to 8 per core) and
// trims them lazily; with 16 I/O threads, worker threads and 4 MiB buffers in flight, that kept
// tens of MiB of freed memory resident. Two arenas, as MALLOC_ARENA_MAX=2 would set, unless the
// user set that variable. Best effort: without glibc (musl) this changes nothing.
async function limitMallocArenas() {
  if (process.env.MALLOC_ARENA_MAX !== undefined || process.platform !== 'linux') return;
  try {
    const { default: koffi } = await import('koffi');
    const M_ARENA_MAX = -8;
    koffi.load('libc.so.6').func('int mallopt(int param, int value)')(M_ARENA_MAX, 2);
  } catch {
    // not glibc: its allocator has its own arena policy
  }
}
