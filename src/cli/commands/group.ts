/**
 * `holdfast group forget GROUP --yes`: removes a backup group with all its snapshots, as the web
 * UI's Remove group and PBS's `DELETE admin/datastore/{store}/groups` do (Datastore.Modify, or
 * Datastore.Prune as owner). It asks for `--yes` because it removes every snapshot at once; the
 * count is read first, so the refusal says what would go. Protected snapshots stay, and with them
 * the group: the answer says how many.
 *
 * `holdfast group move GROUP TARGET-NS [--ns NS] [--no-merge]`: moves a group to another namespace
 * of the datastore (PBS's `move-group` task, followed like GC's; datastore/group-move.ts). By
 * default, as PBS, its snapshots are merged into a group of the same name that exists there with
 * the same owner; `--no-merge` refuses that instead.
 *
 * `holdfast group notes show|update GROUP [NOTES]`: a group's notes (PBS's `group-notes`), whose
 * first line `holdfast list` shows as the group's comment.
 */
import type { Command } from 'commander';
import { checkNamespace, parseGroupPath } from '../../core/backup-ref.ts';
import { fail } from '../../core/errors.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import { repositoryFrom } from '../../remote/connect.ts';
import type { CliContext } from '../context.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

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

interface MoveFlags extends JobFlags {
  readonly merge: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('manage backup groups (list them with holdfast list)');
  const move = group
    .command('move')
    .description('move a backup group to another namespace of the datastore, with all its snapshots (a server task)')
    .argument('<group>', 'TYPE/ID, e.g. host/web1 (in --ns)')
    .argument('<target-ns>', "the namespace to move it to, e.g. a/b ('' or / for the root)")
    .option('--no-merge', 'refuse when the target namespace has a group of that name already (default: merge into it, if it has the same owner and no snapshot at the same time)');
  const notes = group.command('notes').description("show or change a group's notes (the first line is its comment in listings)");
  const groupArgs = (name: string, f: ClientFlags): { store: string; args: Record<string, string> } => {
    const ns = checkNamespace(f.ns ?? '');
    const g = parseGroupPath(ns, name);
    return { store: repositoryFrom(f.repository, ctx.env).store, args: { 'backup-type': g.type, 'backup-id': g.id, ...(ns ? { ns } : {}) } };
  };
  addClientOptions(notes.command('show').description('print the notes of a group').argument('<group>', 'TYPE/ID')).action(async (name: string, f: ClientFlags) => {
    const { store, args } = groupArgs(name, f);
    const { client } = await openClient(ctx, f);
    const text = (await client.call('GET', `admin/datastore/${encodeURIComponent(store)}/group-notes`, args)) as string;
    if (text !== '') ctx.out(text.replace(/\n$/, ''));
  });
  addClientOptions(notes.command('update').description('replace the notes of a group').argument('<group>', 'TYPE/ID').argument('<notes>', 'the new notes (empty to clear)')).action(
    async (name: string, text: string, f: ClientFlags) => {
      const { store, args } = groupArgs(name, f);
      const { client } = await openClient(ctx, f);
      await client.call('PUT', `admin/datastore/${encodeURIComponent(store)}/group-notes`, { ...args, notes: text });
      ctx.out(`updated the notes of ${name}`);
    },
  );

  addJobOptions(move).action(async (name: string, targetNs: string, f: MoveFlags) => {
    const ns = checkNamespace(f.ns ?? '');
    const target = checkNamespace(targetNs === '/' ? '' : targetNs);
    const g = parseGroupPath(ns, name);
    const { store } = repositoryFrom(f.repository, ctx.env);
    await runTaskCommand(ctx, f, 'move', (client) =>
      client.call('POST', `admin/datastore/${encodeURIComponent(store)}/move-group`, { 'backup-type': g.type, 'backup-id': g.id, ...(ns ? { ns } : {}), 'target-ns': target, 'merge-group': f.merge }),
    );
  });
  const forget = group
    .command('forget')
    .description('remove a backup group with all its snapshots (protected ones stay)')
    .argument('<group>', 'TYPE/ID, e.g. host/web1')
    .option('--yes', 'confirm the removal (it cannot be undone)');
  addClientOptions(forget).action(async (name: string, f: ForgetFlags) => {
    ctx.out(await runGroupForget(ctx, name, f));
  });
}
