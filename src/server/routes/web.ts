/**
 * The web UI: four static files (`web/` at the project root) served without authentication; the
 * page itself logs in through the ticket API. Files are read once and kept in memory.
 */
import { readFileSync } from 'node:fs';
import { RawResponse, type Route } from '../router.ts';

const WEB_DIR = new URL('../../../web/', import.meta.url);
const FILES = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/web/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/web/html.js', 'html.js', 'text/javascript; charset=utf-8'],
  ['/web/app.css', 'app.css', 'text/css; charset=utf-8'],
] as const;

export function webRoutes(): Route[] {
  return FILES.map(([path, file, type]) => {
    const body = readFileSync(new URL(file, WEB_DIR));
    return {
      method: 'GET',
      path,
      public: true,
      handler: () => new RawResponse(body, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }),
    } satisfies Route;
  });
}
