/**
 * The web UI: the single-page app that Vite builds from `web/` into `web/dist/` (`npm run build`,
 * run by `npm ci`), served without authentication; the page itself logs in through the ticket
 * API. Files are read once, at server start, and kept in memory.
 *
 * Caching: `index.html` is `no-cache` (it names the current assets); every asset's name carries
 * its content hash, so assets are `immutable` for a year. A name not in the build is a 404.
 * Security headers go with every file: a Content-Security-Policy that allows only this origin's
 * scripts and styles (no inline script, no eval, no framing), `nosniff`, no referrer.
 *
 * Without a build (an install without devDependencies) `/` answers a page saying so, not a 404.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fail } from '../../core/errors.ts';
import { RawResponse, type Route } from '../router.ts';

const DIST = new URL('../../../web/dist/', import.meta.url);
const ASSETS_URL = '/web/assets';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The asset types a build contains; any other file in the build is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>Holdfast</title><p>The web UI is not built. Run <code>npm run build</code> (it needs the devDependencies) and restart the server.</p>\n',
);

interface WebFiles {
  readonly index: Buffer;
  readonly assets: ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;
}

/** Reads the build; `undefined` when there is none. */
function loadWebFiles(dir: URL): WebFiles | undefined {
  const indexUrl = new URL('index.html', dir);
  if (!existsSync(indexUrl)) return undefined;
  const assetsDir = new URL('assets/', dir);
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of existsSync(assetsDir) ? readdirSync(assetsDir) : []) {
    const type = CONTENT_TYPES[extname(name)];
    if (type !== undefined) assets.set(name, { body: readFileSync(new URL(name, assetsDir)), type });
  }
  return { index: readFileSync(indexUrl), assets };
}

/** The routes over the build in `dir` (tests pass their own). */
export function webRoutes(dir: URL = DIST): Route[] {
  const files = loadWebFiles(dir);
  const page = (): RawResponse =>
    new RawResponse(files?.index ?? NOT_BUILT, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
  return [
    { method: 'GET', path: '/', public: true, handler: page },
    {
      method: 'GET',
      path: `${ASSETS_URL}/{file}`,
      public: true,
      handler: (ctx) => {
        const name = ctx.params['file'] ?? '';
        const asset = files?.assets.get(name);
        if (asset === undefined) throw fail('NOT_FOUND', `no web asset '${name}'`, { path: `${ASSETS_URL}/${name}` });
        return new RawResponse(asset.body, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': IMMUTABLE });
      },
    },
  ];
}
