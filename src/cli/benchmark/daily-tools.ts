/**
 * The tools `holdfast benchmark daily` times, each behind one interface: a fresh repository per
 * run, then backups of the same directory (the second unchanged, the third after the daily
 * change) and a full restore of the last one. Holdfast runs at its defaults (change-detection
 * mode metadata, the default sync level) through its real CLI against a real server; restic and
 * borg (when installed) back up to local repositories, restic with its cache, borg unencrypted
 * (`-e none`, lz4 by default). Each step is a child process whose wall time and peak RSS are
 * measured.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail } from '../../core/errors.ts';
import { peakRss } from './environment.ts';
import { childEnv, HOLDFAST_BIN, type BenchServer } from './holdfast-runner.ts';
import type { PeerTool } from './peers.ts';

export interface Timed {
  readonly seconds: number;
  readonly peakRss: number | undefined;
}

export interface DailyTool {
  readonly name: string;
  readonly version: string;
  backup(source: string): Promise<Timed>;
  restore(target: string): Promise<Timed>;
}

/** Runs a command to completion; wall time and VmHWM sampled every 50 ms. */
export async function timedCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Timed & { stdout: string }> {
  const started = performance.now();
  const proc = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let rss: number | undefined;
  const sample = (): void => {
    const r = proc.pid === undefined ? undefined : peakRss(proc.pid);
    if (r !== undefined) rss = Math.max(rss ?? 0, r);
  };
  const timer = setInterval(sample, 50);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw fail('ABORTED', `${command} ${args[0] ?? ''} exited with ${code ?? 'a signal'}: ${stderr}`, { code });
  return { seconds, peakRss: rss, stdout };
}

/** Holdfast: `holdfast backup data.pxar:SRC` and `holdfast restore … data.pxar TARGET`. */
export function holdfastTool(server: BenchServer, store: string, backupId: string, version: string): DailyTool {
  const env = childEnv({ HOLDFAST_REPOSITORY: `127.0.0.1:${server.port}:${store}`, HOLDFAST_PASSWORD: server.password, HOLDFAST_FINGERPRINT: server.fingerprint });
  let time = Math.floor(Date.now() / 1000);
  const cli = (args: readonly string[]): Promise<Timed> => timedCommand(process.execPath, [HOLDFAST_BIN, ...args], env);
  return {
    name: 'holdfast',
    version,
    backup: (source) => cli(['backup', `data.pxar:${source}`, '--backup-id', backupId, '--backup-time', String(++time), '--output-format', 'json']),
    restore: (target) => cli(['restore', `host/${backupId}/${time}`, 'data.pxar', target]),
  };
}

/** restic or borg with a fresh repository under `workDir` (created by `init`). */
export async function peerTool(tool: PeerTool, workDir: string): Promise<DailyTool> {
  await mkdir(workDir, { recursive: true });
  const repo = join(workDir, 'repo');
  let generation = 0;
  if (tool.peer === 'restic') {
    const env = childEnv({ RESTIC_PASSWORD: 'holdfast-benchmark', RESTIC_CACHE_DIR: join(workDir, 'cache') });
    await timedCommand('restic', ['init', '--quiet', '--repo', repo], env);
    return {
      name: 'restic',
      version: tool.version,
      backup: (source) => timedCommand('restic', ['backup', '--quiet', '--host', 'bench', '--repo', repo, source], env),
      restore: (target) => timedCommand('restic', ['restore', 'latest', '--quiet', '--repo', repo, '--target', target], env),
    };
  }
  const env = childEnv({ BORG_BASE_DIR: join(workDir, 'borg-base'), BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes' });
  await timedCommand('borg', ['init', '--encryption=none', repo], env);
  return {
    name: 'borg',
    version: tool.version,
    backup: (source) => timedCommand('borg', ['create', `${repo}::g${++generation}`, source], env),
    restore: async (target) => {
      await mkdir(target, { recursive: true });
      return timedCommand('borg', ['extract', `${repo}::g${generation}`], env, target);
    },
  };
}
