/**
 * `holdfast list`: the backup groups of the repository (in `--ns`), like
 * `proxmox-backup-client list`: each group with its last snapshot, snapshot count and owner, and
 * its comment (the first line of its notes) when any group has one.
 */
import type { Command } from 'commander';
import { checkNamespace, formatTime } from '../../core/backup-ref.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

export interface GroupEntry {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-count': number;
  readonly 'last-backup': number | null;
  readonly owner?: string;
  /** the first line of the group's notes */
  readonly comment?: string;
}

export function groupRows(list: readonly GroupEntry[]): Record<string, string>[] {
  return [...list]
    .sort((a, b) => a['backup-type'].localeCompare(b['backup-type']) || a['backup-id'].localeCompare(b['backup-id']))
    .map((g) => ({
      group: `${g['backup-type']}/${g['backup-id']}`,
      'last snapshot': g['last-backup'] === null ? '' : formatTime(g['last-backup']),
      'backup-count': String(g['backup-count']),
      owner: g.owner ?? '',
      comment: g.comment ?? '',
    }));
}

export function register(program: Command, ctx: CliContext): void {
  addClientOptions(program.command('list').description('list the backup groups of the repository').addOption(outputFormatOption())).action(
    async (f: ClientFlags & { outputFormat: OutputFormat }) => {
      const ns = checkNamespace(f.ns ?? '');
      const { repo, client } = await openClient(ctx, f);
      const list = (await client.call('GET', `admin/datastore/${repo.store}/groups`, ns ? { ns } : {})) as GroupEntry[];
      const rows = groupRows(list);
      emit(ctx, f.outputFormat, list, () => (rows.length ? renderTable(rows, rows.some((r) => r['comment'] !== '') ? ['group', 'last snapshot', 'backup-count', 'owner', 'comment'] : ['group', 'last snapshot', 'backup-count', 'owner']) : 'no backup groups'));
    },
  );
}
