import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERT_FILE, certificateFingerprint, isValidFingerprint, KEY_FILE, loadOrCreateCertificate } from './tls.ts';

const VALID = '86:88:7c:be:26:77:a5:62:67:d9:06:f5:e4:14:61:3e:20:dc:cd:43:92:07:7f:fb:65:54:6c:ff:d2:96:36:f8';

test('isValidFingerprint follows the certificate fingerprint schema (VECTORS.md §5.3)', () => {
  assert.equal(isValidFingerprint(VALID), true);
  assert.equal(isValidFingerprint(VALID.replace('67:d9', '67:D9').replace('7c:be', '7C:BE')), true);
  const groups = VALID.split(':');
  assert.equal(isValidFingerprint(VALID.replace('e4:14:61', 'e4::61')), false);
  assert.equal(isValidFingerprint(groups.slice(0, 31).join(':')), false);
  assert.equal(isValidFingerprint(`${VALID}:ff`), false);
  assert.equal(isValidFingerprint(['XX', ...groups.slice(1)].join(':')), false);
  assert.equal(isValidFingerprint(['Y4', ...groups.slice(1)].join(':')), false);
  assert.equal(isValidFingerprint(['0', ...groups.slice(1)].join(':')), false);
});

test('loadOrCreateCertificate generates proxy.pem/proxy.key once (key 0600) and reuses them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-tls-'));
  try {
    const first = await loadOrCreateCertificate(dir);
    assert.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
    assert.ok(isValidFingerprint(first.fingerprint));
    assert.equal(first.fingerprint, new X509Certificate(await readFile(join(dir, CERT_FILE))).fingerprint256.toLowerCase());
    const second = await loadOrCreateCertificate(dir);
    assert.equal(second.fingerprint, first.fingerprint);
    assert.equal(second.key, first.key);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadOrCreateCertificate uses existing files as they are and refuses a lone certificate', async () => {
  const src = await mkdtemp(join(tmpdir(), 'holdfast-tls-src-'));
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-tls-user-'));
  try {
    const made = await loadOrCreateCertificate(src);
    await writeFile(join(dir, CERT_FILE), made.cert);
    await assert.rejects(loadOrCreateCertificate(dir), { code: 'INVALID_CONFIG' });
    await writeFile(join(dir, KEY_FILE), made.key);
    assert.equal((await loadOrCreateCertificate(dir)).fingerprint, made.fingerprint);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test('certificateFingerprint rejects text that is not a certificate', () => {
  assert.throws(() => certificateFingerprint('nope'), { code: 'INVALID_CONFIG' });
});
