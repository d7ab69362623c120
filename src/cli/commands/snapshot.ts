/**
 * `holdfast snapshot list [GROUP]` and `holdfast snapshot forget SNAPSHOT`: browse and remove
 * snapshots through the server API (like `proxmox-backup-client snapshot`).
 */
import type { Command } from 'commander';
import { checkNamespace, formatTime, parseGroupPath, parseSnapshotPath } from '../../core/backup-ref.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';

interface SnapshotEntry {
  readonly 'backup-type': string;
  readonly 'backup-id': string;
  readonly 'backup-time': number;
  readonly size?: number;
  readonly protected?: boolean;
  readonly files?: { filename: string }[];
  readonly verification?: { state?: string };
}

export async function listSnapshots(ctx: CliContext, group: string | undefined, f: ClientFlags): Promise<SnapshotEntry[]> {
  const ns = checkNamespace(f.ns ?? '');
  const g = group ? parseGroupPath(ns, group) : undefined;
  const { repo, client } = await openClient(ctx, f);
  const data = await client.call('GET', `admin/datastore/${repo.store}/snapshots`, { ...(ns ? { ns } : {}), ...(g ? { 'backup-type': g.type, 'backup-id': g.id } : {}) });
  return (data as SnapshotEntry[]).sort((a, b) => a['backup-type'].localeCompare(b['backup-type']) || a['backup-id'].localeCompare(b['backup-id']) || a['backup-time'] - b['backup-time']);
}

export function register(program: Command, ctx: CliContext): void {
  const snap = program.command('snapshot').description('list and forget snapshots');
  addClientOptions(snap.command('list').description('list snapshots (of one group TYPE/ID if given)').argument('[group]', 'TYPE/ID').addOption(outputFormatOption())).action(
    async (group: string | undefined, f: ClientFlags & { outputFormat: OutputFormat }) => {
      const list = await listSnapshots(ctx, group, f);
      const rows = list.map((s) => ({
        snapshot: `${s['backup-type']}/${s['backup-id']}/${formatTime(s['backup-time'])}`,
        size: s.size,
        files: (s.files ?? []).map((x) => x.filename).join(' '),
        verify: s.verification?.state ?? '',
        protected: s.protected ? 'yes' : '',
      }));
      emit(ctx, f.outputFormat, list, () => (rows.length ? renderTable(rows, ['snapshot', 'size', 'files', 'verify', 'protected']) : 'no snapshots'));
    },
  );
  addClientOptions(snap.command('forget').description('remove one snapshot').argument('<snapshot>', 'TYPE/ID/TIME')).action(async (snapshot: string, f: ClientFlags) => {
    const ref = parseSnapshotPath(checkNamespace(f.ns ?? ''), snapshot);
    const { repo, client } = await openClient(ctx, f);
    await client.call('DELETE', `admin/datastore/${repo.store}/snapshots`, { 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time, ...(ref.ns ? { ns: ref.ns } : {}) });
    ctx.out(`removed snapshot ${snapshot}`);
  });
}
