/**
 * Two-server tests in network namespaces: a pair of namespaces joined by a veth pair (addresses
 * 198.18.0.1 and .2, optional tbf rate; see src/cli/benchmark/netns.ts), and `holdfast serve`
 * started inside one of them with a fresh config dir. Tests skip with `netnsSkipReason()` when
 * not root or `ip`/`tc` are missing.
 *
 * Invariants: `withNetnsPair` always stops the servers it started and deletes the namespaces,
 * whether the body passed, failed or threw; servers are killed and namespaces deleted at process
 * exit too (a timed-out test), by the server fixture and by the netns module.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createNetnsPair, netnsUnavailable, type Netns, type NetnsPair, type NetnsPairOptions } from '../../src/cli/benchmark/netns.ts';
import { INITIAL_PASSWORD_FILE } from '../../src/server/holdfast-server.ts';
import { cleanEnv, spawnServe, type ServeProcess } from './server-fixture.ts';
import { makeTempDir } from './tmp.ts';

export type { Netns, NetnsPair };

/** A skip reason for `test(…, { skip })`, or undefined when namespaces can be used. */
export function netnsSkipReason(): string | undefined {
  const why = netnsUnavailable();
  return why === undefined ? undefined : `no network namespaces: ${why}`;
}

export interface NsServer extends ServeProcess {
  readonly ns: Netns;
  readonly configDir: string;
  /** `holdfast` CLI environment for this server, reached from inside its namespace */
  env(store?: string): NodeJS.ProcessEnv;
  /** the admin@pbs password made on first start */
  readonly password: string;
}

export interface NetnsScope {
  readonly pair: NetnsPair;
  /**
   * Starts `holdfast serve` inside `ns` with a fresh config and data dir, or, given `again`, a
   * server that was stopped or killed, on its config dir and port.
   */
  readonly serve: (ns: Netns, args?: readonly string[], again?: NsServer) => Promise<NsServer>;
}

/** Both sides on this machine's loopback, for when namespaces are unavailable. */
function loopbackPair(): NetnsPair {
  const side = (name: string): Netns => ({ name, address: '127.0.0.1', exec: [] });
  return { a: side('loopback-a'), b: side('loopback-b'), close: () => undefined };
}

/**
 * `withNetnsPair` in namespaces when the machine allows, else with both servers on loopback
 * (also when HOLDFAST_TEST_NETNS=off, to run the loopback variant on a machine that has them).
 */
export function withServerPair<T>(o: NetnsPairOptions, body: (scope: NetnsScope) => Promise<T>): Promise<T> {
  const useNetns = netnsUnavailable() === undefined && process.env['HOLDFAST_TEST_NETNS'] !== 'off';
  return withNetnsPair(o, body, useNetns ? createNetnsPair : loopbackPair);
}

// runCommand (a command such as `[...ns.exec, node, …]` to its exit) lives in server-fixture
export { runCommand } from './server-fixture.ts';

/** Runs `body` with a fresh namespace pair; stops its servers and deletes the pair afterwards. */
export async function withNetnsPair<T>(o: NetnsPairOptions, body: (scope: NetnsScope) => Promise<T>, make: (o: NetnsPairOptions) => NetnsPair = createNetnsPair): Promise<T> {
  const pair = make(o);
  const servers: ServeProcess[] = [];
  const dirs: string[] = [];
  const serve = async (ns: Netns, args: readonly string[] = [], again?: NsServer): Promise<NsServer> => {
    const dir = again ? join(again.configDir, '..') : makeTempDir('holdfast-ns-');
    if (!again) dirs.push(dir);
    const configDir = join(dir, 'config');
    const env = cleanEnv({ HOLDFAST_CONFIG_DIR: configDir, HOLDFAST_DATA_DIR: join(dir, 'data') });
    // in a namespace of its own a server listens on every address; on loopback only there
    const host = ns.exec.length > 0 ? '0.0.0.0' : '127.0.0.1';
    const p = await spawnServe(['--listen', `${host}:${again?.port ?? 0}`, ...args], env, ns.exec);
    servers.push(p);
    const password = readFileSync(join(configDir, INITIAL_PASSWORD_FILE), 'utf8').trim();
    return {
      ...p,
      ns,
      configDir,
      password,
      env: (store = 'default') =>
        cleanEnv({ HOLDFAST_CONFIG_DIR: configDir, HOLDFAST_REPOSITORY: `127.0.0.1:${p.port}:${store}`, HOLDFAST_PASSWORD: password, HOLDFAST_FINGERPRINT: p.fingerprint }),
    };
  };
  try {
    return await body({ pair, serve });
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    pair.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
