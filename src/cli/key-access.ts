/**
 * Reading key files, and where an encryption key's passphrase comes from, in one place for every
 * command:
 * `$HOLDFAST_ENCRYPTION_PASSWORD` first (scripts, cron), else a hidden prompt on a terminal (a new
 * passphrase is asked twice, as PBS does), else a KEY_REQUIRED error that names both ways.
 */
import { readFile } from 'node:fs/promises';
import { fail } from '../core/errors.ts';
import { openKeyFile, parseKeyFile, type KeyFileJson } from '../format/key-file.ts';
import type { CliContext } from './context.ts';
import { readNewSecret } from './prompt.ts';

/** A key file as written to disk: pretty JSON, as PBS writes it. */
export const keyJson = (json: KeyFileJson): string => `${JSON.stringify(json, null, 2)}\n`;

export const PASSPHRASE_ENV = 'HOLDFAST_ENCRYPTION_PASSWORD';
/** The new passphrase for `key change-passphrase` when it cannot be prompted for. */
export const NEW_PASSPHRASE_ENV = 'HOLDFAST_NEW_ENCRYPTION_PASSWORD';

/** The passphrase of an existing key file. */
export async function keyPassphrase(ctx: CliContext, path: string): Promise<string> {
  const env = ctx.env[PASSPHRASE_ENV];
  if (env !== undefined) return env;
  if (ctx.readSecret) return ctx.readSecret(`Encryption Key Password (${path}): `);
  throw fail('KEY_REQUIRED', `the key file ${path} is protected by a passphrase: set ${PASSPHRASE_ENV} or run on a terminal to be asked`, { path });
}

/** A new passphrase: from `envName`, else asked twice on a terminal. */
export async function newKeyPassphrase(ctx: CliContext, envName: string = PASSPHRASE_ENV): Promise<string> {
  const env = ctx.env[envName];
  if (env !== undefined) return env;
  if (ctx.readSecret) return readNewSecret(ctx.readSecret, 'Encryption Key Password: ', 'Verify Password: ');
  throw fail('KEY_REQUIRED', `no passphrase for the new key: set ${envName} (at least 5 bytes), run on a terminal to be asked, or use --kdf none`, { env: envName });
}

export async function readKeyJson(path: string): Promise<KeyFileJson> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw fail(code, `cannot read key file ${path}: ${(e as Error).message}`, { path }, e);
  }
  try {
    return parseKeyFile(JSON.parse(text));
  } catch (e) {
    throw fail('CORRUPT', `${path} is not a key file: ${(e as Error).message}`, { path }, e);
  }
}

/** Opens a key file, asking for its passphrase only when it has one. */
export async function openKeyPath(ctx: CliContext, path: string): Promise<{ json: KeyFileJson; key: Uint8Array }> {
  const json = await readKeyJson(path);
  const key = openKeyFile(json, json.kdf === null ? undefined : await keyPassphrase(ctx, path));
  return { json, key };
}
