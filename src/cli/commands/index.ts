/**
 * The command modules, each loaded only when its command runs: `holdfast backup` then never loads
 * the server, the benchmarks or the datastore code (measured: importing every command took
 * 440 ms, `backup` alone 140 ms, on this 2-core machine), which is most of a daily unchanged
 * re-backup's time. Each entry lists the top-level names (and aliases) its module registers; a
 * test keeps the lists in step with the modules.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export interface CommandModule {
  readonly names: readonly string[];
  load(): Promise<RegisterCommand>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['serve'], load: async () => (await import('./serve.ts')).register },
  { names: ['datastore'], load: async () => (await import('./datastore.ts')).register },
  { names: ['user'], load: async () => (await import('./user.ts')).register },
  { names: ['acl'], load: async () => (await import('./acl.ts')).register },
  { names: ['backup'], load: async () => (await import('./backup.ts')).register },
  { names: ['restore'], load: async () => (await import('./restore.ts')).register },
  { names: ['catalog'], load: async () => (await import('./catalog.ts')).register },
  { names: ['mount'], load: async () => (await import('./mount.ts')).register },
  { names: ['list'], load: async () => (await import('./list.ts')).register },
  { names: ['change-owner'], load: async () => (await import('./change-owner.ts')).register },
  { names: ['group'], load: async () => (await import('./group.ts')).register },
  { names: ['snapshot'], load: async () => (await import('./snapshot.ts')).register },
  { names: ['namespace'], load: async () => (await import('./namespace.ts')).register },
  { names: ['status'], load: async () => (await import('./status.ts')).register },
  { names: ['prune', 'prune-job'], load: async () => (await import('./prune.ts')).register },
  { names: ['garbage-collection', 'gc'], load: async () => (await import('./gc.ts')).register },
  { names: ['verify'], load: async () => (await import('./verify.ts')).register },
  { names: ['task'], load: async () => (await import('./task.ts')).register },
  { names: ['key'], load: async () => (await import('./key.ts')).register },
  { names: ['s3'], load: async () => (await import('./s3.ts')).register },
  { names: ['cert'], load: async () => (await import('./cert.ts')).register },
  { names: ['remote'], load: async () => (await import('./remote.ts')).register },
  { names: ['sync-job'], load: async () => (await import('./sync-job.ts')).register },
  { names: ['notification'], load: async () => (await import('./notification.ts')).register },
  { names: ['benchmark'], load: async () => (await import('./benchmark.ts')).register },
];

/**
 * The modules `argv` needs: the one that registers its command; none for `--version` alone (it
 * prints the program's version; loading every command cost ~0.5 s of CPU); else all of them
 * (help, a typo: commander then lists or suggests every command).
 */
export function modulesFor(argv: readonly string[]): readonly CommandModule[] {
  const name = commandName(argv);
  const one = COMMAND_MODULES.find((m) => name !== undefined && m.names.includes(name));
  if (one) return [one];
  return name === undefined && argv.some((a) => a === '--version' || a === '-V') ? [] : COMMAND_MODULES;
}

/** The first operand, skipping the global options (`--config-dir DIR` takes a value). */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config-dir') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}
