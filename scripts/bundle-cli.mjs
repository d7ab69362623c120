// Bundles the CLI (src/cli/main.ts and everything it imports, commands included) into a few ESM
// files with esbuild, so that a CLI start parses a handful of files instead of resolving, reading
// and linking ~150 small modules (measured: `holdfast backup --help` ~25% less CPU). esbuild ships
// with tsx, a runtime dependency. Each command module stays a separate chunk (`splitting`), so a
// command still loads only its own code, and npm packages stay external: node loads them as usual
// (native addons, the AWS SDK), except the pure-JS `commander`, which every run needs and which as
// CommonJS would cost a parse by node's CJS lexer at each start.
//
// `import.meta.url` is rewritten per module to the URL of its twin in `twinRoot` (default: the tsc
// output in dist/, `.js`), because a bundled module no longer sits where its source did, and the
// code finds its worker modules, the worker bootstrap, the native chunker and the web UI relative
// to itself. Workers keep running from the twin tree (dist/…/*.js, or the sources through tsx).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds `outdir/main.js` (exports `main`) and its chunks. `twinRoot`/`twinExt`: where the code
 * that is not bundled (workers) lives, as seen from the bundle: dist/ and `.js` after tsc, or src/
 * and `.ts` to run without a build (tests).
 */
export async function bundleCli({ root = ROOT, outdir = join(root, 'dist', 'bundle'), twinRoot = join(root, 'dist'), twinExt = '.js' } = {}) {
  const esbuild = await loadEsbuild(root);
  const src = join(root, 'src');
  const twinUrl = {
    name: 'holdfast-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        let text = await readFile(args.path, 'utf8');
        if (args.path.startsWith(src + sep) && text.includes('import.meta.url')) {
          const twin = join(twinRoot, relative(src, args.path)).replace(/\.ts$/, twinExt);
          const rel = relative(outdir, twin).split(sep).join('/');
          text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
        }
        return { contents: text, loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: join(src, 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    tsconfig: join(root, 'tsconfig.json'),
    external: externals(root),
    // commander (CommonJS) requires node's built-ins; an ESM bundle has no `require` of its own
    banner: { js: "import { createRequire as __holdfastCreateRequire } from 'node:module';\nconst require = __holdfastCreateRequire(import.meta.url);" },
    plugins: [twinUrl],
    logLevel: 'warning',
    metafile: true,
  });
  return Object.keys(result.metafile.outputs);
}

/** Every dependency but commander stays a package import. */
function externals(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((n) => n !== 'commander');
  return names.flatMap((n) => [n, `${n}/*`]);
}

async function loadEsbuild(root) {
  return import(pathToFileURL(createRequire(join(root, 'package.json')).resolve('esbuild')).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await bundleCli();
  console.error(`bundle-cli: ${files.length} files in dist/bundle`);
}
