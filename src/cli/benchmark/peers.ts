/**
 * Other backup tools as reference points in the same table: restic and borg back up the same data
 * to a fresh local repository in the same run. Neither has a sync knob: restic fsyncs every pack
 * file and its directory, borg 1.x writes segments through sync_file_range and fdatasyncs each one
 * (shared/reference/crash-model.md §1.5–1.6). Repository creation is not timed, as a Holdfast
 * datastore's creation is not. With a memory limit the peer runs inside the same cgroup.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail } from '../../core/errors.ts';
import type { Peer } from './bench-options.ts';
import { childEnv } from './holdfast-runner.ts';

export interface PeerTool {
  readonly peer: Peer;
  readonly command: string;
  readonly version: string;
  /** what it does differently from a Holdfast backup, for the report */
  readonly note: string;
}

interface PeerSpec {
  readonly command: string;
  readonly versionArgs: readonly string[];
  readonly debianPackage: string;
  readonly note: string;
  env(workDir: string): Record<string, string>;
  init(repo: string): string[];
  backup(repo: string, source: string): string[];
}

const SPECS: Record<Peer, PeerSpec> = {
  restic: {
    command: 'restic',
    versionArgs: ['version'],
    debianPackage: 'restic',
    note: 'encrypted (AES-256-CTR + Poly1305), compression auto (zstd), fsync per pack file + directory',
    env: () => ({ RESTIC_PASSWORD: 'holdfast-benchmark' }),
    init: (repo) => ['init', '--quiet', '--repo', repo],
    backup: (repo, source) => ['backup', '--quiet', '--no-cache', '--host', 'bench', '--repo', repo, source],
  },
  borg: {
    command: 'borg',
    versionArgs: ['--version'],
    debianPackage: 'borgbackup',
    note: 'unencrypted, lz4, segments via sync_file_range + fdatasync',
    env: (workDir) => ({ BORG_BASE_DIR: join(workDir, 'borg-base'), BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes' }),
    init: (repo) => ['init', '--encryption=none', repo],
    backup: (repo, source) => ['create', `${repo}::bench`, source],
  },
};

/** The installed tool, or a message saying it is skipped and how to install it. */
export function findPeer(peer: Peer): PeerTool | string {
  const spec = SPECS[peer];
  const r = spawnSync(spec.command, [...spec.versionArgs], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${peer} is not installed: skipped (Debian/Ubuntu: apt-get install ${spec.debianPackage})`;
  const version = (r.stdout.trim().split('\n')[0] ?? '').replace(/ compiled with.*/, '');
  return { peer, command: spec.command, version, note: spec.note };
}

function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cgroupProcs: string | undefined): Promise<void> {
  const proc = cgroupProcs
    ? spawn('sh', ['-c', 'echo $$ > "$HOLDFAST_BENCH_CGROUP_PROCS" && exec "$@"', 'sh', command, ...args], { env: { ...env, HOLDFAST_BENCH_CGROUP_PROCS: cgroupProcs }, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(command, [...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => (code === 0 ? resolve() : reject(fail('ABORTED', `${command} ${args[0] ?? ''} exited with ${code ?? 'a signal'}: ${stderr}`, { code }))));
  });
}

/** One timed peer backup of `source` into a fresh repository under `workDir`, which is removed after. */
export async function timedPeerBackup(tool: PeerTool, source: string, workDir: string, cgroupProcs: string | undefined): Promise<{ seconds: number }> {
  const spec = SPECS[tool.peer];
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const repo = join(workDir, 'repo');
  const env = childEnv(spec.env(workDir));
  try {
    await runTool(spec.command, spec.init(repo), env, undefined);
    const started = performance.now();
    await runTool(spec.command, spec.backup(repo, source), env, cgroupProcs);
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
