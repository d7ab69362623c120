/**
 * `holdfast garbage-collection start|status STORE`: GC on the server, through the API (like
 * `proxmox-backup-manager garbage-collection`). `start` follows the task and prints its log
 * (`--no-wait` prints only the task id); `--output-format json` prints one report with the GC
 * status as `result`. `status` shows the last `.gc-status` and the next scheduled run.
 */
import type { Command } from 'commander';
import { formatTime } from '../../core/backup-ref.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption } from '../render.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

const path = (store: string, what: string): string => `admin/datastore/${encodeURIComponent(store)}/${what}`;

/** `key: value` lines of a GC status; times as RFC 3339. */
export function renderGcStatus(status: Readonly<Record<string, unknown>>): string {
  return Object.entries(status)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${k === 'next-run' && typeof v === 'number' ? formatTime(v) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const gc = program.command('garbage-collection').alias('gc').description('garbage collection of a datastore on the server');

  addJobOptions(gc.command('start').description('start GC and follow its task').argument('<store>', 'datastore name')).action(async (store: string, f: JobFlags) => {
    await runTaskCommand(ctx, f, 'GC', (client) => client.post(path(store, 'gc')));
  });

  addClientOptions(gc.command('status').description('show the status of the last GC').argument('<store>', 'datastore name'))
    .addOption(outputFormatOption())
    .action(async (store: string, f: ClientFlags & { outputFormat: OutputFormat }) => {
      const { client } = await openClient(ctx, f);
      const status = (await client.get(path(store, 'gc'))) as Record<string, unknown>;
      emit(ctx, f.outputFormat, status, () => renderGcStatus(status));
    });
}
