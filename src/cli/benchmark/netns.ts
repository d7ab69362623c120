/**
 * Two network namespaces joined by a veth pair, for the sync benchmark and the two-server tests:
 * each side gets an address of 198.18.0.0/30 (RFC 2544's benchmarking range; the pair is isolated,
 * so every pair may use the same addresses), its loopback up, and optionally a `tbf` rate on its
 * veth end (the kernel here has no netem; delay comes from the link proxy). A process runs inside
 * a namespace under `ip netns exec NAME`, which execs it, so the child's pid is the process's own.
 *
 * Invariants: names carry this process's pid and a counter, so concurrent test files never
 * collide; `close()` deletes both namespaces (which removes the veth pair) and is also run at
 * process exit for pairs still open, so a failed or killed test leaves nothing behind once its
 * processes inside are gone. Creation that fails half-way removes what it made.
 */
import { spawnSync } from 'node:child_process';
import { fail } from '../../core/errors.ts';

export const NETNS_SUBNET = '198.18.0.0/30';
const ADDRESSES = ['198.18.0.1', '198.18.0.2'] as const;

export interface Netns {
  readonly name: string;
  /** this side's address on the veth pair */
  readonly address: string;
  /** argv prefix that runs a command inside this namespace */
  readonly exec: readonly string[];
}

export interface NetnsPair {
  readonly a: Netns;
  readonly b: Netns;
  close(): void;
}

export interface NetnsPairOptions {
  /** tbf rate on each veth end, bits per second (each direction shaped where it leaves) */
  readonly rateBitsPerSec?: number | undefined;
}

function run(argv: readonly string[]): { ok: boolean; text: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, text: `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

function must(argv: readonly string[]): void {
  const r = run(argv);
  if (!r.ok) throw fail('ABORTED', `${argv.join(' ')} failed: ${r.text}`, { argv });
}

let cachedReason: string | undefined | null = null;

/** Why namespaces cannot be used here (not root, no `ip`/`tc`, no permission), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (cachedReason !== null) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}

function probe(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const tool of ['ip', 'tc']) if (!run([tool, '-V']).ok) return `'${tool}' (iproute2) is not installed`;
  const name = `hfprobe-${process.pid}`;
  const made = run(['ip', 'netns', 'add', name]);
  if (!made.ok) return `cannot create a network namespace: ${made.text}`;
  run(['ip', 'netns', 'del', name]);
  return undefined;
}

const open = new Set<() => void>();
process.once('exit', () => {
  for (const close of open) close();
});
let counter = 0;

/** Creates the pair; throws ABORTED (after removing what it made) when a step fails. */
export function createNetnsPair(o: NetnsPairOptions = {}): NetnsPair {
  const id = `${process.pid}-${++counter}`;
  const names = [`hf-${id}-a`, `hf-${id}-b`] as const;
  const veths = [`hv${id.replace('-', 'x')}a`, `hv${id.replace('-', 'x')}b`] as const;
  const close = (): void => {
    for (const n of names) run(['ip', 'netns', 'del', n]);
    open.delete(close);
  };
  open.add(close);
  try {
    for (const n of names) must(['ip', 'netns', 'add', n]);
    must(['ip', 'link', 'add', veths[0], 'type', 'veth', 'peer', 'name', veths[1]]);
    for (const i of [0, 1] as const) {
      const [ns, dev] = [names[i], veths[i]];
      must(['ip', 'link', 'set', dev, 'netns', ns]);
      must(['ip', '-n', ns, 'addr', 'add', `${ADDRESSES[i]}/30`, 'dev', dev]);
      must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      if (o.rateBitsPerSec !== undefined) must(['tc', '-n', ns, 'qdisc', 'add', 'dev', dev, 'root', ...tbfArgs(o.rateBitsPerSec)]);
    }
  } catch (e) {
    run(['ip', 'link', 'del', veths[0]]); // still in the root namespace when moving it failed
    close();
    throw e;
  }
  const side = (i: 0 | 1): Netns => ({ name: names[i], address: ADDRESSES[i], exec: ['ip', 'netns', 'exec', names[i]] });
  return { a: side(0), b: side(1), close };
}

/**
 * tbf's arguments for a rate: a burst of 10 ms of the rate (at least 32 KiB; tbf needs one
 * timer tick's worth) and a queue of at most 50 ms, a router's bottleneck buffer.
 */
export function tbfArgs(rateBitsPerSec: number): string[] {
  const burst = Math.max(32 * 1024, Math.ceil(rateBitsPerSec / 8 / 100));
  return ['tbf', 'rate', `${Math.round(rateBitsPerSec)}bit`, 'burst', String(burst), 'latency', '50ms'];
}
