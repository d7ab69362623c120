/**
 * Headless Chromium for the web UI tests (playwright-core driving Debian's /usr/bin/chromium):
 * launching it, a page that records script errors and CSP violations (a test asserts the list
 * stays empty), logging in from the keyboard, and the small waits the pages share.
 *
 * The tests need the web UI build (`npm run build`) and the browser; `NEEDS_BROWSER` is the skip
 * reason without them (false when both are there), except in CI, where a missing build fails.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const BUILT = existsSync(new URL('../../web/dist/index.html', import.meta.url));
export const NEEDS_BUILD: string | false = BUILT || process.env['CI'] ? false : 'needs the web UI build (npm run build)';
export const NEEDS_BROWSER: string | false = existsSync(CHROMIUM) ? NEEDS_BUILD : `needs ${CHROMIUM} (apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page at `base` (the server's self-signed certificate accepted) and the problems it records. */
export async function openPage(browser: Browser, base: string, width: number, height: number): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  await page.goto(`${base}/`);
  return { page, problems };
}

/** Logs in as the prefilled admin@pbs from the keyboard only: Tab, type, Enter. */
export async function keyboardLogin(page: Page, password: string): Promise<void> {
  await page.focus('input[name=username]');
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.locator('#logout').waitFor();
}

/** Waits for the status line to show `text`. */
export const notice = (page: Page, text: string | RegExp): Promise<void> => page.locator('#notice', { hasText: text }).waitFor();

/** Opens a page of the app by its hash route. */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

/** How far the page scrolls sideways (0 when it fits the viewport). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}
