import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isHoldfastError } from '../../core/errors.ts';
import { RawResponse, type Route, type RouteContext } from '../router.ts';
import { CONTENT_SECURITY_POLICY, webRoutes } from './web.ts';

const ctx = (params: Record<string, string>): RouteContext => ({ params, args: {}, authId: '' }) as unknown as RouteContext;

function call(routes: Route[], path: string, params: Record<string, string> = {}): RawResponse {
  const route = routes.find((r) => r.path === path);
  assert.ok(route?.public, `${path} is public`);
  const res = route.handler(ctx(params));
  assert.ok(res instanceof RawResponse);
  return res;
}

function withBuild(fn: (dir: URL) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-web-'));
  try {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/web/assets/a-1.js"></script>');
    writeFileSync(join(dir, 'assets', 'a-1.js'), 'export {};');
    writeFileSync(join(dir, 'assets', 'a-1.js.map'), '{}');
    fn(pathToFileURL(`${dir}/`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('webRoutes serves index.html no-cache and a hashed asset immutable, both under the CSP', () => {
  withBuild((dir) => {
    const routes = webRoutes(dir);
    const page = call(routes, '/');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(Buffer.from(page.body as Uint8Array).toString(), /a-1\.js/);
    const asset = call(routes, '/web/assets/{file}', { file: 'a-1.js' });
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  });
});

test('webRoutes answers NOT_FOUND for a name outside the build and for a file type it does not serve', () => {
  withBuild((dir) => {
    const routes = webRoutes(dir);
    for (const file of ['nope.js', 'a-1.js.map', '../index.html']) {
      assert.throws(() => call(routes, '/web/assets/{file}', { file }), (e: unknown) => isHoldfastError(e, 'NOT_FOUND'));
    }
  });
});

test('webRoutes without a build serves a page that says how to build, with no script', () => {
  const page = call(webRoutes(pathToFileURL(join(tmpdir(), 'holdfast-no-such-build/'))), '/');
  const body = Buffer.from(page.body as Uint8Array).toString();
  assert.match(body, /npm run build/);
  assert.doesNotMatch(body, /<script/);
});

test('CONTENT_SECURITY_POLICY allows no inline script, no eval and no framing', () => {
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-/);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
});
