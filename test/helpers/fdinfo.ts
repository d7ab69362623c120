/**
 * What the kernel holds for this process's open descriptors (/proc/self/fdinfo): tests that must
 * show a flag such as O_DIRECT is really set, not just asked for.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export const O_DIRECT = 0o40000;

/** The open flags of the (first) descriptor open on `path`. */
export function kernelFlags(path: string): number {
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  }
  throw new Error(`no open descriptor for ${path}`);
}
