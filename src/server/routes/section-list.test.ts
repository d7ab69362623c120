import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fail } from '../../core/errors.ts';
import type { Privilege } from '../../format/acl-config.ts';
import type { RouteContext } from '../router.ts';
import { sectionListRoute } from './section-list.ts';

/** An auth that grants `priv` on the listed paths only. */
const grants = (paths: readonly string[]) => ({
  checkPrivilege: async (authId: string, path: string, privs: readonly Privilege[]): Promise<void> => {
    if (!paths.includes(path)) throw fail('FORBIDDEN', `permission check failed: '${authId}' lacks ${privs.join(', ')} on '${path}'`, { path });
  },
});

const call = (handler: (ctx: RouteContext) => unknown, authId: string): Promise<unknown> => Promise.resolve(handler({ params: {}, args: {}, authId } as unknown as RouteContext));
const sections = async () => [{ name: 'a' }, { name: 'b' }, { name: 'c' }];

test('sectionListRoute perSection: any caller may list and sees only the sections it may audit', async () => {
  const route = sectionListRoute({ path: '/api2/json/config/x', sections, priv: 'Datastore.Audit', acl: { perSection: (s) => `/x/${s.name}`, auth: grants(['/x/a', '/x/c']) }, show: (s) => s.name });
  assert.equal(route.method, 'GET');
  assert.equal(route.privilege?.({ params: {}, args: {}, authId: 'u@pbs' }), null);
  assert.deepEqual(await call((c) => route.handler(c), 'u@pbs'), ['a', 'c']);
});

test('sectionListRoute perSection: a caller without the privilege anywhere gets an empty list, not a refusal', async () => {
  const route = sectionListRoute({ path: '/p', sections, priv: 'Remote.Audit', acl: { perSection: (s) => `/remote/${s.name}`, auth: grants([]) }, show: (s) => s });
  assert.deepEqual(await call((c) => route.handler(c), 'nobody@pbs'), []);
});

test('sectionListRoute shared: the route needs the privilege on the one path, and shows every section', async () => {
  const route = sectionListRoute({ path: '/p', sections, priv: 'Sys.Audit', acl: { shared: '/system/s3-endpoint' }, show: (s) => s.name });
  assert.deepEqual(route.privilege?.({ params: {}, args: {}, authId: 'u@pbs' }), { path: '/system/s3-endpoint', privs: ['Sys.Audit'] });
  assert.deepEqual(await call((c) => route.handler(c), 'u@pbs'), ['a', 'b', 'c']);
});
