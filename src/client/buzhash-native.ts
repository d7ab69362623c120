/**
 * Loads the native buzhash loop (native/buzhash.c, built at install by scripts/build-native.mjs
 * with node-gyp and the local Node headers). The JS loop in buzhash-chunker.ts cuts at the same
 * bytes; this one runs about 2.8× faster (docs/benchmarks.md), which matters because the chunker
 * runs on the client's main thread beside the pxar walk.
 *
 * A missing or unloadable addon is not an error: the chunker falls back to JS and
 * `nativeChunkerWarning()` says why, for the CLI to warn once. `HOLDFAST_CHUNKER=js` forces the JS
 * loop without a warning (for measuring the two within one run).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NATIVE_ADDON } from '../core/native-addon.ts';

/** See native/buzhash.c: the offset just after the first breaking byte, or 0; `state[0]` carries the hash. */
export type RollFn = (buf: Uint8Array, from: number, untested: number, stop: number, mask: number, threshold: number, state: Int32Array) => number;

const ADDON = NATIVE_ADDON;

export type NativeChunker = { readonly roll: RollFn } | { readonly problem: string; readonly chosen: boolean };

/** Loads the addon at `path`; `chosen` marks the JS loop asked for (`HOLDFAST_CHUNKER=js`), not a fault. */
export function loadNativeChunker(path: string = ADDON, env: NodeJS.ProcessEnv = process.env): NativeChunker {
  if (env['HOLDFAST_CHUNKER'] === 'js') return { problem: 'HOLDFAST_CHUNKER=js', chosen: true };
  if (!existsSync(path)) return { problem: `the native chunker is not built (${path} is missing; npm run build builds it)`, chosen: false };
  try {
    const m = createRequire(import.meta.url)(path) as { roll?: unknown };
    if (typeof m.roll !== 'function') return { problem: `the native chunker ${path} has no roll()`, chosen: false };
    return { roll: m.roll as RollFn };
  } catch (e) {
    return { problem: `the native chunker does not load (${e instanceof Error ? e.message : String(e)})`, chosen: false };
  }
}

const loaded = loadNativeChunker();

/** The native loop, or undefined when the JS one must do. */
export const nativeRoll: RollFn | undefined = 'roll' in loaded ? loaded.roll : undefined;

/** Why the JS loop is used, or undefined when the native one is. */
export function nativeChunkerProblem(): string | undefined {
  return 'problem' in loaded ? loaded.problem : undefined;
}

/** A one-line warning for the user when the native loop should be there and is not. */
export function nativeChunkerWarning(): string | undefined {
  return 'problem' in loaded && !loaded.chosen ? `${loaded.problem}; chunking with the slower JS loop` : undefined;
}
