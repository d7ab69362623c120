/**
 * The web UI, driven as a person would: headless Chromium against a real server on loopback with
 * snapshots made through the real backup path. It logs in from the keyboard, reads the dashboard,
 * edits notes (a hostile value shows as text), previews and applies a prune, protects, forgets, changes the
 * sync level, runs GC and follows its log to the end, reads the usage chart, browses a pxar
 * snapshot to a file and downloads it (the same bytes), filters tasks, creates a token (whose
 * secret then works against the API) and a permission, adds and removes an S3 endpoint and
 * notification targets, reads the benchmark tables, and logs out. The same pages at 390 and 360
 * px must not scroll sideways. Screenshots go to $HOLDFAST_SCREENSHOTS (docs/ui/ holds a set made
 * this way: docs/web-ui.md) or a temp dir.
 *
 * Needs the web UI build (`npm run build`; `npm test` builds first) and /usr/bin/chromium (Debian
 * package `chromium`; .ci/run installs it); skips with the reason without them, except in CI,
 * where a missing build fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { silentLogger } from '../../src/core/log.ts';
import { quoteGroupFilters } from '../../src/format/sync-job-config.ts';
import { startHoldfastServer, type HoldfastServer } from '../../src/server/holdfast-server.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { cleanEnv, describeCli, runCli } from '../helpers/server-fixture.ts';
import { chartGeometry, datastoreCreateParams, lastTaskById, parseQuotedList, seg, withTuning } from '../../web/src/format.js';
import { go, keyboardLogin as loginWith, launchChromium, NEEDS_BROWSER, NEEDS_BUILD, notice, openPage as openAt, sidewaysOverflow } from '../helpers/web-browser.ts';

const T0 = 1_800_000_000 - 86_400;
const T1 = 1_800_000_000;
const T2 = T1 + 86_400;
const NEW_PASSWORD = 'changed-in-the-ui';

/** The file the browser test downloads from a pxar snapshot (host/files, a split archive). */
const PXAR_FILE = pseudoRandom(300_000, 9);

interface Rig {
  readonly hs: HoldfastServer;
  readonly base: string;
  readonly browser: Browser;
  readonly shots: string;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = makeTempDir();
  const hs = await startHoldfastServer({ configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false, defaultDatastorePath: join(dir, 'data', 'default') });
  const store = await hs.registry.get('default', 'read');
  await backupChunks(store, { ns: '', type: 'host', id: 'webtest', time: T0 }, [pseudoRandom(30_000, 3)]);
  await backupChunks(store, { ns: '', type: 'host', id: 'webtest', time: T1 }, [pseudoRandom(50_000, 1)]);
  await backupChunks(store, { ns: '', type: 'host', id: 'webtest', time: T2 }, [pseudoRandom(50_000, 1), pseudoRandom(20_000, 2)]);
  await pxarBackup(hs, dir);
  const browser = await launchChromium();
  const shots = process.env['HOLDFAST_SCREENSHOTS'] ?? join(dir, 'shots');
  mkdirSync(shots, { recursive: true });
  return {
    hs,
    base: `https://127.0.0.1:${hs.server.port}`,
    browser,
    shots,
    async close() {
      await browser.close();
      await hs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A directory backed up by the real CLI as host/files (split archive root.mpxar.didx). */
async function pxarBackup(hs: HoldfastServer, dir: string): Promise<void> {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'readme.txt'), 'pxar snapshot for the browser test\n');
  writeFileSync(join(src, 'sub', 'data.bin'), PXAR_FILE);
  const env = cleanEnv({
    HOLDFAST_CONFIG_DIR: join(dir, 'cfg'),
    HOLDFAST_REPOSITORY: `127.0.0.1:${hs.server.port}:default`,
    HOLDFAST_PASSWORD: hs.firstStart.adminPassword ?? '',
    HOLDFAST_FINGERPRINT: hs.server.fingerprint,
  });
  const r = await runCli(['backup', `root.pxar:${src}`, '--backup-id', 'files', '--backup-time', String(T1)], env);
  assert.equal(r.code, 0, describeCli(r));
}

/** A page that records script errors and CSP violations; both must stay empty. */
const openPage = (r: Rig, width: number, height: number): Promise<{ page: Page; problems: string[] }> => openAt(r.browser, r.base, width, height);

/** Logs in from the keyboard only: type, Tab, type, Enter. */
const keyboardLogin = (r: Rig, page: Page, password = r.hs.firstStart.adminPassword ?? ''): Promise<void> => loginWith(page, password);

test('the server serves the built web UI with a strict CSP: index.html no-cache, hashed assets immutable', { skip: NEEDS_BUILD }, async () => {
  const dir = makeTempDir();
  const hs = await startHoldfastServer({ configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false });
  try {
    const get = (p: string) => fetchInsecure(`https://127.0.0.1:${hs.server.port}${p}`);
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(page.body, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const assets = [...page.body.matchAll(/(?:src|href)="(\/web\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `index names its assets: ${assets.join(' ')}`);
    for (const a of assets) {
      const r = await get(a);
      assert.equal(r.status, 200, a);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    assert.equal((await get('/web/assets/nope.js')).status, 404);
    assert.equal((await get('/web/assets/..%2Fsrc%2Fmain.jsx')).status, 404);
  } finally {
    await hs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web UI on a desktop: every page works, from login to logout', { skip: NEEDS_BROWSER, timeout: 180_000 }, async (t) => {
  const r = await rig();
  try {
    const { page, problems } = await openPage(r, 1280, 900);
    const shot = (name: string) => page.screenshot({ path: join(r.shots, `desktop-${name}.png`), fullPage: true });
    await t.test('logs in from the keyboard and sets the HttpOnly ticket cookie', async () => {
      await keyboardLogin(r, page);
      const cookies = (await page.context().cookies()).filter((c) => c.name.endsWith('PBSAuthCookie'));
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0]?.httpOnly, true);
    });
    await t.test('keyboard: after a reload (still logged in) the first Tab reaches the skip link; a navigation link opens its page with Enter', async () => {
      await page.reload(); // the session survives a reload (sessionStorage + cookie)
      await page.locator('#logout').waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
      await page.focus('nav a[href="#/tasks"]');
      await page.keyboard.press('Enter');
      await page.locator('nav a[aria-current=page]', { hasText: 'Tasks' }).waitFor();
      await page.locator('form.filters').waitFor();
      await go(page, '#/dashboard');
    });
    await t.test('dashboard: the datastore with its sync level, promise and no GC yet', () => dashboardBeforeGc(r, page));
    await t.test('dashboard: Refresh reloads every card', async () => {
      await r.hs.registry.admin.update('default', { tuning: 'sync-level=none' });
      await r.hs.registry.get('default', 'read');
      await page.click('button.refresh');
      await page.locator('article.card dd.sync-level', { hasText: /^none/ }).waitFor();
    });
    await shot('dashboard');
    await t.test('content: notes (hostile text stays text), prune preview then prune, protect, forget, verify', () => contentPage(page));
    await shot('content');
    await t.test('content: browse a pxar snapshot to a file and download it (the same bytes)', () => browseAndDownload(page, () => shot('files')));
    await t.test('content: namespaces are created by path and an empty one deleted; a missing parent is refused', () => namespaces(r, page));
    await t.test('content: a group is handed to another owner (an unknown one is refused), moved to a namespace and back, then removed', () => changeOwner(r, page));
    await t.test('options: the sync level changes on the server', () => optionsPage(r, page));
    await shot('options');
    await t.test('GC starts from the dashboard and its log is followed to the end', () => gcAndLog(page, () => shot('task-log')));
    await t.test('dashboard: the usage chart shows what the server sampled', () => usageChart(r, page));
    await shot('dashboard');
    await t.test('tasks: the list shows the GC and the type filter works', () => tasksPage(page));
    await shot('tasks');
    await t.test('access: a token is created, its secret shown once and accepted by the API; a permission is granted', () => accessPage(r, page));
    await shot('access');
    await t.test('datastores: one is added (sync level file), listed, removed keeping its data, re-added with reuse, then destroyed', () => datastoresPage(r, page));
    await shot('datastores');
    await t.test('S3 endpoints: one is added (its secret never shown) and removed', () => s3Page(page));
    await shot('s3');
    await t.test('notifications: a webhook target and a matcher are added and removed', () => notificationsPage(page));
    await t.test('benchmarks: the sync-level tables of the results directory', () => benchmarksPage(page));
    await shot('benchmarks');
    await t.test('ConfigPage: every page but the dashboard and tasks opens with its heading, then its intro where it has one', () => pageFrames(page));
    await t.test('logout clears the HttpOnly cookie through the server, revokes the ticket and shows the login form', async () => {
      const ticket = (await page.context().cookies()).find((c) => c.name.endsWith('PBSAuthCookie'))?.value ?? '';
      assert.equal((await fetchInsecure(`${r.base}/api2/json/access/users`, { cookie: `PBSAuthCookie=${ticket}` })).status, 200);
      await page.click('#logout');
      await page.locator('#login').waitFor();
      assert.deepEqual((await page.context().cookies()).filter((c) => c.name.endsWith('PBSAuthCookie')), []);
      assert.equal(await page.evaluate("sessionStorage.getItem('holdfast')"), null);
      assert.equal((await fetchInsecure(`${r.base}/api2/json/access/users`, { cookie: `PBSAuthCookie=${ticket}` })).status, 401, 'the ticket no longer works');
    });
    await t.test('the password changed on the access page logs in', async () => {
      await keyboardLogin(r, page, NEW_PASSWORD);
      await page.click('#logout');
      await page.locator('#login').waitFor();
    });
    assert.deepEqual(problems, []);
  } finally {
    await r.close();
  }
});

async function dashboardBeforeGc(r: Rig, page: Page): Promise<void> {
  const card = page.locator('article.card[data-store="default"]');
  await card.locator('dd.sync-level').waitFor();
  // what a client needs: the repository string and the fingerprint to pin, ready to paste
  assert.equal(await card.locator('dd.repository').textContent(), `admin@pbs@127.0.0.1:${r.hs.server.port}:default`);
  assert.equal(await page.locator('.connection pre.fingerprint').textContent(), `export HOLDFAST_FINGERPRINT=${r.hs.server.fingerprint}`);
  assert.match((await card.locator('dd.sync-level').textContent()) ?? '', /^filesystem\s*One filesystem sync per backup/);
  assert.match((await card.textContent()) ?? '', /unknown until the first GC/);
  assert.match((await card.textContent()) ?? '', /Last GC\s*never/);
}

async function contentPage(page: Page): Promise<void> {
  await go(page, '#/content/default');
  await page.click('li.group[data-group="host/webtest"] summary');
  const row = (t: string) => page.locator(`tr[data-snapshot="host/webtest/${t}"]`);
  const newer = row('2027-01-16T08:00:00Z');
  const older = row('2027-01-15T08:00:00Z');
  await newer.waitFor();
  assert.match((await newer.textContent()) ?? '', /data\.didx/);
  assert.match((await newer.textContent()) ?? '', /not verified/);

  const hostile = `<img src=x onerror="document.title='owned'">`;
  await newer.locator('button.edit-notes').click();
  await page.fill('textarea[name=notes]', `${hostile}\nsecond line`);
  await page.click('form.notes button[type=submit]');
  await notice(page, 'Notes saved');
  await newer.locator('.comment', { hasText: hostile }).waitFor();
  assert.equal(await page.locator('table.snapshots img').count(), 0, 'notes render as text');
  assert.notEqual(await page.title(), 'owned');

  await page.fill('form.prune input[name=keep-last]', '2');
  await page.click('form.prune button[type=submit]');
  await page.locator('.prune-summary', { hasText: '2 kept, 1 would be removed' }).waitFor();
  await page.click('button.prune-apply');
  await page.click('button:has-text("Really remove the snapshots marked remove?")');
  await notice(page, 'Pruned');
  await row('2027-01-14T08:00:00Z').waitFor({ state: 'detached' });
  await page.locator('li.group[data-group="host/webtest"] summary', { hasText: '2 snapshots' }).waitFor();

  await newer.locator('button', { hasText: 'Protect' }).click();
  await notice(page, 'Snapshot protected');
  await newer.locator('td', { hasText: /^yes$/ }).waitFor();

  await older.locator('button.forget').click();
  await older.locator('button', { hasText: 'Really forget this snapshot?' }).click();
  await notice(page, 'Snapshot removed');
  await older.waitFor({ state: 'detached' });
  await page.locator('li.group[data-group="host/webtest"] summary', { hasText: '1 snapshots' }).waitFor();

  await newer.locator('button.verify').click();
  await page.locator('#task-state', { hasText: 'Finished: OK' }).waitFor({ timeout: 60_000 });
  await go(page, '#/content/default');
  await page.click('li.group[data-group="host/webtest"] summary');
  await newer.locator('.badge', { hasText: /^ok$/ }).waitFor();
}

async function browseAndDownload(page: Page, shot: () => Promise<unknown>): Promise<void> {
  await go(page, '#/content/default');
  await page.click('li.group[data-group="host/files"] summary');
  const row = page.locator('tr[data-snapshot="host/files/2027-01-15T08:00:00Z"]');
  await row.locator('button.browse').click();
  const files = page.locator('section.files');
  await files.locator('tr[data-entry="readme.txt"]').waitFor();
  await files.locator('tr[data-entry="sub"] button.open-dir').click();
  const entry = files.locator('tr[data-entry="data.bin"]');
  await entry.waitFor();
  assert.match((await entry.textContent()) ?? '', /293\.0 KiB/);
  await shot();
  const [download] = await Promise.all([page.waitForEvent('download'), entry.locator('a.download').click()]);
  assert.equal(download.suggestedFilename(), 'data.bin');
  const saved = await download.path();
  assert.ok(readFileSync(saved).equals(Buffer.from(PXAR_FILE)), 'the downloaded file has the backed-up bytes');
  await files.locator('nav.crumbs button', { hasText: 'root.mpxar.didx' }).click();
  await files.locator('tr[data-entry="readme.txt"]').waitFor();
}

async function namespaces(r: Rig, page: Page): Promise<void> {
  await go(page, '#/content/default');
  const listed = async (): Promise<string[]> => (await r.hs.registry.get('default', 'read')).listNamespaces();
  const create = async (path: string): Promise<void> => {
    await page.fill('form.ns-create input[name=ns]', path);
    await page.click('form.ns-create button[type=submit]');
  };
  await create('dept');
  await notice(page, 'Namespace dept created');
  await create('dept/web');
  await page.locator('li.ns[data-ns="dept/web"]').waitFor();
  assert.deepEqual(await listed(), ['', 'dept', 'dept/web']);
  await create('nope/x');
  await notice(page, /parent namespace 'nope' does not exist/);
  assert.deepEqual(await listed(), ['', 'dept', 'dept/web']);

  const web = page.locator('li.ns[data-ns="dept/web"]');
  await web.locator('summary').click();
  await web.locator('button.ns-delete').click();
  await web.locator('button.danger').click();
  await notice(page, 'Namespace dept/web deleted');
  await page.locator('li.ns[data-ns="dept/web"]').waitFor({ state: 'detached' });
  assert.deepEqual(await listed(), ['', 'dept']);
  assert.equal(await page.locator('li.ns[data-ns=""] button.ns-delete').count(), 0, 'the root namespace cannot be deleted');
}

async function changeOwner(r: Rig, page: Page): Promise<void> {
  await r.hs.auth.users.create('ops@pbs');
  await (await r.hs.registry.get('default', 'write')).setGroupNotes({ ns: '', type: 'host', id: 'webtest' }, 'web test group\nmore');
  await go(page, '#/content/default');
  await page.reload(); // the page may show the content already, read before the notes were set
  const group = page.locator('li.group[data-group="host/webtest"]');
  await group.locator('.group-comment', { hasText: 'web test group' }).waitFor(); // the notes' first line
  await group.locator('summary').click();
  await group.locator('button.edit-group-notes').click();
  assert.equal(await group.locator('form.notes textarea').inputValue(), 'web test group\nmore');
  await group.locator('form.notes textarea').fill('renamed group\nline two');
  await group.locator('form.notes button[type=submit]').click();
  await notice(page, 'Notes saved');
  await group.locator('.group-comment', { hasText: 'renamed group' }).waitFor();
  assert.equal(await (await r.hs.registry.get('default', 'read')).getGroupNotes({ ns: '', type: 'host', id: 'webtest' }), 'renamed group\nline two');
  await group.locator('summary', { hasText: 'owner ' }).waitFor();
  if ((await group.locator('details').getAttribute('open')) === null) await group.locator('summary').click(); // it may be open still
  const setOwner = async (owner: string): Promise<void> => {
    await group.locator('form.change-owner input[name=new-owner]').fill(owner);
    await group.locator('form.change-owner button[type=submit]').click();
  };
  await setOwner('ghost@pbs');
  await notice(page, /ghost@pbs' does not exist or is not active/);
  await setOwner('ops@pbs');
  await notice(page, 'The group now belongs to ops@pbs');
  await group.locator('summary', { hasText: 'owner ops@pbs' }).waitFor();
  const store = await r.hs.registry.get('default', 'read');
  assert.equal(await store.getOwner({ ns: '', type: 'host', id: 'webtest' }), 'ops@pbs');

  // moved to namespace dept (a task, followed to its end) and shown there; then back to the root
  await group.locator('form.move-group select[name=target-ns]').selectOption('dept');
  await group.locator('form.move-group button[type=submit]').click();
  await notice(page, /host\/webtest: \d+ snapshots moved to dept/);
  assert.deepEqual((await store.listGroups('dept')).map((g) => g.id), ['webtest']);
  await page.locator('li.ns[data-ns="dept"] > details > summary').click();
  const inDept = page.locator('li.ns[data-ns="dept"] li.group[data-group="host/webtest"]');
  await inDept.locator('summary').click();
  await inDept.locator('form.move-group select[name=target-ns]').selectOption('');
  await inDept.locator('form.move-group button[type=submit]').click();
  await notice(page, /host\/webtest: \d+ snapshots moved to the root namespace/);
  await group.waitFor();
  assert.deepEqual(await store.listGroups('dept'), []);
  if ((await group.locator('details').getAttribute('open')) === null) await group.locator('summary').click();

  // the one snapshot left is protected (contentPage): it stays, and keeps the group; unprotected, it goes
  await group.locator('button.group-remove').click();
  await group.locator('button.danger').click();
  await notice(page, 'host/webtest: 1 protected snapshots kept, with the group');
  await group.locator('button', { hasText: 'Unprotect' }).click();
  await notice(page, 'Protection removed');
  await group.locator('button.group-remove').click();
  await group.locator('button.danger').click();
  await notice(page, 'Group host/webtest removed');
  await group.waitFor({ state: 'detached' });
  assert.deepEqual((await store.listGroups('')).map((g) => g.id), ['files']);
}

async function optionsPage(r: Rig, page: Page): Promise<void> {
  await go(page, '#/options/default');
  await page.check('input[name=sync-level][value=file]');
  await page.fill('input[name=keep-last]', '3');
  await page.fill('input[name=verify-schedule]', 'sat 03:00');
  await page.click('form.options button[type=submit]');
  await notice(page, 'Options saved');
  const cfg = await r.hs.registry.config('default');
  assert.match(cfg.props.get('tuning') ?? '', /sync-level=file/);
  assert.equal(cfg.props.get('keep-last'), '3');
  assert.equal(cfg.props.get('verify-schedule'), 'sat 03:00');

  // a schedule that is no calendar event is refused with the server's reason, and nothing changes
  await go(page, '#/options/default');
  await page.fill('input[name=gc-schedule]', 'every full moon');
  const refused = page.waitForResponse((x) => x.request().method() === 'PUT' && x.url().includes('/config/datastore/default'));
  await page.click('form.options button[type=submit]');
  assert.equal((await refused).status(), 400);
  await notice(page, /gc-schedule 'every full moon' is not a calendar event/);
  assert.equal((await r.hs.registry.config('default')).props.get('gc-schedule'), undefined);
  await page.fill('input[name=gc-schedule]', ''); // the form keeps what was typed
  assert.equal((await r.hs.registry.get('default', 'read')).syncLevel, 'file');

  // maintenance mode: read-only with a message (quoted: it holds a comma), then back to none
  await go(page, '#/options/default');
  await page.check('input[name=maintenance-type][value=read-only]');
  await page.fill('input[name=maintenance-message]', 'disks, then cables');
  await saveOptions(page);
  assert.equal((await r.hs.registry.config('default')).props.get('maintenance-mode'), 'type=read-only,message="disks, then cables"');
  await assert.rejects(r.hs.registry.get('default', 'write'), /read-only for maintenance: disks, then cables/);
  await go(page, '#/options/default');
  assert.equal(await page.inputValue('input[name=maintenance-message]'), 'disks, then cables');
  await page.check('input[name=maintenance-type][value=""]');
  await saveOptions(page);
  assert.equal((await r.hs.registry.config('default')).props.get('maintenance-mode'), undefined);
}

/**
 * Saves the options form and waits for the server's answer to its PUT (the "Options saved" notice
 * of an earlier save may still be showing, so it cannot tell this save apart).
 */
async function saveOptions(page: Page): Promise<void> {
  const answered = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/config/datastore/default'));
  await page.click('form.options button[type=submit]');
  assert.equal((await answered).status(), 200);
}

async function gcAndLog(page: Page, shot: () => Promise<unknown>): Promise<void> {
  await go(page, '#/dashboard');
  const card = page.locator('article.card[data-store="default"]');
  await card.locator('dd.sync-level', { hasText: /^file/ }).waitFor();
  await card.locator('button.start-gc').click();
  await page.locator('#task-state', { hasText: 'Finished: OK' }).waitFor({ timeout: 60_000 });
  assert.match((await page.textContent('#task-log')) ?? '', /phase 2 done/);
  await shot();
  await go(page, '#/dashboard');
  await card.locator('dd.stored', { hasText: /chunks/ }).waitFor();
  assert.match((await card.locator('dd.dedup').textContent()) ?? '', /^\d+\.\d\d$/);
  assert.match((await card.textContent()) ?? '', /Last GC\s*OK/);
}

async function usageChart(r: Rig, page: Page): Promise<void> {
  await r.hs.usage.sampleNow();
  await page.click('button.refresh');
  const chart = page.locator('article.card[data-store="default"] figure.usage-chart');
  await chart.locator('.chart-summary', { hasText: /^Latest \d.* from 1 samples\.$/ }).waitFor();
  assert.equal(await chart.locator('svg[role=img] circle.dot').count(), 1);
  await chart.locator('select[name=chart-field]').selectOption('chunks');
  await chart.locator('select[name=chart-frame]').selectOption('hour');
  await chart.locator('svg title', { hasText: 'Chunks, last hour' }).waitFor({ state: 'attached' });
}

async function datastoresPage(r: Rig, page: Page): Promise<void> {
  const path = join(dirname((await r.hs.registry.config('default')).path), 'web2');
  const add = async (reuse: boolean): Promise<void> => {
    await go(page, '#/stores');
    assert.equal(await page.inputValue('#datastore-form select[name=sync-level]'), 'filesystem', 'the default sync level is preselected');
    await page.fill('#datastore-form input[name=name]', 'web2');
    await page.fill('#datastore-form input[name=path]', path);
    await page.selectOption('#datastore-form select[name=sync-level]', 'file');
    await page.fill('#datastore-form input[name=comment]', 'from the web UI');
    if (reuse) await page.check('#datastore-form input[name=reuse-datastore]');
    await page.click('#datastore-form button[type=submit]');
    await notice(page, 'Datastore web2 added');
  };
  await add(false);
  const row = page.locator('table.datastores tr[data-name="web2"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /web2.*data\/web2.*file.*this directory.*from the web UI/);
  const cfg = await r.hs.registry.config('web2');
  assert.match(cfg.props.get('tuning') ?? '', /sync-level=file/);
  assert.ok(existsSync(join(path, '.chunks')), 'the chunk store was built');

  // a second one of the same name is refused with the server's reason
  await page.fill('#datastore-form input[name=name]', 'web2');
  await page.fill('#datastore-form input[name=path]', `${path}-other`);
  await page.click('#datastore-form button[type=submit]');
  await notice(page, /Failed: .*web2/);

  // removed from the configuration, the data stays and can be attached again
  await row.locator('button.remove').click();
  await row.locator('button.danger').click();
  await notice(page, 'Datastore web2 removed');
  await row.waitFor({ state: 'detached' });
  assert.ok(existsSync(join(path, '.chunks')), 'a plain remove keeps the data');
  await add(true);
  await row.waitFor();

  // destroy: the data goes too
  await row.locator('button.destroy').click();
  const destroyed = page.waitForResponse((x) => x.request().method() === 'DELETE' && x.url().includes('/config/datastore/web2'));
  await row.locator('button.danger').click();
  const answer = await destroyed;
  assert.equal(answer.status(), 200, await answer.text());
  await row.waitFor({ state: 'detached' });
  assert.equal(existsSync(path), false, 'destroy removes the directory tree');
  await assert.rejects(r.hs.registry.config('web2'));
}

async function s3Page(page: Page): Promise<void> {
  await go(page, '#/s3');
  await page.fill('#s3-form input[name=id]', 'rgw1');
  await page.fill('#s3-form input[name=endpoint]', 'http://127.0.0.1:7480');
  await page.fill('#s3-form input[name=access-key]', 'AKIAWEBUI');
  await page.fill('#s3-form input[name=secret-key]', 'secret-never-shown');
  await page.check('#s3-form input[name=path-style]');
  await page.click('#s3-form button[type=submit]');
  await notice(page, 'S3 endpoint added');
  const row = page.locator('table.s3-endpoints tr[data-id="rgw1"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /http:\/\/127\.0\.0\.1:7480.*AKIAWEBUI.*us-east-1.*yes/);
  assert.doesNotMatch((await page.content()).replace(/value="[^"]*"/g, ''), /secret-never-shown/);
  await row.locator('button', { hasText: 'Remove' }).click();
  await row.locator('button', { hasText: 'Really remove S3 endpoint rgw1?' }).click();
  await notice(page, 'S3 endpoint removed');
  await row.waitFor({ state: 'detached' });
}

async function notificationsPage(page: Page): Promise<void> {
  await go(page, '#/notifications');
  await page.fill('#target-form input[name=name]', 'ops');
  await page.fill('#target-form input[name=url]', 'https://hooks.example/holdfast');
  await page.fill('#target-form input[name=secret]', 'Bearer hidden');
  await page.click('#target-form button[type=submit]');
  await notice(page, 'Target added');
  const target = page.locator('ul.targets li[data-name="ops"]');
  await target.locator('.badge', { hasText: 'secret stored' }).waitFor();
  await page.fill('#matcher-form input[name=name]', 'failures');
  await page.check('#matcher-form input[name=match-severity][value=error]');
  await page.check('#matcher-form input[name=target][value=ops]');
  await page.click('#matcher-form button[type=submit]');
  await notice(page, 'Matcher added');
  const matcher = page.locator('ul.matchers li[data-name="failures"]');
  await matcher.filter({ hasText: 'error · any task → ops' }).waitFor();
  await matcher.locator('button', { hasText: 'Remove' }).click();
  await matcher.locator('button', { hasText: 'Really remove failures?' }).click();
  await matcher.waitFor({ state: 'detached' });
  await target.locator('button', { hasText: 'Remove' }).click();
  await target.locator('button', { hasText: 'Really remove ops?' }).click();
  await target.waitFor({ state: 'detached' });
}

async function benchmarksPage(page: Page): Promise<void> {
  await go(page, '#/benchmarks');
  const report = page.locator('article.sync-level-report').first();
  await report.locator('table.bench-table th', { hasText: 'filesystem' }).first().waitFor();
  assert.match((await report.locator('table.bench-table').first().textContent()) ?? '', /\d+\.\d\d s/);
  assert.ok((await report.locator('svg.bars[role=img] rect.bar').count()) >= 3, 'a bar per sync level');
}

/** The frame ConfigPage draws: main > section > h2, and the intro (p.muted) right after it. */
async function pageFrames(page: Page): Promise<void> {
  const frames: readonly (readonly [string, string, RegExp | null])[] = [
    ['#/content/default', 'Content', null],
    ['#/options/default', 'Options', null],
    ['#/access', 'Access', null],
    ['#/remotes', 'Remotes', /^Other servers \(Holdfast or PBS\)/],
    ['#/sync', 'Sync jobs', /^A pull copies snapshots/],
    ['#/stores', 'Datastores', /^Where backups are kept/],
    ['#/s3', 'S3 endpoints', /^Object stores a datastore/],
    ['#/notifications', 'Notifications', null],
    ['#/benchmarks', 'Benchmarks', /^Results in the server's benchmark/],
  ];
  for (const [hash, title, intro] of frames) {
    await go(page, hash);
    const heading = page.locator('main > section > h2', { hasText: title });
    await heading.waitFor();
    assert.equal(await heading.textContent(), title, hash);
    if (intro) assert.match((await page.locator('main > section > h2 + p.muted').textContent()) ?? '', intro, hash);
  }
}

async function tasksPage(page: Page): Promise<void> {
  await go(page, '#/tasks');
  await page.locator('table.tasks td', { hasText: 'garbage_collection default' }).waitFor();
  await page.locator('table.tasks td', { hasText: /^verify default/ }).waitFor();
  await page.selectOption('select[name=typefilter]', 'prunejob');
  await page.locator('main', { hasText: 'No tasks.' }).waitFor();
  await page.selectOption('select[name=typefilter]', 'garbage_collection');
  await page.locator('table.tasks td', { hasText: 'garbage_collection default' }).waitFor();
  assert.equal(await page.locator('table.tasks td', { hasText: /^verify/ }).count(), 0);
}

async function accessPage(r: Rig, page: Page): Promise<void> {
  await go(page, '#/access');
  await page.fill('#token-form input[name=name]', 'ui');
  await page.click('#token-form button[type=submit]');
  const secret = await page.locator('#token-secret').inputValue();
  assert.match(secret, /^[0-9a-f-]{36}$/);
  const api = await fetchInsecure(`${r.base}/api2/json/access/users`, { authorization: `PBSAPIToken admin@pbs!ui:${secret}` });
  assert.equal(api.status, 200, 'the shown secret authenticates');
  await page.locator('ul.tokens li', { hasText: 'admin@pbs!ui' }).waitFor();

  await page.fill('input[name=path]', '/datastore/default');
  await page.fill('input[name=auth-id]', 'admin@pbs!ui');
  await page.selectOption('select[name=role]', 'DatastoreAudit');
  await page.click('button:has-text("Grant")');
  await notice(page, 'Permission granted');
  await page.locator('table.acl tr', { hasText: 'DatastoreAudit' }).waitFor();
  await go(page, '#/dashboard');
  await go(page, '#/access');
  assert.equal(await page.locator('#token-secret').count(), 0, 'the secret is not shown again');

  await page.fill('#password-form input[name=current-password]', 'wrong');
  await page.fill('#password-form input[name=new-password]', NEW_PASSWORD);
  await page.click('#password-form button[type=submit]');
  await notice(page, /Failed: the current password does not match/);
  await page.fill('#password-form input[name=current-password]', r.hs.firstStart.adminPassword ?? '');
  await page.click('#password-form button[type=submit]');
  await notice(page, 'Password changed');
}

test('web UI at phone widths: every page fits without sideways scrolling', { skip: NEEDS_BROWSER, timeout: 180_000 }, async (t) => {
  const r = await rig();
  try {
    for (const width of [390, 360]) {
      await t.test(`${width} px`, async () => {
        const { page, problems } = await openPage(r, width, 800);
        await keyboardLogin(r, page);
        for (const [hash, ready] of [
          ['#/dashboard', 'article.card dd.sync-level'],
          ['#/content/default', 'li.group summary'],
          ['#/options/default', 'form.options'],
          ['#/tasks', 'form.filters'],
          ['#/access', '#token-form'],
          ['#/stores', '#datastore-form'],
          ['#/s3', '#s3-form'],
          ['#/notifications', '#matcher-form'],
          ['#/benchmarks', 'article.bench'],
        ] as const) {
          await go(page, hash);
          await page.locator(ready).first().waitFor();
          if (hash === '#/content/default') {
            await page.click('li.group summary');
            await page.locator('table.snapshots').waitFor();
          }
          const overflow = await sidewaysOverflow(page);
          assert.equal(overflow, 0, `${hash} at ${width} px overflows by ${overflow} px`);
          if (width === 390) await page.screenshot({ path: join(r.shots, `phone-${hash.split('/')[1] ?? ''}.png`), fullPage: true });
        }
        assert.deepEqual(problems, []);
        await page.context().close();
      });
    }
  } finally {
    await r.close();
  }
});

test('web UI chartGeometry() scales to a clean top, breaks the line at gaps and skips unknown values', () => {
  const points = [{ time: 0, used: 10 }, { time: 60, used: 30 }, { time: 120 }, { time: 600, used: 40 }] as ({ time: number } & Record<string, number>)[];
  const g = chartGeometry(points, 'used', 0, 600, 600, 100, 120);
  assert.equal(g.top, 50);
  assert.equal(g.count, 3);
  assert.equal(g.d, 'M0 80 L60 40 M600 20');
  assert.deepEqual(chartGeometry([], 'used', 0, 600, 600, 100, 120), { d: '', top: 1, count: 0, dots: [] });
});

test('web UI datastoreCreateParams: the tuning only off the default level, backend only for S3, reuse as a flag', () => {
  assert.deepEqual(datastoreCreateParams({ name: ' s1 ', path: '/srv/s1', 'sync-level': 'filesystem', comment: '', 's3-endpoint': '' }), { name: 's1', path: '/srv/s1' });
  assert.deepEqual(datastoreCreateParams({ name: 's2', path: '/var/cache/s2', 'sync-level': 'file', comment: ' offsite ', 's3-endpoint': 'rgw1', bucket: ' backups ', 'reuse-datastore': 'on' }), {
    name: 's2',
    path: '/var/cache/s2',
    tuning: 'sync-level=file',
    comment: 'offsite',
    backend: 'type=s3,client=rgw1,bucket=backups',
    'reuse-datastore': 1,
  });
});

test('web UI seg() encodes a path part; withTuning() replaces one key and keeps the others', () => {
  assert.equal(seg('a/b?c#d e'), 'a%2Fb%3Fc%23d%20e');
  assert.equal(withTuning('chunk-order=inode,sync-level=none', 'sync-level', 'file'), 'chunk-order=inode,sync-level=file');
  assert.equal(withTuning(undefined, 'sync-level', 'file'), 'sync-level=file');
});

test('web UI parseQuotedList() reads the quoted group-filter list the sync job API returns, escapes included', () => {
  assert.deepEqual(parseQuotedList('"type:vm","exclude:group:vm/100"'), ['type:vm', 'exclude:group:vm/100']);
  assert.deepEqual(parseQuotedList('"regex:a,b\\"c\\\\d"'), ['regex:a,b"c\\d']);
  assert.deepEqual(parseQuotedList(undefined), []);
  assert.deepEqual(parseQuotedList(''), []);
  const filters = ['type:host', 'exclude:regex:^vm/1\\d+,"x"$'];
  assert.deepEqual(parseQuotedList(quoteGroupFilters(filters)), filters, 'the server quotes, the UI reads back');
});

test('web UI lastTaskById() keeps the newest task of each worker id and skips tasks without one', () => {
  const tasks = [
    { upid: 'a1', worker_id: 'a', starttime: 10 },
    { upid: 'b1', worker_id: 'b', starttime: 30 },
    { upid: 'a2', worker_id: 'a', starttime: 20 },
    { upid: 'x', worker_id: null, starttime: 40 },
  ];
  const last = lastTaskById(tasks);
  assert.deepEqual([...last].map(([id, t]) => [id, t.upid]), [['a', 'a2'], ['b', 'b1']]);
});

async function fetchInsecure(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

