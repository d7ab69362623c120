/**
 * The two-server test bed: servers in two network namespaces reach each other over the veth pair.
 * (Nothing here sends to the pair's addresses from the root namespace: there they are not local.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkipReason, runCommand, withNetnsPair } from '../helpers/netns.ts';

/**
 * Logs in to a server and fetches its version route, from inside a namespace with node itself
 * (argv: base URL, password); prints the version answer's status and body.
 */
const FETCH = `
const https = require('node:https');
const [base, password] = process.argv.slice(1);
const call = (method, path, headers, body) => new Promise((resolve, reject) => {
  const req = https.request(base + path, { method, headers, rejectUnauthorized: false }, (res) => {
    let text = '';
    res.on('data', (d) => (text += d));
    res.on('end', () => resolve({ status: res.statusCode, body: text }));
  });
  req.on('error', reject);
  req.end(body);
});
(async () => {
  const login = await call('POST', '/api2/json/access/ticket', { 'content-type': 'application/json' }, JSON.stringify({ username: 'admin@pbs', password }));
  const ticket = JSON.parse(login.body).data.ticket;
  const v = await call('GET', '/api2/json/version', { cookie: 'PBSAuthCookie=' + encodeURIComponent(ticket) });
  console.log(JSON.stringify(v));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

test('withNetnsPair: a server in one namespace fetches the version route of a server in the other', { skip: netnsSkipReason() }, async () => {
  await withNetnsPair({ rateBitsPerSec: 100e6 }, async ({ pair, serve }) => {
    const [, b] = await Promise.all([serve(pair.a), serve(pair.b)]);
    const r = await runCommand([...pair.a.exec, process.execPath, '-e', FETCH, `https://${pair.b.address}:${b.port}`, b.password]);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout) as { status: number; body: string };
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as { data: { repoid: string } }).data.repoid, 'holdfast');
  });
});
