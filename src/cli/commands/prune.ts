/**
 * Prune, client side and server side:
 * - `holdfast prune GROUP --keep-… [--dry-run]` prunes one group of the repository's datastore
 *   (like `proxmox-backup-client prune`) and prints keep/remove with the reason per snapshot;
 * - `holdfast prune-job run STORE [--keep-…] [--ns NS] [--dry-run]` prunes every group of a
 *   namespace (default: the whole datastore) on the server as a task; without keep options it
 *   uses the datastore's own `keep-*` options (the ones `prune-schedule` uses).
 * Protected snapshots are always kept; locked ones are skipped with a warning.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { checkNamespace, formatTime, parseGroupPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

const KEEP = [
  ['keep-last', 'keepLast', 'keep the last N snapshots'],
  ['keep-hourly', 'keepHourly', 'keep the newest snapshot of each of the last N hours'],
  ['keep-daily', 'keepDaily', 'keep the newest snapshot of each of the last N days'],
  ['keep-weekly', 'keepWeekly', 'keep the newest snapshot of each of the last N weeks'],
  ['keep-monthly', 'keepMonthly', 'keep the newest snapshot of each of the last N months'],
  ['keep-yearly', 'keepYearly', 'keep the newest snapshot of each of the last N years'],
] as const;

type KeepFlags = { readonly [K in (typeof KEEP)[number][1]]?: string };

export interface PruneEntryJson {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-time': number;
  readonly keep: boolean;
  readonly protected: boolean;
  readonly reason?: string;
  readonly outcome?: string;
  readonly warning?: string;
}

function addKeepOptions(cmd: Command): Command {
  for (const [flag, , help] of KEEP) cmd.addOption(new Option(`--${flag} <n>`, help));
  return cmd.addOption(new Option('--dry-run', 'only show what would be removed'));
}

/** `keep-*` API parameters from the flags (only those given). */
export function keepParams(f: KeepFlags): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [flag, field] of KEEP) {
    const v = f[field];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw fail('INVALID_ARGUMENT', `--${flag} must be a non-negative integer, got '${v}'`, { option: flag, value: v });
    out[flag] = Number(v);
  }
  return out;
}

const ACTIONS: Readonly<Record<string, string>> = { kept: 'keep', removed: 'remove', 'would-remove': 'remove', skipped: 'skipped (locked)' };

export function renderPrune(list: readonly PruneEntryJson[]): string {
  if (list.length === 0) return 'no snapshots';
  const rows = list.map((e) => ({
    snapshot: `${e['backup-type']}/${e['backup-id']}/${formatTime(e['backup-time'])}`,
    action: ACTIONS[e.outcome ?? ''] ?? (e.keep ? 'keep' : 'remove'),
    reason: e.keep ? (e.reason ?? '') : '',
  }));
  return renderTable(rows, ['snapshot', 'action', 'reason']);
}

export function register(program: Command, ctx: CliContext): void {
  addKeepOptions(addClientOptions(program.command('prune').description('prune the snapshots of one group').argument('<group>', 'TYPE/ID')))
    .addOption(outputFormatOption())
    .action(async (group: string, f: ClientFlags & KeepFlags & { dryRun?: boolean; outputFormat: OutputFormat }) => {
      const g = parseGroupPath(checkNamespace(f.ns ?? ''), group);
      const { repo, client } = await openClient(ctx, f);
      const params = { 'backup-type': g.type, 'backup-id': g.id, ...(g.ns === '' ? {} : { ns: g.ns }), ...keepParams(f), ...(f.dryRun ? { 'dry-run': true } : {}) };
      const list = (await client.post(`admin/datastore/${encodeURIComponent(repo.store)}/prune`, params)) as PruneEntryJson[];
      emit(ctx, f.outputFormat, list, () => renderPrune(list) + (f.dryRun ? '\n(dry run: nothing was removed)' : ''));
    });

  const job = program.command('prune-job').description('prune a whole datastore (or namespace) on the server');
  addKeepOptions(addJobOptions(job.command('run').description("prune every group; without --keep-… the datastore's keep-* options apply").argument('<store>', 'datastore name'))).action(
    async (store: string, f: JobFlags & KeepFlags & { dryRun?: boolean }) => {
      const ns = checkNamespace(f.ns ?? '');
      const params = { ...(ns === '' ? {} : { ns }), ...keepParams(f), ...(f.dryRun ? { 'dry-run': true } : {}) };
      await runTaskCommand(ctx, f, 'prune', (client) => client.post(`admin/datastore/${encodeURIComponent(store)}/prune-datastore`, params));
    },
  );
}
