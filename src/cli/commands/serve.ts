/**
 * `holdfast serve`: runs the server. On first start it prints the admin login and the TLS
 * fingerprint clients pin, and creates the `default` datastore. SIGTERM/SIGINT close it cleanly:
 * running backups are aborted (their snapshots removed) before the process exits. SIGHUP takes a
 * new certificate from proxy.pem / proxy.key (server/tls.ts), keeping the old one if it is not valid.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { fail } from '../../core/errors.ts';
import { stderrLogger } from '../../core/log.ts';
import { startHoldfastServer, INITIAL_PASSWORD_FILE } from '../../server/holdfast-server.ts';
import { DEFAULT_LIMITS, type ServerLimits } from '../../server/server-limits.ts';
import { resolveConfigDir, type CliContext } from '../context.ts';

export function defaultDataDir(ctx: CliContext): string {
  const env = ctx.env['HOLDFAST_DATA_DIR'];
  if (env) return env;
  if (process.getuid?.() === 0) return '/var/lib/holdfast';
  return join(ctx.env['HOME'] ?? '.', '.local', 'share', 'holdfast');
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw fail('INVALID_ARGUMENT', `--listen '${s}' is not ADDR:PORT`, { value: s });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface LimitOptions {
  readonly maxSessionsPerUser?: string;
  readonly sessionIdleTimeout?: string;
  readonly bodyStallTimeout?: string;
  readonly uploadMemory?: string;
}

/** The limit flags as ServerLimits overrides (seconds → ms, MiB → bytes); unset flags stay unset. */
export function parseLimits(o: LimitOptions): Partial<ServerLimits> {
  const num = (flag: string, v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw fail('INVALID_ARGUMENT', `--${flag} '${v}' is not a positive integer`, { value: v });
    return Number(v);
  };
  return {
    ...(o.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: num('max-sessions-per-user', o.maxSessionsPerUser) } : {}),
    ...(o.sessionIdleTimeout !== undefined ? { sessionIdleMs: num('session-idle-timeout', o.sessionIdleTimeout) * 1000 } : {}),
    ...(o.bodyStallTimeout !== undefined ? { bodyStallMs: num('body-stall-timeout', o.bodyStallTimeout) * 1000 } : {}),
    ...(o.uploadMemory !== undefined ? { uploadMemoryBytes: num('upload-memory', o.uploadMemory) * 1024 * 1024 } : {}),
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the Holdfast server (HTTPS, PBS API and backup/reader protocols)')
    .option('--listen <addr:port>', 'address and port to listen on', '0.0.0.0:8007')
    .option('--data-dir <dir>', 'where the default datastore is created on first start (env HOLDFAST_DATA_DIR)')
    .option('--no-default-datastore', 'do not create the default datastore on first start')
    .option('--max-sessions-per-user <n>', `concurrent backup/reader sessions per user (default ${DEFAULT_LIMITS.maxSessionsPerUser})`)
    .option('--session-idle-timeout <seconds>', `close a protocol session with no request for this long (default ${DEFAULT_LIMITS.sessionIdleMs / 1000})`)
    .option('--body-stall-timeout <seconds>', `reset a request whose body, or an answer whose reading, stalls this long (default ${DEFAULT_LIMITS.bodyStallMs / 1000})`)
    .option('--upload-memory <MiB>', `cap on chunk upload buffers across all sessions, at least 64 (default ${DEFAULT_LIMITS.uploadMemoryBytes / 1024 / 1024})`)
    .action(async (o: { listen: string; dataDir?: string; defaultDatastore: boolean } & LimitOptions) => {
      const configDir = resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir);
      const { host, port } = parseListen(o.listen);
      const log = stderrLogger();
      const hs = await startHoldfastServer({
        configDir,
        host,
        port,
        log,
        limits: parseLimits(o),
        ...(o.defaultDatastore ? { defaultDatastorePath: join(o.dataDir ?? defaultDataDir(ctx), 'default') } : {}),
      });
      // the handlers come before the lines a supervisor waits for: a SIGTERM sent the moment
      // "listening" is read must find them installed, or it kills the server uncleanly
      const stopped = new Promise<void>((resolve) => {
        const stop = (sig: string): void => {
          ctx.err(`${sig}: shutting down; running backups are aborted`);
          void hs.close().then(resolve, (e: unknown) => {
            ctx.err(`shutdown failed: ${e instanceof Error ? e.message : 'error'}`);
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      // SIGHUP: take a new proxy.pem / proxy.key (a renewed or own certificate) without a restart
      process.on('SIGHUP', () => {
        hs.server.reloadCertificate().then(
          (fp) => ctx.out(`SIGHUP: certificate reloaded, fingerprint: ${fp}`),
          (e: unknown) => ctx.err(`SIGHUP: certificate not reloaded, the old one stays in use: ${e instanceof Error ? e.message : String(e)}`),
        );
      });
      ctx.out(`holdfast listening on https://${host}:${hs.server.port} (config dir ${configDir})`);
      ctx.out(`fingerprint: ${hs.server.fingerprint}`);
      if (hs.firstStart.createdDatastore) ctx.out(`created datastore '${hs.firstStart.createdDatastore}'`);
      if (hs.firstStart.adminPassword) {
        ctx.out(`first start: user ${hs.firstStart.adminUser}, password ${hs.firstStart.adminPassword}`);
        ctx.out(`(also saved in ${join(configDir, INITIAL_PASSWORD_FILE)}, readable by root only)`);
      }
      await stopped;
    });
}
