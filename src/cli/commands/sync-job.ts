/**
 * `holdfast sync-job create|list|update|delete|run ID`: pull and push sync jobs, shaped like
 * `proxmox-backup-manager sync-job`. create, list, update and delete edit the server's sync.cfg
 * (so they run on the server host, like `datastore` and `remote`); `run` asks the server through
 * the API to start the job now and follows its task, like `garbage-collection start`.
 *
 * Every option is a sync.cfg key with the same name (format/sync-job-config.ts checks them);
 * `--group-filter` may be given more than once.
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { describeSyncJob, quoteGroupFilters, SYNC_JOB_DELETABLE, SYNC_JOB_KEYS, type SyncJobKey } from '../../format/sync-job-config.ts';
import { SyncJobStore } from '../../jobs/sync/sync-job-store.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { noteMissingLocalConfig } from '../local-config.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

export interface SyncJobDeps {
  readonly configDir: string;
  readonly ctx: CliContext;
}

/** Option help, in SYNC_JOB_KEYS order; `<v>` options take a value, `[bool]` ones default to true. */
const HELP: Readonly<Record<SyncJobKey, string>> = {
  store: '<name>: the local datastore',
  remote: '<name>: the remote (holdfast remote create)',
  'remote-store': "<name>: the remote's datastore",
  'remote-ns': '<ns>: the namespace on the remote (default: the root)',
  ns: '<ns>: the local namespace (default: the root)',
  'max-depth': '<n>: namespace levels below the start to sync (0..7, default all)',
  'sync-direction': '<dir>: pull (from the remote, default) or push (to it)',
  'group-filter': '<filter>: type:TYPE, group:TYPE/ID or regex:RE, optionally after exclude:; repeatable',
  'remove-vanished': '[bool]: remove what vanished from the source (snapshots, groups and namespaces the job covers)',
  'transfer-last': '<n>: only the newest n snapshots of each group',
  'verified-only': '[bool]: only snapshots whose last verify passed',
  'encrypted-only': '[bool]: only encrypted snapshots',
  'resync-corrupt': '[bool]: pull again snapshots whose local verify failed (pull only)',
  'rate-in': '<rate>: limit on the bytes read per second, e.g. 10MiB (pull)',
  'burst-in': '<size>: burst allowance for --rate-in (default one second of it)',
  'rate-out': '<rate>: limit on the bytes written per second (push)',
  'burst-out': '<size>: burst allowance for --rate-out',
  'worker-threads': '<n>: groups synced at once (1..32, default 1)',
  schedule: '<event>: when the server runs the job (calendar event, e.g. hourly)',
  owner: '<auth-id>: whose access the job runs with: the owner of pulled groups, the reader of pushed ones (default root@pam, the server itself)',
  comment: '<text>: a comment',
};

const camel = (k: string): string => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const store = (deps: SyncJobDeps): SyncJobStore => new SyncJobStore(new NodeFs(), deps.configDir);

function addKeyOptions(cmd: Command): Command {
  for (const k of SYNC_JOB_KEYS) {
    const [arg, ...rest] = HELP[k].split(': ');
    const text = rest.join(': ');
    if (k === 'group-filter') cmd.option(`--${k} ${arg}`, text, (v: string, prev: string[] = []) => [...prev, v]);
    else cmd.option(`--${k} ${arg}`, text);
  }
  return cmd;
}

/** The options given, as sync.cfg text values (a bare boolean flag means true). */
export function propsFromOptions(o: Readonly<Record<string, unknown>>): Map<SyncJobKey, string> {
  const out = new Map<SyncJobKey, string>();
  for (const k of SYNC_JOB_KEYS) {
    const v = o[camel(k)];
    if (v === undefined) continue;
    if (k === 'group-filter') out.set(k, quoteGroupFilters(v as string[]));
    else out.set(k, v === true ? 'true' : typeof v === 'string' ? v : JSON.stringify(v));
  }
  return out;
}

export async function runSyncJobCreate(id: string, o: Readonly<Record<string, unknown>>, deps: SyncJobDeps): Promise<void> {
  const job = await store(deps).create(id, propsFromOptions(o));
  deps.ctx.out(`created sync job '${job.id}' (${job.direction} ${job.direction === 'pull' ? 'from' : 'to'} ${job.remote}:${job.remoteStore})`);
}

export async function runSyncJobUpdate(id: string, o: Readonly<Record<string, unknown>>, deps: SyncJobDeps): Promise<void> {
  const patch: Record<string, string | null> = Object.fromEntries(propsFromOptions(o));
  for (const k of (o['delete'] as string[] | undefined) ?? []) {
    if (!(SYNC_JOB_DELETABLE as readonly string[]).includes(k)) throw fail('INVALID_ARGUMENT', `--delete ${k}: not a key that can be deleted`, { param: 'delete', value: k });
    patch[k] = null;
  }
  if (Object.keys(patch).length === 0) throw fail('INVALID_ARGUMENT', 'nothing to update: give at least one option', { id });
  await store(deps).update(id, patch);
  deps.ctx.out(`updated sync job '${id}'`);
}

export async function runSyncJobList(o: { readonly outputFormat: OutputFormat }, deps: SyncJobDeps): Promise<void> {
  noteMissingLocalConfig(deps.ctx, deps.configDir, 'sync.cfg');
  const rows = (await store(deps).list()).map(describeSyncJob);
  emit(deps.ctx, o.outputFormat, rows, () => (rows.length === 0 ? 'no sync jobs' : renderTable(rows, ['id', 'sync-direction', 'store', 'ns', 'remote', 'remote-store', 'remote-ns', 'schedule', 'group-filter'])));
}

export async function runSyncJobDelete(id: string, deps: SyncJobDeps): Promise<void> {
  await store(deps).remove(id);
  deps.ctx.out(`deleted sync job '${id}'`);
}

export function register(program: Command, ctx: CliContext): void {
  const deps = (): SyncJobDeps => ({ configDir: resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir), ctx });
  const sync = program.command('sync-job').description('manage sync jobs: pull snapshots from a remote, or push them to it (sync.cfg)');
  addKeyOptions(sync.command('create <id>').description('add a sync job (needs --store, --remote and --remote-store)')).action(async (id: string, o: Record<string, unknown>) =>
    runSyncJobCreate(id, o, deps()),
  );
  addKeyOptions(sync.command('update <id>').description('change a sync job (only the options given)'))
    .option('--delete <key...>', 'return keys to their defaults')
    .action(async (id: string, o: Record<string, unknown>) => runSyncJobUpdate(id, o, deps()));
  sync
    .command('list')
    .description('list sync jobs')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => runSyncJobList(o, deps()));
  sync
    .command('delete <id>')
    .description('delete a sync job')
    .action(async (id: string) => runSyncJobDelete(id, deps()));
  addJobOptions(sync.command('run <id>').description('run a sync job now on the server and follow its task (its log also shows in holdfast task)')).action(async (id: string, f: JobFlags) => {
    await runTaskCommand(ctx, f, 'sync', (client) => client.post(`admin/sync/${encodeURIComponent(id)}/run`));
  });
}
