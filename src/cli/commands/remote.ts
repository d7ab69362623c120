/**
 * `holdfast remote create|list|update|delete NAME`: the other servers sync jobs talk to, shaped
 * like `proxmox-backup-manager remote`. It edits the server's config dir (remote.cfg and, for the
 * password, remote-secrets.json, mode 0600), so it runs on the server host.
 *
 * The password (or, for an API token auth id, the token secret) comes from `--password` or
 * `--token-secret`, else `$HOLDFAST_REMOTE_PASSWORD`, else a hidden prompt on a terminal: the
 * options put it in the process list and the shell history, the others do not. Listings never
 * show it.
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { describeRemote, type Remote } from '../../format/remote-config.ts';
import { RemoteStore, type RemotePatch } from '../../jobs/sync/remote-store.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { noteMissingLocalConfig } from '../local-config.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

export interface RemoteDeps {
  readonly configDir: string;
  readonly ctx: CliContext;
}

export interface RemoteOptions {
  readonly host?: string;
  readonly port?: string;
  readonly authId?: string;
  readonly password?: string;
  readonly tokenSecret?: string;
  readonly fingerprint?: string;
  readonly comment?: string;
  readonly delete?: readonly string[];
}

const DELETABLE = ['port', 'fingerprint', 'comment'] as const;
const store = (deps: RemoteDeps): RemoteStore => new RemoteStore(new NodeFs(), deps.configDir);

async function secretFrom(o: RemoteOptions, deps: RemoteDeps, required: boolean): Promise<string | undefined> {
  if (o.password !== undefined && o.tokenSecret !== undefined) throw fail('INVALID_ARGUMENT', 'give --password or --token-secret, not both', { param: 'password' });
  const given = o.password ?? o.tokenSecret;
  if (given !== undefined) return given;
  const env = deps.ctx.env['HOLDFAST_REMOTE_PASSWORD'];
  if (env !== undefined && env !== '') return env;
  if (!required) return undefined;
  if (deps.ctx.isTTY && deps.ctx.readSecret) return deps.ctx.readSecret('remote password (or token secret): ');
  throw fail('INVALID_ARGUMENT', 'no password: give --password (--token-secret for a token) or set $HOLDFAST_REMOTE_PASSWORD', { param: 'password' });
}

export async function runRemoteCreate(name: string, o: RemoteOptions, deps: RemoteDeps): Promise<Remote> {
  if (o.host === undefined) throw fail('INVALID_ARGUMENT', '--host is required', { param: 'host' });
  if (o.authId === undefined) throw fail('INVALID_ARGUMENT', '--auth-id is required', { param: 'auth-id' });
  const secret = (await secretFrom(o, deps, true)) ?? '';
  const r = await store(deps).create({
    name,
    host: o.host,
    authId: o.authId,
    secret,
    ...(o.port === undefined ? {} : { port: o.port }),
    ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
    ...(o.comment === undefined ? {} : { comment: o.comment }),
  });
  deps.ctx.out(`created remote '${r.name}' (${r.authId} at ${r.host}${r.port === undefined ? '' : `:${r.port}`})`);
  return r;
}

export async function runRemoteUpdate(name: string, o: RemoteOptions, deps: RemoteDeps): Promise<Remote> {
  const drop = o.delete ?? [];
  for (const k of drop) if (!(DELETABLE as readonly string[]).includes(k)) throw fail('INVALID_ARGUMENT', `--delete ${k}: only ${DELETABLE.join(', ')} can be deleted`, { param: 'delete', value: k });
  const secret = await secretFrom(o, deps, false);
  const patch: RemotePatch = {
    ...(o.host === undefined ? {} : { host: o.host }),
    ...(o.authId === undefined ? {} : { authId: o.authId }),
    ...(secret === undefined ? {} : { secret }),
    ...(drop.includes('port') ? { port: null } : o.port === undefined ? {} : { port: o.port }),
    ...(drop.includes('fingerprint') ? { fingerprint: null } : o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
    ...(drop.includes('comment') ? { comment: null } : o.comment === undefined ? {} : { comment: o.comment }),
  };
  if (Object.keys(patch).length === 0) throw fail('INVALID_ARGUMENT', 'nothing to update: give at least one option', { name });
  const r = await store(deps).update(name, patch);
  deps.ctx.out(`updated remote '${r.name}'`);
  return r;
}

export async function runRemoteList(o: { readonly outputFormat: OutputFormat }, deps: RemoteDeps): Promise<void> {
  noteMissingLocalConfig(deps.ctx, deps.configDir, 'remote.cfg');
  const rows = (await store(deps).list()).map(describeRemote);
  emit(deps.ctx, o.outputFormat, rows, () => (rows.length === 0 ? 'no remotes' : renderTable(rows, ['name', 'host', 'port', 'auth-id', 'fingerprint', 'comment'])));
}

export async function runRemoteDelete(name: string, deps: RemoteDeps): Promise<void> {
  await store(deps).remove(name);
  deps.ctx.out(`deleted remote '${name}'`);
}

function remoteOptions(cmd: Command, creating: boolean): Command {
  return cmd
    .option('--host <host[:port]>', `${creating ? '' : 'new '}host name or IP address of the remote server, optionally with its port`)
    .option('--port <port>', 'API port (default 8007)')
    .option('--auth-id <id>', 'user (user@realm) or API token (user@realm!name) to log in as')
    .option('--password <password>', 'the password (else $HOLDFAST_REMOTE_PASSWORD, else a prompt on a terminal)')
    .option('--token-secret <secret>', 'the API token secret, for a token auth id (same as --password)')
    .option('--fingerprint <sha256>', "pinned SHA-256 fingerprint of the remote's certificate (as `holdfast serve` prints it)")
    .option('--comment <text>', 'a comment');
}

export function register(program: Command, ctx: CliContext): void {
  const deps = (): RemoteDeps => ({ configDir: resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir), ctx });
  const remote = program.command('remote').description('manage remotes: other servers that sync jobs pull from or push to (remote.cfg; passwords in remote-secrets.json, mode 0600)');
  remoteOptions(remote.command('create <name>').description('add a remote'), true).action(async (name: string, o: RemoteOptions) => void (await runRemoteCreate(name, o, deps())));
  remoteOptions(remote.command('update <name>').description('change a remote (only the options given)'), false)
    .option('--delete <key...>', `return keys to their default (${DELETABLE.join(', ')})`)
    .action(async (name: string, o: RemoteOptions) => void (await runRemoteUpdate(name, o, deps())));
  remote
    .command('list')
    .description('list remotes (never their passwords)')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => runRemoteList(o, deps()));
  remote
    .command('delete <name>')
    .description('delete a remote and its password (refused while a sync job uses it)')
    .action(async (name: string) => runRemoteDelete(name, deps()));
}
