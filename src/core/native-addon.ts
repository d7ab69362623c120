/**
 * One function of Holdfast's native addon (native/buzhash.c, built at install by
 * scripts/build-native.mjs), or undefined when the addon is not built, does not load, or lacks it.
 * Every caller has a fallback (a slower path, or none needed), so a missing addon is never an
 * error here; src/client/buzhash-native.ts is the one place that tells the user it is missing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** src/core/ and dist/core/ both sit two levels below the package root. */
export const NATIVE_ADDON = fileURLToPath(new URL('../../native/build/Release/holdfast_buzhash.node', import.meta.url));

export function nativeFunction<F>(name: string): F | undefined {
  if (!existsSync(NATIVE_ADDON)) return undefined;
  try {
    const m = createRequire(import.meta.url)(NATIVE_ADDON) as Record<string, unknown>;
    return typeof m[name] === 'function' ? (m[name] as F) : undefined;
  } catch {
    return undefined;
  }
}
