/**
 * The web UI, driven as a person would: headless Chromium logs in with the first-start password
 * and sees the datastore, its sync level and a snapshot made through the real backup path.
 * Needs /usr/bin/chromium (Debian package `chromium`; .ci/run installs it) and skips without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { silentLogger } from '../../src/core/log.ts';
import { startHoldfastServer } from '../../src/server/holdfast-server.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';
// @ts-expect-error web/ is plain browser JavaScript without type declarations
import { esc, seg } from '../../web/html.js';

const CHROMIUM = '/usr/bin/chromium';

test('the server serves the web UI page and its assets without credentials', async () => {
  const dir = makeTempDir();
  const hs = await startHoldfastServer({ configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false });
  try {
    const get = (p: string) => fetchInsecure(`https://127.0.0.1:${hs.server.port}${p}`);
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<form id="login">/);
    assert.match((await get('/web/app.js')).body, /access\/ticket/);
    assert.equal((await get('/web/app.css')).status, 200);
    assert.match((await get('/web/html.js')).body, /export const esc/);
  } finally {
    await hs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web UI: log in, see the datastore with its sync level and a snapshot', { skip: existsSync(CHROMIUM) ? false : `needs ${CHROMIUM} (apt-get install chromium)`, timeout: 120_000 }, async () => {
  const dir = makeTempDir();
  const hs = await startHoldfastServer({ configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false, defaultDatastorePath: join(dir, 'data', 'default') });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const store = await hs.registry.get('default');
    await backupChunks(store, { ns: '', type: 'host', id: 'webtest', time: 1_800_000_000 }, [pseudoRandom(50_000, 1)]);
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`https://127.0.0.1:${hs.server.port}/`);
    await page.fill('input[name=password]', hs.firstStart.adminPassword ?? '');
    await page.click('button[type=submit]');
    await page.waitForSelector('#snapshots tbody td:has-text("host/webtest/")');
    assert.match(await page.textContent('#stores') ?? '', /default\s*sync-level filesystem/);
    assert.match(await page.textContent('#snapshots') ?? '', /host\/webtest\/2027-01-15T08:00:00Z/);
    const authCookies = async () => (await page.context().cookies()).filter((c) => c.name.endsWith('PBSAuthCookie'));
    assert.equal((await authCookies()).length, 1, 'the server set the HttpOnly ticket cookie');
    assert.equal((await authCookies())[0]?.httpOnly, true);
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    assert.deepEqual(await authCookies(), [], 'logout cleared the HttpOnly cookie through the server');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await hs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web UI esc() escapes both quotes and markup; seg() encodes a path part', () => {
  const escape = esc as (s: unknown) => string;
  const segment = seg as (s: unknown) => string;
  assert.equal(escape(`<a href='x' title="y">&</a>`), '&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;');
  assert.equal(escape(undefined), '');
  assert.equal(segment('a/b?c#d e'), 'a%2Fb%3Fc%23d%20e');
});

async function fetchInsecure(url: string): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
