/**
 * `holdfast key create [PATH] [--kdf scrypt|none]`: a new AES-256 encryption key in PBS key-file
 * format. With scrypt the passphrase comes from HOLDFAST_ENCRYPTION_PASSWORD; the file is
 * written with mode 0600 and never overwritten.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { CryptConfig } from '../../format/crypt-config.ts';
import { createKeyFile, generateKey } from '../../format/key-file.ts';
import type { CliContext } from '../context.ts';

export async function runKeyCreate(ctx: CliContext, path: string, kdf: 'scrypt' | 'none'): Promise<string> {
  const passphrase = ctx.env['HOLDFAST_ENCRYPTION_PASSWORD'];
  if (kdf === 'scrypt' && !passphrase) throw fail('INVALID_ARGUMENT', 'set HOLDFAST_ENCRYPTION_PASSWORD to the passphrase (at least 5 bytes), or use --kdf none', {});
  const key = generateKey();
  const json = createKeyFile(key, { kdf, ...(kdf === 'scrypt' && passphrase ? { passphrase } : {}) });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch((e: unknown) => {
    throw fail('ALREADY_EXISTS', `cannot create ${path}: ${e instanceof Error ? e.message : 'error'}`, { path }, e);
  });
  return `created ${path}, fingerprint ${new CryptConfig(key).fingerprint()}`;
}

export function register(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('manage encryption keys');
  key
    .command('create')
    .description('create a new encryption key file (keep a copy somewhere safe: without it the backups cannot be restored)')
    .argument('[path]', 'key file path', join(homedir(), '.config', 'holdfast', 'encryption-key.json'))
    .addOption(new Option('--kdf <kdf>', 'key derivation for the passphrase').choices(['scrypt', 'none']).default('scrypt'))
    .action(async (path: string, o: { kdf: 'scrypt' | 'none' }) => {
      ctx.out(await runKeyCreate(ctx, path, o.kdf));
    });
}
