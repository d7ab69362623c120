import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CryptConfig } from '../../format/crypt-config.ts';
import { openKeyFile } from '../../format/key-file.ts';
import type { CliContext } from '../context.ts';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { qrText } from '../qr-text.ts';
import { runKeyChangePassphrase, runKeyCreate, runKeyPaperkey, runKeyShow } from './key.ts';

function ctxWith(env: Record<string, string>, answers?: string[]): CliContext & { prompts: string[] } {
  const prompts: string[] = [];
  const queue = [...(answers ?? [])];
  return {
    env,
    isTTY: answers !== undefined,
    out: () => undefined,
    err: () => undefined,
    prompts,
    ...(answers !== undefined ? { readSecret: async (p: string) => (prompts.push(p), queue.shift() ?? '') } : {}),
  };
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-key-');
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('runKeyCreate on a terminal asks for the passphrase twice, as PBS does, and seals the key with it', () =>
  withDir(async (dir) => {
    const ctx = ctxWith({}, ['typed secret', 'typed secret']);
    const path = join(dir, 'k.json');
    const msg = await runKeyCreate(ctx, path, 'scrypt');
    assert.deepEqual(ctx.prompts, ['Encryption Key Password: ', 'Verify Password: ']);
    const key = openKeyFile(JSON.parse(readFileSync(path, 'utf8')), 'typed secret');
    assert.ok(msg.includes(new CryptConfig(key).fingerprint()));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }));

test('runKeyCreate refuses two different prompted passphrases and writes nothing', () =>
  withDir(async (dir) => {
    const path = join(dir, 'k.json');
    await assert.rejects(runKeyCreate(ctxWith({}, ['one secret', 'two secret']), path, 'scrypt'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => statSync(path));
  }));

test('runKeyCreate without a terminal or $HOLDFAST_ENCRYPTION_PASSWORD says how to give the passphrase', () =>
  withDir(async (dir) => {
    await assert.rejects(runKeyCreate(ctxWith({}), join(dir, 'k.json'), 'scrypt'), (e: Error & { code?: string }) => e.code === 'KEY_REQUIRED' && e.message.includes('HOLDFAST_ENCRYPTION_PASSWORD'));
    await runKeyCreate(ctxWith({ HOLDFAST_ENCRYPTION_PASSWORD: 'from env' }), join(dir, 'k.json'), 'scrypt');
    assert.ok(openKeyFile(JSON.parse(readFileSync(join(dir, 'k.json'), 'utf8')), 'from env'));
  }));

test('runKeyChangePassphrase re-seals the same key under the new passphrase and keeps created and hint', () =>
  withDir(async (dir) => {
    const path = join(dir, 'k.json');
    await runKeyCreate(ctxWith({ HOLDFAST_ENCRYPTION_PASSWORD: 'old secret' }), path, 'scrypt', 'the old one');
    const before = JSON.parse(readFileSync(path, 'utf8')) as { created: string; fingerprint: string };
    const ctx = ctxWith({ HOLDFAST_ENCRYPTION_PASSWORD: 'old secret' }, ['new secret', 'new secret']);
    await runKeyChangePassphrase(ctx, path, 'scrypt');
    const after = JSON.parse(readFileSync(path, 'utf8')) as { created: string; fingerprint: string; hint: string };
    assert.equal(after.fingerprint, before.fingerprint);
    assert.equal(after.created, before.created);
    assert.equal(after.hint, 'the old one');
    assert.ok(openKeyFile(after, 'new secret'));
    assert.throws(() => openKeyFile(after, 'old secret'), { code: 'DECRYPT_FAILED' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }));

test('runKeyShow needs no passphrase; runKeyPaperkey wraps the key file in PBS BEGIN/END lines', () =>
  withDir(async (dir) => {
    const path = join(dir, 'k.json');
    await runKeyCreate(ctxWith({ HOLDFAST_ENCRYPTION_PASSWORD: 'a secret' }), path, 'scrypt');
    const info = await runKeyShow(path);
    assert.equal(info.kdf, 'scrypt');
    assert.match(info.fingerprint ?? '', /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    const paper = (await runKeyPaperkey(path, 'laptop key')).split('\n');
    assert.deepEqual(paper.slice(0, 3), ['Subject: laptop key', '', '-----BEGIN PROXMOX BACKUP KEY-----']);
    const end = paper.indexOf('-----END PROXMOX BACKUP KEY-----');
    assert.deepEqual(JSON.parse(paper.slice(3, end).join('\n')), JSON.parse(readFileSync(path, 'utf8')));
    // then the same key file as a QR code (qr-text.test.ts checks the drawing)
    assert.equal(paper.slice(end + 2).join('\n'), qrText(paper.slice(3, end).join('\n')));
  }));
