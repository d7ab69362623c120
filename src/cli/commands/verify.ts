/**
 * `holdfast verify STORE [--ns NS] [--group TYPE/ID] [--snapshot TYPE/ID/TIME]`: verifies a
 * datastore, a namespace (and those below it), a group or one snapshot on the server, as a task.
 * `--ignore-verified` skips snapshots verified before, unless `--outdated-after DAYS` says that
 * verification is too old. Exit code 6 (CORRUPT) when a snapshot failed verification.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { checkNamespace, parseGroupPath, parseSnapshotPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import type { CliContext } from '../context.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

export interface VerifyFlags extends JobFlags {
  readonly group?: string;
  readonly snapshot?: string;
  readonly ignoreVerified?: boolean;
  readonly outdatedAfter?: string;
}

/** The API parameters of a verify request. */
export function verifyParams(f: VerifyFlags): Record<string, string | number | boolean> {
  if (f.group !== undefined && f.snapshot !== undefined) throw fail('INVALID_ARGUMENT', 'give --group or --snapshot, not both', {});
  const ns = checkNamespace(f.ns ?? '');
  const out: Record<string, string | number | boolean> = ns === '' ? {} : { ns };
  if (f.group !== undefined) {
    const g = parseGroupPath(ns, f.group);
    Object.assign(out, { 'backup-type': g.type, 'backup-id': g.id });
  }
  if (f.snapshot !== undefined) {
    const s = parseSnapshotPath(ns, f.snapshot);
    Object.assign(out, { 'backup-type': s.type, 'backup-id': s.id, 'backup-time': s.time });
  }
  if (f.ignoreVerified === true) out['ignore-verified'] = true;
  if (f.outdatedAfter !== undefined) {
    if (!/^\d+$/.test(f.outdatedAfter)) throw fail('INVALID_ARGUMENT', `--outdated-after must be a number of days, got '${f.outdatedAfter}'`, { value: f.outdatedAfter });
    out['outdated-after'] = Number(f.outdatedAfter);
  }
  return out;
}

export function register(program: Command, ctx: CliContext): void {
  addJobOptions(program.command('verify').description('verify snapshots on the server: every chunk is re-read and checked').argument('<store>', 'datastore name'))
    .addOption(new Option('--group <group>', 'only this group, TYPE/ID'))
    .addOption(new Option('--snapshot <snapshot>', 'only this snapshot, TYPE/ID/TIME'))
    .addOption(new Option('--ignore-verified', 'skip snapshots that were verified before'))
    .addOption(new Option('--outdated-after <days>', 'with --ignore-verified: verify again when the last verification is older'))
    .action(async (store: string, f: VerifyFlags) => {
      const params = verifyParams(f);
      await runTaskCommand(ctx, f, 'verify', (client) => client.post(`admin/datastore/${encodeURIComponent(store)}/verify`, params));
    });
}
