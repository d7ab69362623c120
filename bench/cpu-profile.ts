/**
 * Reads V8 `.cpuprofile` files (`node --cpu-prof`) and says where the time went: self time per
 * function and per source file, as shares of the samples. Samples are taken at a fixed interval,
 * so a share of samples is a share of wall time on that thread; `(idle)` is the thread waiting.
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface Hotspot {
  readonly name: string;
  readonly samples: number;
  /** share of all samples of the thread, idle included */
  readonly share: number;
  /** share of the non-idle samples */
  readonly busyShare: number;
}

export interface ProfileSummary {
  /** thread-seconds profiled (summed over the threads) */
  readonly seconds: number;
  readonly samples: number;
  /** share of samples the thread was not idle */
  readonly busy: number;
  readonly functions: readonly Hotspot[];
  readonly files: readonly Hotspot[];
}

/** `file:///work/main/src/x.ts` → `src/x.ts`; node internals keep their `node:` name. */
export function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const inRepo = /\/(src|bench|node_modules|bin)\/(.*)$/.exec(path);
  return inRepo ? `${inRepo[1]!}/${inRepo[2]!}` : path;
}

function frameName(f: CallFrame): string {
  const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
  const url = shortUrl(f.url);
  return url === '' ? fn : `${fn} ${url}:${f.lineNumber + 1}`;
}

function top(counts: Map<string, number>, total: number, busyTotal: number, limit: number): Hotspot[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, samples]) => ({ name, samples, share: total > 0 ? samples / total : 0, busyShare: busyTotal > 0 ? samples / busyTotal : 0 }));
}

/** One summary over several threads' profiles (e.g. all encoder workers): their samples add up. */
export function summarizeProfiles(profiles: readonly CpuProfile[], limit = 15): ProfileSummary {
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let idle = 0;
  let total = 0;
  let seconds = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    seconds += (p.endTime - p.startTime) / 1e6;
    for (const id of p.samples) {
      const f = byId.get(id);
      if (!f) continue;
      total++;
      if (f.functionName === '(idle)') {
        idle++;
        continue;
      }
      const name = frameName(f);
      fn.set(name, (fn.get(name) ?? 0) + 1);
      const fileName = shortUrl(f.url) || f.functionName;
      file.set(fileName, (file.get(fileName) ?? 0) + 1);
    }
  }
  const busyTotal = total - idle;
  return {
    seconds,
    samples: total,
    busy: total > 0 ? busyTotal / total : 0,
    functions: top(fn, total, busyTotal, limit),
    files: top(file, total, busyTotal, limit),
  };
}

export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
}

export function renderProfileSummary(title: string, s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(6);
  const lines = [`${title}: ${s.seconds.toFixed(1)} thread-seconds profiled, busy ${(s.seconds * s.busy).toFixed(1)} s (${pct(s.busy).trim()})`];
  lines.push('  self time by function (share of thread time / share of busy time):');
  for (const h of s.functions) lines.push(`    ${pct(h.share)} ${pct(h.busyShare)}  ${h.name}`);
  lines.push('  self time by file:');
  for (const h of s.files.slice(0, 8)) lines.push(`    ${pct(h.share)} ${pct(h.busyShare)}  ${h.name}`);
  return lines.join('\n');
}
