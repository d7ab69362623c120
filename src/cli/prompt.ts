/**
 * Hidden prompts on the terminal (passwords and passphrases). A prompt is offered only when both
 * stdin and stderr are terminals; otherwise commands take their secret from the environment and
 * say which variable to set. Tests inject `readSecret` through the CliContext instead.
 */
import { fail } from '../core/errors.ts';

/** Reads one line from the terminal with echo off; Ctrl-C aborts. */
export function readHiddenLine(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: Error): void => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(fail('ABORTED', 'prompt aborted', {}));
        line = ch === '\u007f' || ch === '\b' ? line.slice(0, -1) : line + ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

/** The hidden-line reader when this process can prompt (stdin and stderr are terminals). */
export function terminalPrompt(): ((prompt: string) => Promise<string>) | undefined {
  return process.stdin.isTTY && process.stderr.isTTY ? readHiddenLine : undefined;
}

/** Asks twice, as PBS does for a new secret; a mismatch is INVALID_ARGUMENT. */
export async function readNewSecret(read: (prompt: string) => Promise<string>, first: string, again: string): Promise<string> {
  const a = await read(first);
  const b = await read(again);
  if (a !== b) throw fail('INVALID_ARGUMENT', 'the two entries do not match', {});
  return a;
}
