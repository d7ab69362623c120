#!/usr/bin/env node
// Entry point. Runs the compiled CLI (`npm run build`, run by `npm ci`) when the build is newer
// than every source file, else the TypeScript sources through tsx, so an edit is never hidden by a
// stale build; HOLDFAST_FROM_SOURCE=1 forces the sources. The compiled CLI is the bundle in
// dist/bundle/ (scripts/bundle-cli.mjs: a few files instead of ~150 modules to resolve and link at
// each start), else, when the build made none or HOLDFAST_NO_BUNDLE=1, the tsc tree in dist/.
// The libuv pool is widened before any I/O so that fsyncs at sync-level=file overlap.
// HOLDFAST_TRACE_TIMING=1 prints the start-up phases to stderr (src/core/trace-timing.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { builtIsFresh } from './build-freshness.mjs';

process.env.UV_THREADPOOL_SIZE ??= '16';
if (process.argv[2] === 'serve') restartServeWithHeapFlag();
else boundClientHeapGrowth();
const trace = process.env.HOLDFAST_TRACE_TIMING === '1' ? (l) => process.stderr.write(`timing ${performance.now().toFixed(1).padStart(7)} ms ${l}\n`) : () => {};
trace('bin: start');
await tuneMalloc();
trace('bin: malloc tuned');
const root = new URL('../', import.meta.url);
let entry;
if (process.env.HOLDFAST_FROM_SOURCE !== '1' && builtIsFresh(fileURLToPath(root))) {
  const bundle = new URL('dist/bundle/main.js', root);
  entry = process.env.HOLDFAST_NO_BUNDLE !== '1' && existsSync(bundle) ? bundle : new URL('dist/cli/main.js', root);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('src/cli/main.ts', root);
}
trace('bin: entry chosen');
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));

// `holdfast serve` runs with V8's initial old generation at 64 MiB. With the default, sized for a
// small heap (the server's is ~15 MiB), V8 ran a full mark-compact for every ~20 MiB of data a
// backup uploaded: ~50 per GiB, a quarter of the server's CPU (1 s of 4 per GiB; docs/benchmarks.md),
// with no gain in memory (peak RSS the same with the flag). Node takes the flag only on its command
// line (not from NODE_OPTIONS, and v8.setFlagsFromString is too late), so the process replaces
// itself with execv(3): the same pid, so signals, kill -9 and pid files see the server itself.
// HOLDFAST_SERVE_HEAP=default keeps V8's default; without the native addon this does nothing.
function restartServeWithHeapFlag() {
  const flag = '--initial-old-space-size=64';
  if (process.env.HOLDFAST_SERVE_HEAP === 'default' || process.execArgv.some((a) => a.startsWith('--initial-old-space-size'))) return;
  let addon;
  try {
    addon = createRequire(import.meta.url)('../native/build/Release/holdfast_buzhash.node');
  } catch {
    return; // not built: the server runs with V8's default heap sizing
  }
  if (typeof addon.execv !== 'function') return;
  addon.execv(process.execPath, [process.argv0, ...process.execArgv, flag, ...process.argv.slice(1)]); // returns only on failure
}

// Client commands let V8's old generation grow by at most 2× its live size between full
// collections (V8 picks a factor of up to 4 by its own measure of GC speed). A backup of a
// million small files keeps ~60 MiB live, but each file's objects outlive the young generation
// while its run of reused files waits to be settled (pxar-split-encoder.ts), so old-space garbage
// piles up fast: with factor 4 the heap reached 270 MiB between collections and the peak RSS of
// an unchanged re-backup was 500-520 MiB in most runs (360-420 MiB in the others, restic's
// 377); with 2, 347-393 MiB in six runs of six, in the same time (docs/benchmarks.md). The server keeps V8's
// choice: its heap is small, and it starts with a 64 MiB old generation (above). A flag the user
// gives node wins.
function boundClientHeapGrowth() {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('heap-growing-percent'));
  if (!given) setFlagsFromString('--heap-growing-percent=100');
}

// Three glibc malloc settings, each unless the user set its environment variable:
// - MALLOC_ARENA_MAX=2: glibc gives each thread that contends for malloc an arena of its own (up
//   to 8 per core) and trims them lazily; with 16 I/O threads and worker threads that kept tens
//   of MiB of freed memory resident.
// - MALLOC_MMAP_THRESHOLD_=8 MiB: by default the threshold rises to the size of any large block
//   freed (up to 32 MiB), after which 16 MiB chunk slots came from the heap, zero-filled by hand
//   (so fully resident at once) and kept from the kernel after use. Fixed at 8 MiB, those are
//   fresh mmaps whose pages cost memory only once written and go back when freed, while the
//   ~4 MiB buffers TLS and HTTP/2 churn through per chunk stay in the heap (mmapping those cost
//   the client a third more CPU: 236 against 256 MB/s in bench:ingest).
// - MALLOC_TRIM_THRESHOLD_=64 MiB: glibc gives the top of the heap back to the kernel as soon as
//   128 KiB of it are free, so those churned buffers were handed back and faulted in again, page
//   by page, chunk after chunk (perf, a 1 GiB restore: 0.18 of the server's 1.2 CPU-s were page
//   faults, most in HTTP/2's send buffer; with the pages kept, the server's CPU for a first
//   restore went from 1.11–1.19 to 0.94–1.01 s). At most 64 MiB stay resident that way; an idle
//   server gives them back when its last backup session ends (malloc_trim, release-memory.ts).
// Best effort: without glibc (musl) this changes nothing. mallopt comes from the native chunker
// addon when it is built (native/buzhash.c; it loads in well under a millisecond), else through
// koffi, whose load cost 15–40 ms of every start.
async function tuneMalloc() {
  if (process.platform !== 'linux') return;
  try {
    const mallopt = nativeMallopt() ?? (await koffiMallopt());
    const M_TRIM_THRESHOLD = -1;
    const M_MMAP_THRESHOLD = -3;
    const M_ARENA_MAX = -8;
    if (process.env.MALLOC_ARENA_MAX === undefined) mallopt(M_ARENA_MAX, 2);
    if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined) mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
    if (process.env.MALLOC_TRIM_THRESHOLD_ === undefined) mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  } catch {
    // not glibc: its allocator has its own policy
  }
}

function nativeMallopt() {
  try {
    const addon = createRequire(import.meta.url)('../native/build/Release/holdfast_buzhash.node');
    return typeof addon.mallopt === 'function' ? addon.mallopt : undefined;
  } catch {
    return undefined; // not built (or built before it had mallopt): koffi does it
  }
}

async function koffiMallopt() {
  const { default: koffi } = await import('koffi');
  return koffi.load('libc.so.6').func('int mallopt(int param, int value)');
}
