/**
 * What every CLI command receives: where config lives, where output goes, and how to render.
 * Commands never read process.env or write to process.stdout directly, so tests call them in
 * process with a captured context.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { terminalPrompt } from './prompt.ts';

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly isTTY: boolean;
  /** Reads a secret with echo off; present only when the process can prompt (see prompt.ts). */
  readonly readSecret?: (prompt: string) => Promise<string>;
  /** Where an interactive command (the catalog shell) reads its lines, and writes its prompt on a terminal. */
  readonly console?: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream; readonly terminal: boolean };
}

export const OUTPUT_FORMATS = ['text', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * The config dir: `--config-dir`, else `$HOLDFAST_CONFIG_DIR`, else `/etc/holdfast` when root,
 * else `~/.config/holdfast`.
 */
export function resolveConfigDir(ctx: CliContext, flag: string | undefined): string {
  if (flag) return flag;
  const env = ctx.env['HOLDFAST_CONFIG_DIR'];
  if (env) return env;
  if (process.getuid?.() === 0) return '/etc/holdfast';
  return join(homedir(), '.config', 'holdfast');
}

/** The exit status of a process killed by SIGPIPE (128 + 13), which shells already expect. */
export const EXIT_CLOSED_PIPE = 141;

let pipesGuarded = false;

/**
 * A reader that exits early (`… | head`, a pager quit) closes our stdout; Node then reports EPIPE
 * as an 'error' event, which unhandled crashes with a stack trace. Exit quietly instead, with the
 * status a process killed by SIGPIPE has. Other stream errors stay fatal.
 */
export function exitQuietlyOnClosedPipe(streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(EXIT_CLOSED_PIPE);
    });
  }
}

export function processContext(): CliContext {
  exitQuietlyOnClosedPipe();
  const readSecret = terminalPrompt();
  return {
    env: process.env,
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    isTTY: process.stdout.isTTY,
    ...(readSecret ? { readSecret } : {}),
    console: { input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true && process.stdout.isTTY },
  };
}
