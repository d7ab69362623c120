/**
 * releaseMemory: gives the memory of a burst of backup sessions back to the system once the last
 * of them closed (issue #11: 30 sessions with stalled uploads took the server from 108 MB to
 * 1.1 GB, and it was not released).
 *
 * Two things hold freed upload buffers: V8 frees an ArrayBuffer's memory only when a garbage
 * collection finds it unreachable, and an idle server allocates too little to trigger one; and
 * glibc keeps freed blocks in its arenas. So: one full GC, then, once V8's background sweeper had
 * time to free the backing stores it found dead, malloc_trim(0). The delay is part of the work
 * (not a guess the caller depends on): `releaseMemory` resolves when both steps are done.
 *
 * The GC function is obtained once through V8's `--expose-gc` flag set at run time (Node's
 * documented way for code that cannot pass the flag on the command line). Both steps are best
 * effort: if either is unavailable the memory is still reused by the next sessions, only not
 * handed back; so a failure is logged and never fails a session.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../core/log.ts';
import { mallocTrim } from '../storage/native.ts';

let collect: (() => void) | null | undefined;

function gcFunction(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      collect = typeof fn === 'function' ? (fn as () => void) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** How long V8's concurrent ArrayBuffer sweeper gets between the GC and the trim. */
const SWEEP_GRACE_MS = 250;

export async function releaseMemory(log: Logger): Promise<void> {
  try {
    await new Promise((resolve) => setImmediate(resolve)); // let the closing connection unwind first
    gcFunction()?.();
    await new Promise((resolve) => setTimeout(resolve, SWEEP_GRACE_MS).unref());
    mallocTrim();
  } catch (e) {
    log.warn(`could not release memory after the last backup session: ${e instanceof Error ? e.message : String(e)}`);
  }
}
