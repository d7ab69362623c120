import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigDir } from './config-dir.ts';
import { AUTH_KEY_FILE, TicketSigner } from './ticket.ts';

const T0 = 1_700_000_000;
const signer = new TicketSigner(Buffer.alloc(32, 7));

test('TicketSigner.issue writes PBS:<userid>:<8 uppercase hex>::<base64 without padding>', () => {
  const ticket = signer.issue('admin@pbs', T0);
  assert.match(ticket, /^PBS:admin@pbs:6553F100::[A-Za-z0-9+/]{43}$/);
  assert.equal(signer.verify(ticket, T0), 'admin@pbs');
});

test('TicketSigner.verify accepts -300..+7200 s of age and nothing beyond', () => {
  const ticket = signer.issue('a@pbs', T0);
  assert.equal(signer.verify(ticket, T0 - 300), 'a@pbs');
  assert.equal(signer.verify(ticket, T0 + 7200), 'a@pbs');
  assert.throws(() => signer.verify(ticket, T0 - 301), { code: 'UNAUTHENTICATED' });
  assert.throws(() => signer.verify(ticket, T0 + 7201), { code: 'UNAUTHENTICATED' });
});

test('TicketSigner.verify rejects a changed user, time or signature and another key', () => {
  const ticket = signer.issue('a@pbs', T0);
  for (const bad of [ticket.replace('a@pbs', 'b@pbs'), ticket.replace('6553F100', '6553F101'), `${ticket.slice(0, -2)}AA`, 'garbage', '']) {
    assert.throws(() => signer.verify(bad, T0), { code: 'UNAUTHENTICATED' }, bad);
  }
  assert.throws(() => new TicketSigner(Buffer.alloc(32, 8)).verify(ticket, T0), { code: 'UNAUTHENTICATED' });
});

test('TicketSigner CSRF tokens bind the user and expire like tickets', () => {
  const token = signer.csrfToken('a@pbs', T0);
  assert.match(token, /^6553F100:[A-Za-z0-9+/]{43}$/);
  signer.verifyCsrf('a@pbs', token, T0 + 10);
  assert.throws(() => signer.verifyCsrf('b@pbs', token, T0), { code: 'UNAUTHENTICATED' });
  assert.throws(() => signer.verifyCsrf('a@pbs', token, T0 + 7201), { code: 'UNAUTHENTICATED' });
  assert.throws(() => signer.verify(`PBS:a@pbs:6553F100::${token.split(':')[1] ?? ''}`, T0), { code: 'UNAUTHENTICATED' });
});

test('TicketSigner.load creates authkey.key once with mode 0600 and reuses it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-ticket-'));
  try {
    const config = new ConfigDir(dir);
    const first = await TicketSigner.load(config);
    assert.equal((await stat(join(dir, AUTH_KEY_FILE))).mode & 0o777, 0o600);
    const second = await TicketSigner.load(config);
    assert.equal(second.verify(first.issue('a@pbs', T0), T0), 'a@pbs');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
