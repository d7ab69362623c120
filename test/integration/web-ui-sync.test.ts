/**
 * The Remotes and Sync jobs pages of the web UI, driven in headless Chromium against two real
 * servers on loopback: `src` holds a snapshot, and in the browser on `dst` a remote pointing at
 * `src` (its fingerprint and admin password) is created and edited, a pull sync job is created
 * and edited (what the form sends is checked on the server), Run now is pressed from the keyboard
 * and the task's live log is followed to the end, the job's last run shows OK (and a job whose
 * remote store is missing, its error), removing the remote the jobs use shows the server's
 * refusal, and the pulled snapshot is listed on the content page.
 * Both pages at 390 and 360 px must not scroll sideways. Screenshots (desktop-remotes,
 * desktop-sync, phone-remotes, phone-sync) go to $HOLDFAST_SCREENSHOTS or a temp dir, as in
 * web-ui.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server-fixture.ts';
import { snap } from '../helpers/sync-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { go, keyboardLogin, launchChromium, NEEDS_BROWSER, notice, openPage, sidewaysOverflow } from '../helpers/web-browser.ts';

/** 2027-01-15T08:00:00Z, the snapshot the job pulls. */
const T = 1_800_000_000;
const SNAPSHOT = 'host/synced/2027-01-15T08:00:00Z';

test('web UI sync: a remote and a pull job made in the browser, Run now followed to the end, a failed run shown, the pulled snapshot listed', { skip: NEEDS_BROWSER, timeout: 240_000 }, async (t) => {
  const src = await startTestServer({ workerThreads: false });
  const dst = await startTestServer({ workerThreads: false });
  const browser = await launchChromium();
  const tmp = makeTempDir();
  const shots = process.env['HOLDFAST_SCREENSHOTS'] ?? tmp;
  mkdirSync(shots, { recursive: true });
  try {
    await snap(src, { ns: '', type: 'host', id: 'synced' }, T, [1, 2, 3]);
    const base = `https://127.0.0.1:${dst.port}`;
    const { page, problems } = await openPage(browser, base, 1280, 900);
    await keyboardLogin(page, dst.password);
    await t.test('remotes: one is created with the source fingerprint and password (never shown) and edited', () => remotesPage(page, src));
    await t.test('sync jobs: a pull job is created and edited; the server stores what the form says', () => syncJobForm(page, dst));
    await t.test('sync jobs: Run now (from the keyboard) shows the live log to the end; the last run is OK', () => runNow(page));
    await page.screenshot({ path: join(shots, 'desktop-sync.png'), fullPage: true });
    await t.test('sync jobs: a run that fails shows its error in the log and as the last run', () => failedRun(page, dst));
    await t.test('remotes: removing the remote a job uses shows the server refusal and keeps it', () => removeRemoteInUse(page));
    await page.screenshot({ path: join(shots, 'desktop-remotes.png'), fullPage: true });
    await t.test('content: the pulled snapshot is listed', async () => {
      await go(page, '#/content/default');
      await page.click('li.group[data-group="host/synced"] summary');
      await page.locator(`tr[data-snapshot="${SNAPSHOT}"]`).waitFor();
    });
    for (const width of [390, 360]) await t.test(`${width} px: both pages fit without sideways scrolling`, () => phone(browser, base, dst.password, width, shots));
    await t.test('sync jobs and remotes: the job and then the remote are removed', () => removeBoth(page));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await dst.close();
    await src.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

async function remotesPage(page: Page, src: TestServer): Promise<void> {
  await go(page, '#/remotes');
  await page.fill('#remote-form input[name=name]', 'src');
  await page.fill('#remote-form input[name=host]', '127.0.0.1');
  await page.fill('#remote-form input[name=port]', String(src.port));
  await page.fill('#remote-form input[name=auth-id]', 'admin@pbs');
  await page.fill('#remote-form input[name=password]', src.password);
  await page.fill('#remote-form input[name=fingerprint]', src.fingerprint);
  await page.click('#remote-form button[type=submit]');
  await notice(page, 'Remote added');
  const row = page.locator('table.remotes tr[data-name="src"]');
  await row.waitFor();
  const text = (await row.textContent()) ?? '';
  assert.ok(text.includes(`127.0.0.1:${src.port}`) && text.includes('admin@pbs') && text.includes(src.fingerprint), text);
  assert.ok(!(await page.content()).replace(/value="[^"]*"/g, '').includes(src.password), 'the password is never shown');

  await row.locator('button.edit').focus();
  await page.keyboard.press('Enter');
  await page.locator('h3', { hasText: 'Edit remote src' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement?.name'), 'host', 'Edit moves focus into the form');
  assert.equal(await page.inputValue('#remote-form input[name=password]'), '', 'an edit starts with an empty password (kept unless typed)');
  await page.fill('#remote-form input[name=comment]', 'the source');
  await page.click('#remote-form button[type=submit]');
  await notice(page, 'Remote saved');
  await row.locator('td', { hasText: 'the source' }).waitFor();
}

async function syncJobForm(page: Page, dst: TestServer): Promise<void> {
  await go(page, '#/sync');
  const form = page.locator('#sync-form');
  await form.locator('input[name=id]').fill('pull-src');
  await form.locator('select[name=remote]').selectOption('src');
  await form.locator('input[name=remote-store]').fill('default');
  await form.locator('textarea[name=group-filter]').fill('type:host');
  await form.locator('input[name=remove-vanished]').check();
  await form.locator('input[name=transfer-last]').fill('5');
  await form.locator('input[name=rate-in]').fill('100MiB');
  await form.locator('input[name=worker-threads]').fill('2');
  await form.locator('button[type=submit]').click();
  await notice(page, 'Sync job added');
  const row = page.locator('table.sync-jobs tr[data-id="pull-src"]');
  await row.locator('td', { hasText: 'never' }).waitFor();
  assert.match((await row.textContent()) ?? '', /pull.*default.*src \/ default.*manual/);
  const admin = await dst.admin();
  const stored = () => admin.get('config/sync/pull-src') as Promise<Record<string, unknown>>;
  assert.deepEqual(await stored(), {
    id: 'pull-src',
    store: 'default',
    remote: 'src',
    'remote-store': 'default',
    'group-filter': '"type:host"',
    'remove-vanished': 'true',
    'transfer-last': '5',
    'rate-in': String(100 * 1024 * 1024),
    'worker-threads': '2',
  });

  await row.locator('button.edit').focus();
  await page.keyboard.press('Enter');
  await page.locator('h3', { hasText: 'Edit sync job pull-src' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement?.name'), 'sync-direction', 'Edit moves focus into the form');
  assert.equal(await form.locator('textarea[name=group-filter]').inputValue(), 'type:host');
  assert.equal(await form.locator('input[name=remove-vanished]').isChecked(), true);
  await form.locator('textarea[name=group-filter]').fill('type:host\nexclude:group:host/other');
  await form.locator('input[name=transfer-last]').fill('');
  await form.locator('input[name=remove-vanished]').uncheck();
  await form.locator('input[name=comment]').fill('nightly copy');
  await form.locator('button[type=submit]').click();
  await notice(page, 'Sync job saved');
  await row.locator('.comment', { hasText: 'nightly copy' }).waitFor();
  const after = await stored();
  assert.equal(after['group-filter'], '"type:host","exclude:group:host/other"');
  assert.equal(after['transfer-last'], undefined, 'an emptied option is deleted');
  assert.equal(after['remove-vanished'], undefined, 'an unchecked flag is off');
  assert.equal(after['rate-in'], String(100 * 1024 * 1024), 'an unchanged option stays');
}

async function runNow(page: Page): Promise<void> {
  const row = page.locator('table.sync-jobs tr[data-id="pull-src"]');
  await row.locator('button.run').focus();
  await page.keyboard.press('Enter');
  await notice(page, 'Sync job pull-src started');
  await page.locator('#run-log-title', { hasText: 'Run of pull-src' }).waitFor();
  assert.equal(await page.evaluate('document.activeElement?.id'), 'run-log-title', 'focus moves to the log');
  await page.locator('#task-state', { hasText: 'Finished: OK' }).waitFor({ timeout: 120_000 });
  assert.match((await page.textContent('#task-log')) ?? '', /host\/synced.*: synced \(3 new chunks\)/);
  await row.locator('td.last-run .badge', { hasText: 'OK' }).waitFor();
}

async function failedRun(page: Page, dst: TestServer): Promise<void> {
  await (await dst.admin()).post('config/sync', { id: 'pull-missing', store: 'default', remote: 'src', 'remote-store': 'missing' });
  await go(page, '#/dashboard');
  await go(page, '#/sync');
  const row = page.locator('table.sync-jobs tr[data-id="pull-missing"]');
  await row.locator('button.run').click();
  await page.locator('#run-log-title', { hasText: 'Run of pull-missing' }).waitFor();
  await page.locator('#task-state .badge.failed').waitFor({ timeout: 120_000 });
  assert.match((await page.textContent('#task-state')) ?? '', /Finished: .*missing/);
  await row.locator('td.last-run .badge.failed').waitFor();
  await page.locator('table.sync-jobs tr[data-id="pull-src"] td.last-run .badge.ok').waitFor();
}

async function removeRemoteInUse(page: Page): Promise<void> {
  await go(page, '#/remotes');
  const row = page.locator('table.remotes tr[data-name="src"]');
  await row.locator('button', { hasText: 'Remove' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Really remove remote src?', 'the question takes the focus (ConfirmButton)');
  await page.keyboard.press('Enter');
  await page.locator('#remote-error', { hasText: /^Remote src was not removed: remote 'src' is used by sync job .*pull-src/ }).waitFor();
  await notice(page, /Failed: .*used by sync job pull-missing, pull-src|Failed: .*used by sync job pull-src, pull-missing/);
  await row.waitFor();
}

async function phone(browser: Browser, base: string, password: string, width: number, shots: string): Promise<void> {
  const { page, problems } = await openPage(browser, base, width, 800);
  await keyboardLogin(page, password);
  for (const [hash, ready, name] of [
    ['#/remotes', 'table.remotes tr[data-name="src"]', 'remotes'],
    ['#/sync', 'table.sync-jobs tr[data-id="pull-src"]', 'sync'],
  ] as const) {
    await go(page, hash);
    await page.locator(ready).waitFor();
    const overflow = await sidewaysOverflow(page);
    assert.equal(overflow, 0, `${hash} at ${width} px overflows by ${overflow} px`);
    if (width === 390) await page.screenshot({ path: join(shots, `phone-${name}.png`), fullPage: true });
  }
  assert.deepEqual(problems, []);
  await page.context().close();
}

async function removeBoth(page: Page): Promise<void> {
  await go(page, '#/sync');
  for (const id of ['pull-src', 'pull-missing']) {
    const job = page.locator(`table.sync-jobs tr[data-id="${id}"]`);
    await job.locator('button', { hasText: 'Remove' }).click();
    await job.locator('button', { hasText: `Really remove sync job ${id}?` }).click();
    await job.waitFor({ state: 'detached' });
  }
  await page.locator('main', { hasText: 'None yet.' }).waitFor();
  await go(page, '#/remotes');
  const remote = page.locator('table.remotes tr[data-name="src"]');
  await remote.locator('button', { hasText: 'Remove' }).click();
  await remote.locator('button', { hasText: 'Really remove remote src?' }).click();
  await notice(page, 'Remote removed');
  await remote.waitFor({ state: 'detached' });
}
