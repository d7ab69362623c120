/**
 * `holdfast namespace list|create|delete`: the namespaces of the repository's datastore, as
 * `proxmox-backup-client namespace` has them, through the server's API
 * (`admin/datastore/{store}/namespace`). Before this command a namespace could be made only
 * through the API, though every client command takes `--ns`.
 *
 * - A namespace is named by its path (`a/b`, at most 7 levels); `--ns` is the parent it is taken
 *   relative to, for `list` the one whose namespaces are listed.
 * - `create` needs the parent to exist (as PBS); `delete` refuses a namespace that still holds a
 *   group, anywhere below it, unless `--delete-groups`, which removes them (protected snapshots
 *   stay, and the command then fails with PROTECTED).
 * - `move NS TARGET` moves what NS holds (its groups, and its namespaces with theirs, down to
 *   `--max-depth`) into TARGET, as PBS's `move-namespace` task, followed like GC's: `NS/x` becomes
 *   `TARGET/x`; groups merge into groups of the same name and owner there unless `--no-merge`;
 *   the emptied source namespaces are removed unless `--keep-source`.
 */
import { Option, type Command } from 'commander';
import { checkNamespace } from '../../core/backup-ref.ts';
import { fail, isHoldfastError } from '../../core/errors.ts';
import { addClientOptions, openClient, type ClientFlags } from '../client-options.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { emit, outputFormatOption } from '../render.ts';
import { repositoryFrom } from '../../remote/connect.ts';
import { addJobOptions, runTaskCommand, type JobFlags } from './task.ts';

/** `name` below `parent`, checked (characters, depth) before anything is sent. */
export function namespacePath(parent: string, name: string): string {
  const full = checkNamespace(parent === '' ? name : `${parent}/${name}`);
  if (full === '' || full === checkNamespace(parent)) throw fail('INVALID_ARGUMENT', 'a namespace needs a name (the root namespace always exists)', { name });
  return full;
}

export function register(program: Command, ctx: CliContext): void {
  const ns = program.command('namespace').description("list, create and delete the namespaces of the repository's datastore");

  addClientOptions(ns.command('list').description('list the namespaces below --ns (default: all), the root shown as /').addOption(outputFormatOption())).action(
    async (f: ClientFlags & { outputFormat: OutputFormat }) => {
      const parent = checkNamespace(f.ns ?? '');
      const { repo, client } = await openClient(ctx, f);
      const list = (await client.call('GET', `admin/datastore/${repo.store}/namespace`, parent ? { parent } : {})) as { ns: string }[];
      emit(ctx, f.outputFormat, list, () => list.map((e) => (e.ns === '' ? '/' : e.ns)).join('\n'));
    },
  );

  addClientOptions(ns.command('create').description('create a namespace (its parent must exist)').argument('<namespace>', 'e.g. a/b, taken below --ns if given')).action(
    async (name: string, f: ClientFlags) => {
      const full = namespacePath(checkNamespace(f.ns ?? ''), name);
      const cut = full.lastIndexOf('/');
      const { repo, client } = await openClient(ctx, f);
      await client.call('POST', `admin/datastore/${repo.store}/namespace`, cut < 0 ? { name: full } : { parent: full.slice(0, cut), name: full.slice(cut + 1) });
      ctx.out(`created namespace '${full}'`);
    },
  );

  addClientOptions(
    ns
      .command('delete')
      .description('delete a namespace and the empty namespaces below it; --delete-groups also removes their backup groups')
      .argument('<namespace>', 'e.g. a/b, taken below --ns if given')
      .addOption(new Option('--delete-groups', 'also remove every backup group in it and below (protected snapshots stay)')),
  ).action(async (name: string, f: ClientFlags & { deleteGroups?: boolean }) => {
    const full = namespacePath(checkNamespace(f.ns ?? ''), name);
    const { repo, client } = await openClient(ctx, f);
    const r = (await client
      .call('DELETE', `admin/datastore/${repo.store}/namespace`, { ns: full, ...(f.deleteGroups === true ? { 'delete-groups': true } : {}) })
      .catch((e: unknown) => {
        if (isHoldfastError(e, 'NAMESPACE_NOT_EMPTY') && f.deleteGroups !== true) throw fail('NAMESPACE_NOT_EMPTY', `${e.message} (--delete-groups removes its groups)`, { ns: full }, e);
        throw e;
      })) as Record<string, number> | null;
    const removed = r?.['removed-groups'] ? ` (${r['removed-groups']} groups, ${r['removed-snapshots'] ?? 0} snapshots removed)` : '';
    ctx.out(`deleted namespace '${full}'${removed}`);
  });

  const move = ns
    .command('move')
    .description('move what a namespace holds (groups, and namespaces below with theirs) into another namespace (a server task)')
    .argument('<namespace>', 'the namespace to move from, e.g. a/b (not the root)')
    .argument('<target>', "the namespace to move into, e.g. c ('' or / for the root); made if missing")
    .option('--max-depth <n>', 'namespace levels below it to move too (0: only its own groups; default all)', (v) => Number(v))
    .option('--no-merge', 'refuse when the target has a group of the same name (default: merge into it, if it has the same owner and no snapshot at the same time)')
    .option('--keep-source', 'keep the emptied source namespaces (default: remove them)');
  addJobOptions(move).action(async (from: string, target: string, f: JobFlags & { maxDepth?: number; merge: boolean; keepSource?: boolean }) => {
    const source = checkNamespace(from);
    const to = checkNamespace(target === '/' ? '' : target);
    const { store } = repositoryFrom(f.repository, ctx.env);
    await runTaskCommand(ctx, f, 'move', (client) =>
      client.call('POST', `admin/datastore/${encodeURIComponent(store)}/move-namespace`, {
        ns: source,
        'target-ns': to,
        ...(f.maxDepth === undefined ? {} : { 'max-depth': f.maxDepth }),
        'merge-groups': f.merge,
        'delete-source': f.keepSource !== true,
      }),
    );
  });
}
