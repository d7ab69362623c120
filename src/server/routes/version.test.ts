import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLDFAST_VERSION, versionRoute } from './version.ts';

test('versionRoute serves GET /api2/json/version to any authenticated caller', () => {
  const route = versionRoute();
  assert.equal(route.method, 'GET');
  assert.equal(route.path, '/api2/json/version');
  assert.equal(route.public, undefined);
  assert.equal(route.privilege?.({ params: {}, args: {}, authId: 'a@pbs' }), null);
  assert.deepEqual(Object.keys(HOLDFAST_VERSION).sort(), ['features', 'release', 'repoid', 'version']);
});
