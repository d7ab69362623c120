/**
 * `holdfast acl update|list`: the ACL in `acl.cfg`, edited directly on the config dir (like
 * `proxmox-backup-manager acl`). Paths look like `/datastore/store1[/ns]`; roles are PBS's
 * (Admin, Audit, NoAccess, DatastoreAdmin, DatastoreReader, DatastoreBackup, DatastorePowerUser,
 * DatastoreAudit). A role granted on a path applies below it unless `--no-propagate`.
 */
import type { Command } from 'commander';
import { openAccountStores, updateAcl } from '../../server/auth/account-admin.ts';
import { ROLES } from '../../format/acl-config.ts';
import { aclApiEntries } from '../../server/auth/acl-store.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';
import { noteMissingLocalConfig } from '../local-config.ts';

export interface AclDeps {
  readonly configDir: string;
  readonly ctx: CliContext;
}

export interface AclUpdateOptions {
  readonly path: string;
  readonly role: string;
  readonly authId: string;
  readonly propagate: boolean;
  readonly delete: boolean;
}

export async function runAclUpdate(opts: AclUpdateOptions, deps: AclDeps): Promise<void> {
  await updateAcl(openAccountStores(deps.configDir), opts);
  const what = opts.delete ? 'removed' : `granted${opts.propagate ? '' : ' (not propagating)'}`;
  deps.ctx.out(`${what}: ${opts.role} on ${opts.path} for ${opts.authId}`);
}

export async function runAclList(opts: { readonly outputFormat: OutputFormat }, deps: AclDeps): Promise<void> {
  noteMissingLocalConfig(deps.ctx, deps.configDir, 'acl.cfg');
  const rows = aclApiEntries(await openAccountStores(deps.configDir).acl.load());
  emit(deps.ctx, opts.outputFormat, rows, () => renderTable(rows, ['path', 'ugid', 'roleid', 'propagate']));
}

export function register(program: Command, ctx: CliContext): void {
  const deps = (): AclDeps => ({ configDir: resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir), ctx });
  const acl = program.command('acl').description('manage access control (acl.cfg)');

  acl
    .command('update <path> <role>')
    .description(`grant (or with --delete remove) a role on a path; roles: ${ROLES.join(', ')}`)
    .requiredOption('--auth-id <id>', 'user (name@pbs) or API token (name@pbs!token)')
    .option('--no-propagate', 'apply to this path only, not to the paths below it')
    .option('--delete', 'remove the role instead of granting it')
    .action(async (path: string, role: string, o: { authId: string; propagate: boolean; delete?: boolean }) =>
      runAclUpdate({ path, role, authId: o.authId, propagate: o.propagate, delete: o.delete === true }, deps()),
    );

  acl
    .command('list')
    .description('list ACL entries')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => runAclList(o, deps()));
}
