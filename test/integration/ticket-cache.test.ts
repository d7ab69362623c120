/**
 * The client's ticket cache against a real server (src/remote/ticket-cache.ts): a second run
 * renews the cached ticket instead of sending the password, a rejected cached ticket falls back
 * to the password, and a wrong password never rides on a cached ticket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isHoldfastError } from '../../src/core/errors.ts';
import { connect } from '../../src/remote/connect.ts';
import { parseRepository } from '../../src/remote/repository.ts';
import { TicketCache } from '../../src/remote/ticket-cache.ts';
import { startTestServer } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('connect renews a cached ticket, falls back to the password when the server rejects it, and never uses it for another password', { timeout: 60_000 }, async () => {
  const srv = await startTestServer();
  try {
    const admin = await srv.admin();
    await admin.post('access/users', { userid: 'alice@pbs', password: 'first-password' });
    const repo = parseRepository(`alice@pbs@127.0.0.1:${srv.port}:default`);
    const cache = new TicketCache(join(makeTempDir('tickets-'), 'tickets.json'));
    const as = (password: string, c = cache) => connect(repo, { HOLDFAST_PASSWORD: password }, srv.fingerprint, c);

    await as('first-password');
    // The server no longer takes the first password; a run that still has it succeeds only
    // because it renews the cached ticket (as proxmox-backup-client does) instead of logging in.
    await admin.put('access/password', { userid: 'alice@pbs', password: 'second-password' });
    const renewed = await as('first-password');
    assert.equal(renewed.client.ticket?.username, 'alice@pbs');
    await assert.rejects(as('first-password', new TicketCache(undefined)), (e) => isHoldfastError(e, 'UNAUTHENTICATED'));

    // a cached ticket is not offered for another secret: the wrong password fails as it should
    await assert.rejects(as('wrong-password'), (e) => isHoldfastError(e, 'UNAUTHENTICATED'));

    // a cached ticket the server rejects (forged here) is dropped; the password login follows
    const scope = { server: `127.0.0.1:${srv.port}|${srv.fingerprint}`, authId: 'alice@pbs', secret: 'second-password' };
    cache.put(scope, { username: 'alice@pbs', ticket: 'PBS:alice@pbs:00000000::forged', csrf: 'x' });
    const fresh = await as('second-password');
    assert.equal(fresh.client.ticket?.username, 'alice@pbs');
    assert.notEqual(cache.get(scope)?.ticket, 'PBS:alice@pbs:00000000::forged');
  } finally {
    await srv.close();
  }
});
