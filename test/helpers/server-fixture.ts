/**
 * Real-server fixture for the integration tests: a Holdfast server started in-process on
 * 127.0.0.1 (random port, fresh config dir and datastore in a temp dir), the real `holdfast` CLI
 * run as a subprocess with the environment a user would set, and `holdfast serve` itself as a
 * subprocess for the tests that must see what a user sees.
 *
 * Invariants: child processes get `process.env` minus every HOLDFAST_* / PBS_* variable, so the
 * caller's shell cannot leak into a test; readiness is read from the server's output stream, never
 * waited for with a sleep; `close()`/`stop()` wait for the server to finish its cleanup.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../../src/core/log.ts';
import type { SyncLevel } from '../../src/core/sync-level.ts';
import { HttpClient } from '../../src/remote/http-client.ts';
import { startHoldfastServer, type HoldfastServer } from '../../src/server/holdfast-server.ts';
import type { Fs } from '../../src/storage/fs-port.ts';
import type { ServerLimits } from '../../src/server/server-limits.ts';
import { FlockLocker, type HeldLock, type LockKind, type Locker } from '../../src/storage/locker.ts';
import { makeTempDir } from './tmp.ts';
import { registerBackendTypes } from '../../src/cli/backend-types.ts';

// the in-process server offers the chunk backend types `holdfast serve` offers (S3, …)
registerBackendTypes();

export const HOLDFAST_BIN = fileURLToPath(new URL('../../bin/holdfast.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `process.env` without HOLDFAST_* and PBS_* variables, plus `extra`. */
/** Runs a command to its exit and collects its output; `signal` aborts it (a test's). */
export function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv = cleanEnv(), opts: { readonly signal?: AbortSignal } = {}): Promise<CliResult> {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(HOLDFAST|PBS)_/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
}

/**
 * Starts `node bin/holdfast.js ARGS…`; `result` settles when it exited and its output ended.
 * `input`, when given, is its whole stdin (else stdin is closed: nothing to read).
 */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): RunningCli {
  const child = spawn(process.execPath, [HOLDFAST_BIN, ...args], { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
  return { child, result };
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return spawnCli(args, env).result;
}

/** A CLI result as text for assertion messages. */
export function describeCli(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** `r`, after asserting that the command exited 0 (the failure shows `what` and its output). */
export function cliOk(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed: ${describeCli(r)}`);
  return r;
}

/**
 * A FlockLocker that lets a test wait for the next acquire or release of a path: the server
 * releases a backup's group lock only after it removed an unfinished snapshot, so waiting for that
 * release replaces any sleep.
 */
export class ObservedLocker implements Locker {
  readonly #inner = new FlockLocker();
  readonly #onRelease = new Map<string, (() => void)[]>();
  readonly #onAcquire = new Map<string, (() => void)[]>();
  readonly #held = new Map<string, number>();

  lockDir(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return this.#observe(path, this.#inner.lockDir(path, kind, what));
  }

  lockFile(path: string, kind: LockKind, what: string): Promise<HeldLock> {
    return this.#observe(path, this.#inner.lockFile(path, kind, what));
  }

  async #observe(path: string, taking: Promise<HeldLock>): Promise<HeldLock> {
    const held = await taking;
    this.#held.set(path, (this.#held.get(path) ?? 0) + 1);
    this.#fire(this.#onAcquire, path);
    let released = false;
    return {
      path: held.path,
      kind: held.kind,
      release: async () => {
        if (released) return;
        released = true;
        await held.release();
        const n = (this.#held.get(path) ?? 1) - 1;
        if (n === 0) this.#held.delete(path);
        else this.#held.set(path, n);
        this.#fire(this.#onRelease, path);
      },
    };
  }

  isHeld(path: string): boolean {
    return this.#held.has(path);
  }

  nextRelease(path: string): Promise<void> {
    return this.#wait(this.#onRelease, path);
  }

  nextAcquire(path: string): Promise<void> {
    return this.#wait(this.#onAcquire, path);
  }

  #wait(map: Map<string, (() => void)[]>, path: string): Promise<void> {
    return new Promise((resolve) => map.set(path, [...(map.get(path) ?? []), resolve]));
  }

  #fire(map: Map<string, (() => void)[]>, path: string): void {
    const waiters = map.get(path);
    map.delete(path);
    for (const w of waiters ?? []) w();
  }
}

export interface TestServerOptions {
  /** wraps or replaces the server's filesystem port (e.g. a FaultFs over NodeFs) */
  readonly fs?: Fs;
  readonly locker?: Locker;
  /** check chunks on worker threads as `holdfast serve` does (default true) */
  readonly workerThreads?: boolean;
  readonly log?: Logger;
  /** protocol session bounds (default: the server's defaults) */
  readonly limits?: Partial<ServerLimits>;
}

export interface TestServer {
  /** the temp dir holding `config/` and `data/` */
  readonly dir: string;
  readonly configDir: string;
  /** the current port (a restart picks a new one) */
  readonly port: number;
  readonly fingerprint: string;
  /** the admin@pbs password made on first start */
  readonly password: string;
  readonly hs: HoldfastServer;
  datastorePath(name?: string): string;
  /** Creates a datastore at `data/NAME` with the given sync level; returns its path. */
  addDatastore(name: string, level: SyncLevel): Promise<string>;
  /** The environment a user sets for the client commands against `store`. */
  env(store?: string, extra?: Readonly<Record<string, string>>): NodeJS.ProcessEnv;
  /** Runs the CLI against `store` (default `default`). */
  cli(args: readonly string[], store?: string, extra?: Readonly<Record<string, string>>): Promise<CliResult>;
  /** An API client pinned to this server, not logged in. */
  http(token?: { tokenid: string; secret: string }): HttpClient;
  /** An API client logged in as admin@pbs. */
  admin(): Promise<HttpClient>;
  /** Stops the server cleanly and starts it again on the same config dir (and the same fs/locker). */
  restart(): Promise<void>;
  /** Stops the server (waiting for session cleanup) and removes the temp dir. */
  close(): Promise<void>;
}

export async function startTestServer(o: TestServerOptions = {}): Promise<TestServer> {
  const dir = makeTempDir('holdfast-it-');
  const configDir = join(dir, 'config');
  const datastorePath = (name = 'default'): string => join(dir, 'data', name);
  const start = (): Promise<HoldfastServer> =>
    startHoldfastServer({
      configDir,
      host: '127.0.0.1',
      port: 0,
      defaultDatastorePath: datastorePath(),
      log: o.log ?? silentLogger,
      workerThreads: o.workerThreads ?? true,
      ...(o.fs ? { fs: o.fs } : {}),
      ...(o.locker ? { locker: o.locker } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
    });
  let hs: HoldfastServer;
  try {
    hs = await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const password = hs.firstStart.adminPassword;
  if (password === undefined) throw new Error('a fresh config dir must yield an admin password');
  const { fingerprint } = hs.server;
  const env = (store = 'default', extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv =>
    cleanEnv({
      HOLDFAST_CONFIG_DIR: configDir,
      HOLDFAST_REPOSITORY: `127.0.0.1:${hs.server.port}:${store}`,
      HOLDFAST_PASSWORD: password,
      HOLDFAST_FINGERPRINT: fingerprint,
      ...extra,
    });
  const http = (token?: { tokenid: string; secret: string }): HttpClient => new HttpClient({ host: '127.0.0.1', port: hs.server.port, fingerprint, ...(token ? { token } : {}) });
  return {
    dir,
    configDir,
    get port() {
      return hs.server.port;
    },
    fingerprint,
    password,
    get hs() {
      return hs;
    },
    datastorePath,
    addDatastore: async (name, level) => {
      const path = datastorePath(name);
      await hs.registry.admin.create({ name, path, tuning: `sync-level=${level}` });
      return path;
    },
    env,
    cli: (args, store, extra) => runCli(args, env(store, extra)),
    http,
    admin: async () => {
      const c = http();
      await c.login('admin@pbs', password);
      return c;
    },
    restart: async () => {
      await hs.close();
      hs = await start();
    },
    close: async () => {
      try {
        await hs.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly fingerprint: string;
  /** every stdout line so far */
  readonly lines: readonly string[];
  stderr(): string;
  /** Resolves with the match of the first stdout line (seen or still to come) matching `re`. */
  waitForLine(re: RegExp): Promise<RegExpExecArray>;
  /** The same for stderr lines. */
  waitForErrLine(re: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM to the server (a clean shutdown); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Servers still running when the test process exits (a failed or timed-out test) are killed. */
const liveServers = new Set<() => void>();
process.once('exit', () => {
  for (const kill of liveServers) kill();
});

/**
 * The pid of the `holdfast serve` node process: the child itself, or under a wrapper the
 * wrapper's only child (or the child itself when the wrapper exec'd the server and has none). strace blocks fatal signals while it runs `-o FILE PROG`, so a clean stop
 * must signal the server, not the wrapper.
 */
function serverPid(child: ChildProcess, wrapped: boolean): number | undefined {
  if (child.pid === undefined || !wrapped) return child.pid;
  try {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
    // a wrapper that execs its command (`ip netns exec`) is the server itself
    return kids[0] ? Number(kids[0]) : child.pid;
  } catch {
    return undefined;
  }
}

/** The lines of one output stream, and waits for the first line (seen or still to come) matching a pattern. */
function lineWatcher(input: NodeJS.ReadableStream): { readonly lines: string[]; readonly waitFor: (re: RegExp) => Promise<RegExpExecArray>; readonly fail: (e: Error) => void } {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  createInterface({ input }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      const m = w.re.exec(line);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    lines,
    waitFor: (re) => {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) return Promise.resolve(m);
      }
      if (ended !== undefined) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ re, resolve, reject }));
    },
    fail: (e) => {
      ended = e;
      for (const w of waiters.splice(0)) w.reject(e);
    },
  };
}

/**
 * Starts `holdfast serve ARGS…` as a subprocess, optionally under a wrapper command (`prefix`,
 * e.g. strace; Linux only), and resolves once it printed its port and fingerprint.
 */
export function spawnServe(args: readonly string[], env: NodeJS.ProcessEnv, prefix: readonly string[] = []): Promise<ServeProcess> {
  const argv = [...prefix, process.execPath, HOLDFAST_BIN, 'serve', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const signal = (sig: NodeJS.Signals): void => {
    const pid = serverPid(child, prefix.length > 0);
    try {
      if (pid !== undefined) process.kill(pid, sig);
      if (sig === 'SIGKILL') child.kill(sig);
    } catch {
      // already gone
    }
  };
  const killNow = (): void => signal('SIGKILL');
  liveServers.add(killNow);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const out = lineWatcher(child.stdout);
  const err = lineWatcher(child.stderr);
  const lines = out.lines;
  const died = (code: number | null): Error => new Error(`holdfast serve exited (${String(code)}) before printing the expected line:\n${lines.join('\n')}\n${stderr}`);
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    liveServers.delete(killNow);
    out.fail(died(code));
    err.fail(died(code));
  });
  const waitForLine = out.waitFor;
  const waitForErrLine = err.waitFor;
  const stop = async (): Promise<number | null> => {
    if (exitCode === undefined) signal('SIGTERM');
    return exited;
  };
  return (async () => {
    try {
      const listen = await waitForLine(/^holdfast listening on https:\/\/\S+:(\d+) /);
      const fp = await waitForLine(/^fingerprint: (\S+)$/);
      return { child, port: Number(listen[1]), fingerprint: fp[1]!, lines, stderr: () => stderr, waitForLine, waitForErrLine, stop };
    } catch (e) {
      await stop();
      throw e;
    }
  })();
}

/** Deterministic pseudo-random bytes, 4 at a time (xorshift32): fast enough that 100 MiB costs well under a second. */
export function fastRandom(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}
