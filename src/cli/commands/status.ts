/**
 * `holdfast status`: the datastore's usage, like `proxmox-backup-client status` — total, used and
 * available space of the datastore's filesystem, plus its sync level and the deduplication factor
 * of the last GC. Text in binary units; JSON is the server's answer, in bytes.
 */
import type { Command } from 'commander';
import { formatSize } from '../benchmark/units.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption } from '../render.ts';

export interface DatastoreStatus {
  readonly total: number;
  readonly used: number;
  readonly avail: number;
  readonly 'sync-level'?: string;
  readonly 'deduplication-factor'?: number | null;
}

export function renderStatus(store: string, s: DatastoreStatus): string {
  const pct = s.total > 0 ? ` (${((100 * s.used) / s.total).toFixed(2)}%)` : '';
  const lines = [`datastore ${store}: ${formatSize(s.used)} used of ${formatSize(s.total)}${pct}, ${formatSize(s.avail)} available`];
  if (s['sync-level']) lines.push(`sync level: ${s['sync-level']}`);
  if (typeof s['deduplication-factor'] === 'number') lines.push(`deduplication factor: ${s['deduplication-factor'].toFixed(2)}`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  addClientOptions(program.command('status').description("show the repository datastore's usage").addOption(outputFormatOption())).action(
    async (f: ClientFlags & { outputFormat: OutputFormat }) => {
      const { repo, client } = await openClient(ctx, f);
      const s = (await client.call('GET', `admin/datastore/${repo.store}/status`)) as DatastoreStatus;
      emit(ctx, f.outputFormat, s, () => renderStatus(repo.store, s));
    },
  );
}
