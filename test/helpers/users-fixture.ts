/**
 * Users for privilege tests against a test server: each made with the password `USERID-secret`,
 * a user with an API token and ACL entries for both, the CLI run as one of them, and the assertion that a run was refused with a code. Shared by the
 * tests of owner rules (change-owner, prune/verify of owned groups, group moves).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpClient } from '../../src/remote/http-client.ts';
import { describeCli, type CliResult, type TestServer } from './server-fixture.ts';

export const passwordOf = (userid: string): string => `${userid}-secret`;

/** Makes each user and gives it `role` on `path` (the default datastore unless said). */
export async function addUsers(srv: TestServer, userids: readonly string[], role: string, path = '/datastore/default', o: { readonly propagate?: boolean } = {}): Promise<void> {
  const c = await srv.admin();
  for (const userid of userids) {
    await c.post('access/users', { userid, password: passwordOf(userid) });
    await c.put('access/acl', { path, role, 'auth-id': userid, ...(o.propagate === false ? { propagate: false } : {}) });
  }
}

/**
 * Makes `userid` and its API token `userid!t`, gives both each `[path, role]` ACL entry, and
 * answers an API client that authenticates as the token.
 */
export async function tokenClient(srv: TestServer, userid: string, acls: readonly (readonly [path: string, role: string])[]): Promise<HttpClient> {
  const c = await srv.admin();
  await c.post('access/users', { userid, password: passwordOf(userid) });
  const token = (await c.post(`access/users/${userid}/token/t`)) as { value: string };
  for (const id of [userid, `${userid}!t`]) for (const [path, role] of acls) await c.put('access/acl', { path, role, 'auth-id': id });
  return srv.http({ tokenid: `${userid}!t`, secret: token.value });
}

/** The CLI as `userid` (with its password), against the server's default datastore. */
export function cliAs(srv: TestServer, userid: string, args: readonly string[]): Promise<CliResult> {
  return srv.cli(args, 'default', { HOLDFAST_REPOSITORY: `${userid}@127.0.0.1:${srv.port}:default`, HOLDFAST_PASSWORD: passwordOf(userid) });
}

/** The run failed, naming `code`. */
export function assertRefused(r: CliResult, code: string): void {
  assert.notEqual(r.code, 0, describeCli(r));
  assert.match(r.stderr, new RegExp(code), describeCli(r));
}

/** A directory in the server's work dir with one small file, to back up. */
export function smallSource(srv: TestServer): string {
  const src = join(srv.dir, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'f'), 'data\n');
  return src;
}
