/**
 * The protocol resource bounds against a real server (issue #11 item 6, docs/protocol.md
 * "Resource bounds"): the per-user session limit, with tokens counting as their user. The idle,
 * stall and GOAWAY bounds are tested in src/server/h2-upgrade-limits.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../src/core/errors.ts';
import { startTestServer } from '../helpers/server-fixture.ts';
import { backupUser, openBackup } from '../helpers/raw-backup.ts';


test('a user past maxSessionsPerUser is refused with TOO_MANY_SESSIONS (429), tokens included, until a session ends', { timeout: 120_000 }, async () => {
  const srv = await startTestServer({ limits: { maxSessionsPerUser: 2 } });
  try {
    const admin = await srv.admin();
    const alice = await backupUser(srv, admin, 'alice@pbs');
    const token = (await alice.post('access/users/alice@pbs/token/t1')) as { tokenid: string; value: string };
    await admin.put('access/acl', { path: '/datastore', role: 'DatastoreBackup', 'auth-id': token.tokenid });
    const viaToken = srv.http({ tokenid: token.tokenid, secret: token.value });
    const a = await openBackup(alice, 'a1', 1_800_000_000);
    const b = await openBackup(viaToken, 'a2', 1_800_000_000);
    await assert.rejects(openBackup(alice, 'a3', 1_800_000_000), (e) => isHoldfastError(e, 'TOO_MANY_SESSIONS') && e.details['status'] === 429);
    await assert.rejects(openBackup(viaToken, 'a3', 1_800_000_000), (e) => isHoldfastError(e, 'TOO_MANY_SESSIONS'));
    const other = await openBackup(admin, 'x', 1_800_000_000); // another user is not affected
    other.destroy();
    await a.close();
    const c = await waitForSession(() => openBackup(alice, 'a3', 1_800_000_000));
    c.destroy();
    b.destroy();
  } finally {
    await srv.close();
  }
});

/** Retries `open` while the server has not yet counted a closed session out (its cleanup runs after the close). */
async function waitForSession<T>(open: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await open();
    } catch (e) {
      if (!isHoldfastError(e, 'TOO_MANY_SESSIONS')) throw e;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
