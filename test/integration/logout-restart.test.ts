/**
 * Logout survives a restart (issue #15): a ticket logged out through `DELETE access/ticket` is
 * refused by the same server and, after a restart on the same config dir, by the new process too;
 * a ticket that was not logged out keeps working across the restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startTestServer, type TestServer } from '../helpers/server-fixture.ts';

/** GET /api2/json/version with `ticket` in the cookie: the status and the error code, if any. */
function versionWith(srv: TestServer, ticket: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: srv.port, path: '/api2/json/version', rejectUnauthorized: false, headers: { cookie: `PBSAuthCookie=${encodeURIComponent(ticket)}` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('a logged-out ticket stays refused after a server restart; another ticket of the user keeps working', { timeout: 60_000 }, async () => {
  const srv = await startTestServer();
  try {
    const gone = await srv.admin();
    const goneTicket = gone.ticket?.ticket ?? '';
    assert.equal((await versionWith(srv, goneTicket)).status, 200);
    await gone.delete('access/ticket');
    assert.match((await versionWith(srv, goneTicket)).body, /logged out/);
    // logged in after the logout: a ticket is a function of user and second, and the server
    // stamps a fresh one past any revoked one, so this one differs even within the same second
    const keptTicket = (await srv.admin()).ticket?.ticket ?? '';
    assert.notEqual(goneTicket, keptTicket);

    await srv.restart();
    const after = await versionWith(srv, goneTicket);
    assert.equal(after.status, 401, 'still logged out after the restart');
    assert.match(after.body, /logged out/);
    assert.equal((await versionWith(srv, keptTicket)).status, 200);
  } finally {
    await srv.close();
  }
});
