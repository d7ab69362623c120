// Vite builds the web UI (web/src) into web/dist: hashed assets under /web/assets/, which the
// server serves as immutable, and index.html, served as no-cache. Preact's automatic JSX runtime
// is set here instead of a plugin (oxc compiles JSX). No module-preload polyfill: it would be the
// only reason for an inline script, and the server's Content-Security-Policy forbids those.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/web/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});
