/**
 * `holdfast group forget GROUP --yes`: removes a backup group with all its snapshots, as the web
 * UI's Remove group and PBS's `DELETE admin/datastore/{store}/groups` do (Datastore.Modify, or
 * Datastore.Prune as owner). It asks for `--yes` because it removes every snapshot at once; the
 * count is read first, so the refusal says what would go. Protected snapshots stay, and with them
 * the group: the answer says how many.
 */
import type { Command } from 'commander';
import { checkNamespace, parseGroupPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext } from '../context.ts';

interface ForgetFlags extends ClientFlags {
  readonly yes?: boolean;
}

interface RemovalAnswer {
  readonly 'removed-snapshots': number;
  readonly 'protected-snapshots': number;
}

export async function runGroupForget(ctx: CliContext, group: string, f: ForgetFlags): Promise<string> {
  const ns = checkNamespace(f.ns ?? '');
  const g = parseGroupPath(ns, group);
  const { repo, client } = await openClient(ctx, f);
  const args = { 'backup-type': g.type, 'backup-id': g.id, ...(ns ? { ns } : {}) };
  const shown = `${ns ? `${ns}:` : ''}${g.type}/${g.id}`;
  const snapshots = (await client.call('GET', `admin/datastore/${repo.store}/snapshots`, args)) as unknown[];
  if (snapshots.length === 0) throw fail('NOT_FOUND', `backup group ${shown} does not exist (or holds no snapshot)`, { group: shown });
  if (f.yes !== true) {
    throw fail('INVALID_ARGUMENT', `this removes ${shown} and its ${snapshots.length} snapshot(s) for good; add --yes to go ahead`, { group: shown, snapshots: snapshots.length });
  }
  const r = (await client.call('DELETE', `admin/datastore/${repo.store}/groups`, { ...args, 'error-on-protected': false })) as RemovalAnswer;
  const kept = r['protected-snapshots'];
  return kept > 0
    ? `removed ${r['removed-snapshots']} snapshot(s) of ${shown}; ${kept} protected snapshot(s) keep the group (unprotect them to remove it)`
    : `removed ${shown} and its ${r['removed-snapshots']} snapshot(s)`;
}

export function register(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('manage backup groups (list them with holdfast list)');
  const forget = group
    .command('forget')
    .description('remove a backup group with all its snapshots (protected ones stay)')
    .argument('<group>', 'TYPE/ID, e.g. host/web1')
    .option('--yes', 'confirm the removal (it cannot be undone)');
  addClientOptions(forget).action(async (name: string, f: ForgetFlags) => {
    ctx.out(await runGroupForget(ctx, name, f));
  });
}
