/**
 * `holdfast user create|list|passwd|remove` and `holdfast user token create|remove`: account administration
 * directly on the config dir (like `proxmox-backup-manager user`), safe to run beside a live
 * server because every change goes through the same config locks.
 *
 * The password comes from `--password`, else a hidden prompt on a terminal, else
 * `$HOLDFAST_PASSWORD`; with none of them the user is created without a password and can only
 * act through API tokens. `passwd` sets a new one the same way (it needs one): the way back in
 * for an operator who lost the admin password, since it needs the config dir, not a login. A
 * token's secret is printed once and never stored in clear; `token remove` revokes it at once.
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { deleteUser, openAccountStores } from '../../server/auth/account-admin.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';
import { noteMissingLocalConfig } from '../local-config.ts';

export interface UserDeps {
  readonly configDir: string;
  readonly ctx: CliContext;
  /** Reads a line without echo; used only when `ctx.isTTY`. */
  readonly readPassword?: (prompt: string) => Promise<string>;
}

export interface UserCreateOptions {
  readonly userid: string;
  readonly password?: string;
  readonly comment?: string;
}

async function resolvePassword(opts: UserCreateOptions, deps: UserDeps): Promise<string | undefined> {
  if (opts.password !== undefined) return opts.password;
  if (deps.ctx.isTTY && deps.readPassword) {
    const first = await deps.readPassword('Password: ');
    const again = await deps.readPassword('Retype password: ');
    if (first !== again) throw fail('INVALID_ARGUMENT', 'the passwords do not match', { param: 'password' });
    return first;
  }
  return deps.ctx.env['HOLDFAST_PASSWORD'];
}

export async function runUserCreate(opts: UserCreateOptions, deps: UserDeps): Promise<void> {
  const password = await resolvePassword(opts, deps);
  const { users } = openAccountStores(deps.configDir);
  await users.create(opts.userid, {
    ...(password === undefined ? {} : { password }),
    ...(opts.comment === undefined ? {} : { comment: opts.comment }),
  });
  deps.ctx.out(password === undefined ? `created user '${opts.userid}' without a password (API tokens only)` : `created user '${opts.userid}'`);
}

export async function runUserList(opts: { readonly outputFormat: OutputFormat }, deps: UserDeps): Promise<void> {
  noteMissingLocalConfig(deps.ctx, deps.configDir, 'user.cfg');
  const { users } = openAccountStores(deps.configDir);
  const rows = await Promise.all(
    (await users.list()).map(async (u) => ({ ...u, tokens: (await users.listTokens(u.userid)).map((t) => t.tokenid) })),
  );
  emit(deps.ctx, opts.outputFormat, rows, () => renderTable(rows, ['userid', 'enable', 'expire', 'tokens', 'comment']));
}

export async function runUserPasswd(opts: { readonly userid: string; readonly password?: string }, deps: UserDeps): Promise<void> {
  const password = await resolvePassword(opts, deps);
  if (password === undefined) throw fail('INVALID_ARGUMENT', 'no new password: give --password, type it on a terminal or set $HOLDFAST_PASSWORD', { param: 'password' });
  await openAccountStores(deps.configDir).users.setPassword(opts.userid, password);
  deps.ctx.out(`changed the password of '${opts.userid}'`);
}

export async function runTokenRemove(opts: { readonly tokenid: string }, deps: UserDeps): Promise<void> {
  await openAccountStores(deps.configDir).users.removeToken(opts.tokenid);
  deps.ctx.out(`removed token '${opts.tokenid}': its secret no longer authenticates`);
}

export async function runUserRemove(opts: { readonly userid: string }, deps: UserDeps): Promise<void> {
  await deleteUser(openAccountStores(deps.configDir), opts.userid);
  deps.ctx.out(`removed user '${opts.userid}', its tokens and its ACL entries`);
}

export async function runTokenCreate(opts: { readonly userid: string; readonly name: string; readonly comment?: string }, deps: UserDeps): Promise<void> {
  const { users } = openAccountStores(deps.configDir);
  const token = await users.createToken(opts.userid, opts.name, opts.comment === undefined ? {} : { comment: opts.comment });
  deps.ctx.out(`token id: ${token.tokenid}\nsecret:   ${token.value}\n(the secret is shown only this once)`);
}

export function register(program: Command, ctx: CliContext): void {
  const deps = (): UserDeps => ({
    configDir: resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir),
    ctx,
    // only where a prompt can work: stdin and stderr are terminals (prompt.ts)
    ...(ctx.readSecret ? { readPassword: ctx.readSecret } : {}),
  });
  const user = program.command('user').description('manage users and API tokens (user.cfg, shadow.json)');

  user
    .command('create <userid>')
    .description('create a user in realm pbs, e.g. backup@pbs')
    .option('--password <password>', 'the password (else prompted on a terminal, else $HOLDFAST_PASSWORD)')
    .option('--comment <text>', 'free-text comment')
    .action(async (userid: string, o: { password?: string; comment?: string }) => {
      await runUserCreate({ userid, ...o }, deps());
    });

  user
    .command('list')
    .description('list users with their tokens')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => runUserList(o, deps()));

  user
    .command('passwd <userid>')
    .description('set the password of a user (prompted twice on a terminal)')
    .option('--password <password>', 'the new password (else prompted on a terminal, else $HOLDFAST_PASSWORD)')
    .action(async (userid: string, o: { password?: string }) => runUserPasswd({ userid, ...o }, deps()));

  user
    .command('remove <userid>')
    .description('remove a user, its API tokens and its ACL entries')
    .action(async (userid: string) => runUserRemove({ userid }, deps()));

  const token = user.command('token').description('manage API tokens');
  token
    .command('create <userid> <name>')
    .description("create API token '<userid>!<name>' and print its secret once")
    .option('--comment <text>', 'free-text comment')
    .action(async (userid: string, name: string, o: { comment?: string }) => runTokenCreate({ userid, name, ...o }, deps()));
  token
    .command('remove <tokenid>')
    .description("revoke API token '<userid>!<name>'")
    .action(async (tokenid: string) => runTokenRemove({ tokenid }, deps()));
}
