/**
 * `holdfast key create|change-passphrase|show|paperkey`: AES-256 encryption keys in PBS key-file
 * format (reference/pbs-format.md §3.5), managed like `proxmox-backup-client key`. Passphrases
 * come from `$HOLDFAST_ENCRYPTION_PASSWORD` or a terminal prompt (key-passphrase.ts). Key files
 * are written with mode 0600; `create` never overwrites, `change-passphrase` replaces the file
 * atomically (a crash leaves the old or the new file, never a torn one).
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { fail } from '../../core/errors.ts';
import { CryptConfig } from '../../format/crypt-config.ts';
import { createKeyFile, generateKey, type KeyFileJson } from '../../format/key-file.ts';
import { atomicWrite } from '../../storage/atomic-write.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import type { CliContext, OutputFormat } from '../context.ts';
import { keyJson, NEW_PASSPHRASE_ENV, newKeyPassphrase, openKeyPath, readKeyJson } from '../key-access.ts';
import { emit, outputFormatOption } from '../render.ts';
import { registerMasterKeyCommands } from './key-master.ts';
import { qrText } from '../qr-text.ts';

export const DEFAULT_KEY_PATH = join(homedir(), '.config', 'holdfast', 'encryption-key.json');
const KDFS = ['scrypt', 'none'] as const;
type Kdf = (typeof KDFS)[number];


async function writeNewKeyFile(path: string, json: KeyFileJson): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, keyJson(json), { mode: 0o600, flag: 'wx' }).catch((e: unknown) => {
    throw fail('ALREADY_EXISTS', `cannot create ${path}: ${e instanceof Error ? e.message : 'error'}`, { path }, e);
  });
}

export async function runKeyCreate(ctx: CliContext, path: string, kdf: Kdf, hint?: string): Promise<string> {
  const passphrase = kdf === 'scrypt' ? await newKeyPassphrase(ctx) : undefined;
  const key = generateKey();
  await writeNewKeyFile(path, createKeyFile(key, { kdf, ...(passphrase !== undefined ? { passphrase } : {}), ...(hint !== undefined ? { hint } : {}) }));
  return `created ${path}, fingerprint ${new CryptConfig(key).fingerprint()}`;
}

export async function runKeyChangePassphrase(ctx: CliContext, path: string, kdf: Kdf, hint?: string): Promise<string> {
  const { json, key } = await openKeyPath(ctx, path);
  const passphrase = kdf === 'scrypt' ? await newKeyPassphrase(ctx, NEW_PASSPHRASE_ENV) : undefined;
  const keptHint = hint ?? json.hint;
  const next = createKeyFile(key, { kdf, ...(passphrase !== undefined ? { passphrase } : {}), ...(keptHint !== undefined ? { hint: keptHint } : {}) });
  next.created = json.created;
  await atomicWrite(new NodeFs(), path, Buffer.from(keyJson(next)), { durable: true, perm: 0o600 });
  return `changed the passphrase of ${path} (kdf ${kdf})`;
}

export interface KeyInfo {
  readonly path: string;
  readonly kdf: string;
  readonly created: string;
  readonly modified: string;
  readonly fingerprint: string | null;
  readonly hint: string | null;
}

/** What `key show` prints; it needs no passphrase (the stored fingerprint is shown as stored). */
export async function runKeyShow(path: string): Promise<KeyInfo> {
  const json = await readKeyJson(path);
  const kdf = json.kdf === null ? 'none' : 'Scrypt' in json.kdf ? 'scrypt' : 'pbkdf2';
  return { path, kdf, created: json.created, modified: json.modified, fingerprint: json.fingerprint ?? null, hint: json.hint ?? null };
}

/**
 * A paper copy of the key file as PBS's `key paperkey --output-format text` prints it: an
 * optional subject, then the key file's JSON between BEGIN/END lines, then the same text as a QR
 * code, so the paper copy can be scanned back as well as typed.
 */
export async function runKeyPaperkey(path: string, subject?: string): Promise<string> {
  const text = (await readFile(path, 'utf8').catch((e: unknown) => {
    throw fail('NOT_FOUND', `cannot read key file ${path}: ${(e as Error).message}`, { path }, e);
  })).trim();
  const isMaster = text.startsWith('-----BEGIN PRIVATE KEY-----') || text.startsWith('-----BEGIN RSA PRIVATE KEY-----');
  const lines: string[] = [];
  if (subject !== undefined) lines.push(`Subject: ${subject}`, '');
  if (isMaster) lines.push(text);
  else {
    const json = await readKeyJson(path);
    lines.push('-----BEGIN PROXMOX BACKUP KEY-----', ...keyJson(json).trimEnd().split('\n'), '-----END PROXMOX BACKUP KEY-----');
  }
  const block = isMaster ? text : keyJson(await readKeyJson(path)).trimEnd();
  lines.push('', qrText(block));
  return lines.join('\n');
}

function showText(k: KeyInfo): string {
  return Object.entries(k).map(([name, v]) => `${name.padEnd(12)} ${v === null ? '-' : String(v)}`).join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('manage encryption keys (passphrase from $HOLDFAST_ENCRYPTION_PASSWORD, else asked on a terminal)');
  const kdfOption = (): Option => new Option('--kdf <kdf>', 'key derivation for the passphrase').choices([...KDFS]).default('scrypt');
  key
    .command('create')
    .description('create a new encryption key file (keep a copy somewhere safe: without it the backups cannot be restored)')
    .argument('[path]', 'key file path', DEFAULT_KEY_PATH)
    .addOption(kdfOption())
    .option('--hint <text>', 'a password hint stored in the key file')
    .action(async (path: string, o: { kdf: Kdf; hint?: string }) => {
      ctx.out(await runKeyCreate(ctx, path, o.kdf, o.hint));
    });
  key
    .command('change-passphrase')
    .description(`change the passphrase of a key file (new passphrase asked twice on a terminal, else $${NEW_PASSPHRASE_ENV})`)
    .argument('[path]', 'key file path', DEFAULT_KEY_PATH)
    .addOption(kdfOption())
    .option('--hint <text>', 'a new password hint')
    .action(async (path: string, o: { kdf: Kdf; hint?: string }) => {
      ctx.out(await runKeyChangePassphrase(ctx, path, o.kdf, o.hint));
    });
  key
    .command('show')
    .description('show a key file: kdf, creation and modification time, fingerprint, hint')
    .argument('[path]', 'key file path', DEFAULT_KEY_PATH)
    .addOption(outputFormatOption())
    .action(async (path: string, o: { outputFormat: OutputFormat }) => {
      const info = await runKeyShow(path);
      emit(ctx, o.outputFormat, info, () => showText(info));
    });
  key
    .command('paperkey')
    .description('print a paper copy of a key file (or a master key) for safe keeping')
    .argument('[path]', 'key file path', DEFAULT_KEY_PATH)
    .option('--subject <text>', 'a line printed above the key')
    .addOption(new Option('--output-format <format>', 'output format').choices(['text']).default('text'))
    .action(async (path: string, o: { subject?: string }) => {
      ctx.out(await runKeyPaperkey(path, o.subject));
    });
  registerMasterKeyCommands(key, ctx, DEFAULT_KEY_PATH);
}
