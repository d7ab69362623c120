import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.ts';
import { TICKET_REUSE_SECONDS, TicketCache } from './ticket-cache.ts';

const scope = { server: '127.0.0.1:8007|aa:bb', authId: 'alice@pbs', secret: 'pw-1' };
const ticket = { username: 'alice@pbs', ticket: 'PBS:alice@pbs:00000001::sig', csrf: 'c' };

test('TicketCache.get offers a ticket only for the same server, auth id and secret, while young enough', () => {
  let now = 1_000_000;
  const cache = new TicketCache(join(makeTempDir('tickets-'), 'h', 'tickets.json'), () => now);
  assert.equal(cache.get(scope), undefined);
  cache.put(scope, ticket);
  assert.deepEqual(cache.get(scope), ticket);
  assert.equal(cache.get({ ...scope, secret: 'pw-2' }), undefined, 'another secret');
  assert.equal(cache.get({ ...scope, authId: 'bob@pbs' }), undefined, 'another user');
  assert.equal(cache.get({ ...scope, server: '127.0.0.1:8007|cc' }), undefined, 'another fingerprint');
  now += TICKET_REUSE_SECONDS;
  assert.equal(cache.get(scope), undefined, 'too old');
});

test('TicketCache keeps its file 0600 in a 0700 directory, never stores the secret, and drops an entry', () => {
  const dir = join(makeTempDir('tickets-'), 'holdfast');
  const cache = new TicketCache(join(dir, 'tickets.json'));
  cache.put(scope, ticket);
  assert.equal(statSync(join(dir, 'tickets.json')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.ok(!readFileSync(join(dir, 'tickets.json'), 'utf8').includes(scope.secret));
  cache.drop(scope);
  assert.equal(cache.get(scope), undefined);
});

test('TicketCache ignores a corrupt file and a disabled cache stores nothing', () => {
  const dir = makeTempDir('tickets-');
  writeFileSync(join(dir, 'tickets.json'), '{not json');
  const cache = new TicketCache(join(dir, 'tickets.json'));
  assert.equal(cache.get(scope), undefined);
  cache.put(scope, ticket);
  assert.deepEqual(cache.get(scope), ticket);
  const off = TicketCache.fromEnv({ HOLDFAST_TICKET_CACHE: 'off', HOME: dir });
  off.put(scope, ticket);
  assert.equal(off.get(scope), undefined);
});
