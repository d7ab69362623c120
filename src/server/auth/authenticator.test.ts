import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedClock } from '../clock.ts';
import { AuthService, parseTokenHeader, ticketFromCookies } from './authenticator.ts';
import { REVOKED_TICKETS_FILE } from './revoked-tickets.ts';
import { CLOCK_SKEW_SECONDS, TICKET_LIFETIME_SECONDS } from './ticket.ts';

const T0 = 1_700_000_000_000;

async function withAuth(fn: (auth: AuthService, clock: ReturnType<typeof fixedClock>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-authn-'));
  const clock = fixedClock(T0);
  try {
    await fn(await AuthService.open(dir, clock), clock);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('parseTokenHeader accepts a space or "=" after the prefix and percent-decodes the secret', () => {
  assert.deepEqual(parseTokenHeader('PBSAPIToken=a@pbs!t:s%3Ac%20x'), { tokenid: 'a@pbs!t', secret: 's:c x' });
  assert.deepEqual(parseTokenHeader('PBSAPIToken a@pbs!t:abc'), { tokenid: 'a@pbs!t', secret: 'abc' });
  assert.equal(parseTokenHeader('Basic xyz'), undefined);
  for (const bad of ['PBSAPITokenX', 'PBSAPIToken=a@pbs:abc', 'PBSAPIToken=a@pbs!t', 'PBSAPIToken=a@pbs!t:%zz']) {
    assert.throws(() => parseTokenHeader(bad), { code: 'UNAUTHENTICATED' }, bad);
  }
});

test('ticketFromCookies prefers __Host-PBSAuthCookie and percent-decodes', () => {
  assert.equal(ticketFromCookies('PBSAuthCookie=PBS%3Aa; __Host-PBSAuthCookie=PBS%3Ab'), 'PBS:b');
  assert.equal(ticketFromCookies('x=1; PBSAuthCookie=PBS%3Aa'), 'PBS:a');
  assert.equal(ticketFromCookies('x=1'), undefined);
  assert.equal(ticketFromCookies(undefined), undefined);
});

test('AuthService.login issues a ticket that authenticates GET, and non-GET only with the CSRF token', () =>
  withAuth(async (auth) => {
    await auth.users.create('a@pbs', { password: 'apassword' });
    const login = await auth.login('a', 'apassword');
    assert.equal(login.username, 'a@pbs');
    const cookie = `PBSAuthCookie=${encodeURIComponent(login.ticket)}`;
    assert.equal(await auth.authenticate('GET', { cookie }), 'a@pbs');
    await assert.rejects(auth.authenticate('POST', { cookie }), { code: 'UNAUTHENTICATED' });
    assert.equal(await auth.authenticate('POST', { cookie, csrfpreventiontoken: login.CSRFPreventionToken }), 'a@pbs');
    await assert.rejects(auth.authenticate('GET', {}), { code: 'UNAUTHENTICATED' });
  }));

test('AuthService: tickets expire after 2 h, can be renewed before, and stop working for a removed user', () =>
  withAuth(async (auth, clock) => {
    await auth.users.create('a@pbs', { password: 'apassword' });
    const { ticket } = await auth.login('a@pbs', 'apassword');
    clock.advance(7000 * 1000);
    const renewed = await auth.login('a@pbs', ticket);
    clock.advance(300 * 1000);
    await assert.rejects(auth.authenticate('GET', { cookie: `PBSAuthCookie=${ticket}` }), { code: 'UNAUTHENTICATED' });
    assert.equal(await auth.authenticate('GET', { cookie: `PBSAuthCookie=${renewed.ticket}` }), 'a@pbs');
    await assert.rejects(auth.login('b@pbs', ticket), { code: 'UNAUTHENTICATED' });
    await auth.users.remove('a@pbs');
    await assert.rejects(auth.authenticate('GET', { cookie: `PBSAuthCookie=${renewed.ticket}` }), { code: 'UNAUTHENTICATED' });
  }));

test('AuthService.login rejects wrong passwords with UNAUTHENTICATED', () =>
  withAuth(async (auth) => {
    await auth.users.create('a@pbs', { password: 'apassword' });
    await assert.rejects(auth.login('a@pbs', 'nope!'), { code: 'UNAUTHENTICATED' });
    await assert.rejects(auth.login('ghost@pbs', 'apassword'), { code: 'UNAUTHENTICATED' });
    await assert.rejects(auth.login('not an id', 'apassword'), { code: 'UNAUTHENTICATED' });
  }));

test('AuthService.checkPrivilege: a token gets the intersection of its roles and its user\'s', () =>
  withAuth(async (auth) => {
    await auth.users.create('a@pbs');
    const { tokenid, value } = await auth.users.createToken('a@pbs', 't');
    assert.equal(await auth.authenticate('GET', { authorization: `PBSAPIToken ${tokenid}:${value}` }), tokenid);
    await auth.acl.update((tree) => {
      tree.insert('/datastore', 'a@pbs', 'DatastoreReader', true);
      tree.insert('/datastore/s1', tokenid, 'DatastoreAdmin', true);
      return tree;
    });
    assert.deepEqual(await auth.privileges(tokenid, '/datastore/s1'), new Set(['Datastore.Audit', 'Datastore.Read', 'Datastore.Verify']));
    await auth.checkPrivilege(tokenid, '/datastore/s1/ns', ['Datastore.Read']);
    await assert.rejects(auth.checkPrivilege(tokenid, '/datastore/s1', ['Datastore.Backup']), { code: 'FORBIDDEN' });
    await assert.rejects(auth.checkPrivilege(tokenid, '/datastore/s2', ['Datastore.Read']), { code: 'FORBIDDEN' });
    await auth.checkPrivilege('a@pbs', '/datastore/s2', ['Datastore.Read']);
  }));

test('AuthService.revokeTicket: a logged-out ticket stops working; a login in the same second gets a different ticket that works', () =>
  withAuth(async (auth) => {
    await auth.users.create('a@pbs', { password: 'apassword' });
    const first = await auth.login('a', 'apassword');
    const cookie = (t: string) => ({ cookie: `PBSAuthCookie=${encodeURIComponent(t)}` });
    assert.equal(await auth.authenticate('GET', cookie(first.ticket)), 'a@pbs');
    await auth.revokeTicket(cookie(first.ticket));
    await assert.rejects(auth.authenticate('GET', cookie(first.ticket)), { code: 'UNAUTHENTICATED' });
    await assert.rejects(auth.login('a', first.ticket), { code: 'UNAUTHENTICATED' }, 'nor renews');
    const second = await auth.login('a', 'apassword'); // the fixed clock: the same second
    assert.notEqual(second.ticket, first.ticket);
    assert.equal(await auth.authenticate('POST', { ...cookie(second.ticket), csrfpreventiontoken: second.CSRFPreventionToken }), 'a@pbs');
    await auth.revokeTicket(cookie('PBS:forged'));
    await auth.revokeTicket({});
  }));

test('AuthService.revokeTicket persists: a new AuthService on the same config dir still refuses the ticket, until it would have expired', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-authn-'));
  const clock = fixedClock(T0);
  try {
    const cookie = (t: string) => ({ cookie: `PBSAuthCookie=${encodeURIComponent(t)}` });
    const auth = await AuthService.open(dir, clock);
    await auth.users.create('a@pbs', { password: 'apassword' });
    const gone = await auth.login('a', 'apassword');
    clock.advance(1000);
    const kept = await auth.login('a', 'apassword');
    await auth.revokeTicket(cookie(gone.ticket));
    const text = await readFile(join(dir, REVOKED_TICKETS_FILE), 'utf8');
    assert.ok(!text.includes(gone.ticket.slice(4, 20)), 'only a hash is stored');
    assert.equal(((await stat(join(dir, REVOKED_TICKETS_FILE))).mode & 0o777).toString(8), '600');

    const restarted = await AuthService.open(dir, clock);
    await assert.rejects(restarted.authenticate('GET', cookie(gone.ticket)), /logged out/);
    assert.equal(await restarted.authenticate('GET', cookie(kept.ticket)), 'a@pbs');
    clock.advance((TICKET_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS + 1) * 1000);
    await restarted.revokeTicket(cookie((await restarted.login('a', 'apassword')).ticket));
    assert.equal((JSON.parse(await readFile(join(dir, REVOKED_TICKETS_FILE), 'utf8')) as { entries: unknown[] }).entries.length, 1, 'the expired entry is dropped');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
