#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx, so `npm ci` is the only set-up step.
// The libuv pool is widened before any I/O so that fsyncs at sync-level=file overlap.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
