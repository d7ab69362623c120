/**
 * `holdfast change-owner GROUP NEW-OWNER`: hands a backup group to another user or API token, as
 * `proxmox-backup-client change-owner` does (server route: server/routes/group-owner.ts, which
 * has the privilege rules). The usual case: a new API token takes over the groups of the one it
 * replaces, which it could not back up into otherwise.
 */
import type { Command } from 'commander';
import { checkNamespace, parseGroupPath } from '../../core/backup-ref.ts';
import { parseAuthId } from '../../core/names.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext } from '../context.ts';

export async function runChangeOwner(ctx: CliContext, group: string, newOwner: string, f: ClientFlags): Promise<string> {
  const ns = checkNamespace(f.ns ?? '');
  const g = parseGroupPath(ns, group);
  parseAuthId(newOwner); // a malformed id fails before connecting
  const { repo, client } = await openClient(ctx, f);
  await client.call('POST', `admin/datastore/${repo.store}/change-owner`, { 'backup-type': g.type, 'backup-id': g.id, 'new-owner': newOwner, ...(ns ? { ns } : {}) });
  return `${ns ? `${ns}:` : ''}${g.type}/${g.id} now belongs to ${newOwner}`;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('change-owner')
    .description('hand a backup group to another user or API token (e.g. a new token taking over from an old one)')
    .argument('<group>', 'TYPE/ID, e.g. host/web1')
    .argument('<new-owner>', 'user (name@realm) or API token (name@realm!token)');
  addClientOptions(cmd).action(async (group: string, newOwner: string, f: ClientFlags) => {
    ctx.out(await runChangeOwner(ctx, group, newOwner, f));
  });
}
