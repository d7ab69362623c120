/**
 * `holdfast key create-master-key|import-master-pubkey|import-with-master-key`: PBS's master keys
 * (format/master-key.ts). With a master public key imported (or `--master-pubkey-file`), every
 * encrypted backup also stores `rsa-encrypted.key.blob`, a copy of its encryption key that only
 * the master private key opens; `import-with-master-key` turns that copy back into a key file.
 *
 * Passphrases: the master key's from `$HOLDFAST_MASTER_KEY_PASSWORD`, else asked on a terminal
 * (twice for a new one); the recovered key file's as for `key create`.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { CryptConfig } from '../../format/crypt-config.ts';
import { createKeyFile } from '../../format/key-file.ts';
import { createMasterKeyPair, openMasterPrivateKey, parseMasterPublicKey, rsaDecryptKeyConfig } from '../../format/master-key.ts';
import type { CliContext } from '../context.ts';
import { keyJson, newKeyPassphrase } from '../key-access.ts';
import { readNewSecret } from '../prompt.ts';

export const MASTER_PASSPHRASE_ENV = 'HOLDFAST_MASTER_KEY_PASSWORD';
export const DEFAULT_MASTER_PUBKEY = join(homedir(), '.config', 'holdfast', 'master-public.pem');

async function masterPassphrase(ctx: CliContext, isNew: boolean): Promise<string> {
  const env = ctx.env[MASTER_PASSPHRASE_ENV];
  if (env !== undefined) return env;
  if (ctx.readSecret) return isNew ? readNewSecret(ctx.readSecret, 'Master Key Password: ', 'Verify Password: ') : ctx.readSecret('Master Key Password: ');
  throw fail('KEY_REQUIRED', `no master key passphrase: set ${MASTER_PASSPHRASE_ENV} or run on a terminal to be asked`, { env: MASTER_PASSPHRASE_ENV });
}

async function readText(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: unknown) => {
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `cannot read ${what} ${path}: ${(e as Error).message}`, { path }, e);
  });
}

async function writeExclusive(path: string, text: string, mode: number): Promise<void> {
  await writeFile(path, text, { mode, flag: 'wx' }).catch((e: unknown) => {
    throw fail((e as NodeJS.ErrnoException).code === 'EEXIST' ? 'ALREADY_EXISTS' : 'IO_ERROR', `cannot create ${path}: ${(e as Error).message}`, { path }, e);
  });
}

/** Writes `master-public.pem` and `master-private.pem` into `dir` (never overwriting). */
export async function runCreateMasterKey(ctx: CliContext, dir: string, bits?: number): Promise<string> {
  const passphrase = await masterPassphrase(ctx, true);
  if (Buffer.byteLength(passphrase) < 5) throw fail('INVALID_ARGUMENT', 'the master key passphrase needs at least 5 bytes', {});
  const pair = createMasterKeyPair(passphrase, bits);
  await writeExclusive(join(dir, 'master-public.pem'), pair.publicPem, 0o644);
  await writeExclusive(join(dir, 'master-private.pem'), pair.privatePem, 0o600);
  return `created ${join(dir, 'master-public.pem')} and ${join(dir, 'master-private.pem')}; keep the private key (and its passphrase) offline and safe`;
}

/** Copies a checked master public key to `target` (the default the backup command reads). */
export async function runImportMasterPubkey(path: string, target: string = DEFAULT_MASTER_PUBKEY): Promise<string> {
  parseMasterPublicKey(await readText(path, 'master public key'));
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await copyFile(path, target);
  return `imported master public key ${path} to ${target}; encrypted backups now store rsa-encrypted.key.blob`;
}

/** Recovers a key file from `rsa-encrypted.key` with the master private key. */
export async function runImportWithMasterKey(ctx: CliContext, path: string, o: { masterKeyfile: string; encryptedKeyfile: string; kdf: 'scrypt' | 'none' }): Promise<string> {
  const encrypted = await readFile(o.encryptedKeyfile).catch((e: unknown) => {
    throw fail('NOT_FOUND', `cannot read ${o.encryptedKeyfile}: ${(e as Error).message}`, { path: o.encryptedKeyfile }, e);
  });
  const privateKey = openMasterPrivateKey(await readText(o.masterKeyfile, 'master private key'), await masterPassphrase(ctx, false));
  const { key, json } = rsaDecryptKeyConfig(privateKey, new Uint8Array(encrypted));
  const passphrase = o.kdf === 'scrypt' ? await newKeyPassphrase(ctx) : undefined;
  const next = createKeyFile(key, { kdf: o.kdf, ...(passphrase !== undefined ? { passphrase } : {}) });
  next.created = json.created;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeExclusive(path, keyJson(next), 0o600);
  return `recovered key ${new CryptConfig(key).fingerprint()} into ${path}`;
}

export function registerMasterKeyCommands(key: Command, ctx: CliContext, defaultKeyPath: string): void {
  key
    .command('create-master-key')
    .description('create an RSA master key pair (master-public.pem, master-private.pem) in the current directory')
    .action(async () => ctx.out(await runCreateMasterKey(ctx, process.cwd())));
  key
    .command('import-master-pubkey')
    .description(`import a master public key to ${DEFAULT_MASTER_PUBKEY}: encrypted backups then carry an rsa-encrypted copy of their key`)
    .argument('<path>', 'master-public.pem')
    .action(async (path: string) => ctx.out(await runImportMasterPubkey(path)));
  key
    .command('import-with-master-key')
    .description("recover a key file from a backup's rsa-encrypted.key with the master private key")
    .argument('[path]', 'key file to create', defaultKeyPath)
    .requiredOption('--master-keyfile <file>', 'master-private.pem')
    .requiredOption('--encrypted-keyfile <file>', 'rsa-encrypted.key, restored from a snapshot: holdfast restore SNAPSHOT rsa-encrypted.key FILE')
    .addOption(new Option('--kdf <kdf>', 'key derivation for the new passphrase').choices(['scrypt', 'none']).default('scrypt'))
    .action(async (path: string, o: { masterKeyfile: string; encryptedKeyfile: string; kdf: 'scrypt' | 'none' }) => ctx.out(await runImportWithMasterKey(ctx, path, o)));
}
