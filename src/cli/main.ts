/**
 * The `holdfast` command line: builds the commander program from one module per command and maps
 * every error to its documented exit code (docs/errors.md). Parsing lives in each command's
 * `register`; the work lives in its `run(opts, deps)` so tests can call it directly. Only the
 * module of the command being run is loaded (commands/index.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import { toHoldfastError } from '../core/errors.ts';
import { processContext, type CliContext } from './context.ts';
import { COMMAND_MODULES, modulesFor, type CommandModule } from './commands/index.ts';
import { registerBackendTypes } from './backend-types.ts';
import { traceMark } from '../core/trace-timing.ts';

/** The program with the commands of `modules` (all by default). */
export async function buildProgram(ctx: CliContext, modules: readonly CommandModule[] = COMMAND_MODULES): Promise<Command> {
  const program = new Command('holdfast')
    .description('Holdfast: a PBS-compatible backup server whose datastores choose how hard they work to survive a power loss')
    .version('0.1.0')
    .addOption(new Option('--config-dir <dir>', 'config directory (env HOLDFAST_CONFIG_DIR)'))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.out(s), writeErr: (s) => ctx.err(s) });
  for (const register of await Promise.all(modules.map((m) => m.load()))) register(program, ctx);
  return program;
}

export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  traceMark('main: loaded');
  registerBackendTypes();
  try {
    const program = await buildProgram(ctx, modulesFor(argv));
    traceMark('main: command loaded');
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const err = toHoldfastError(e);
    ctx.err(`error [${err.code}]: ${err.message}`);
    if (ctx.env['HOLDFAST_DEBUG'] && e instanceof Error && e.stack) ctx.err(e.stack);
    return err.exitCode;
  }
}
