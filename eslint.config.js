// Lint: typescript-eslint's type-aware rules (a dropped promise around an fsync is a data-loss
// bug) and the layer map of shared/STYLE.md, enforced as import restrictions per folder.
import tseslint from 'typescript-eslint';

const LAYERS = ['core', 'format', 'storage', 'chunks', 'datastore', 'jobs', 'server'];
const ALL = [...LAYERS, 'remote', 'client', 'cli'];

/**
 * Which src/ folders each layer may import. `remote` (the PBS protocol client: sessions, backup
 * writer, reader, API calls) sits beside the server stack on core and format, so that both the
 * backup client and the jobs (sync) can speak to another server without jobs importing client.
 */
const ALLOWED = Object.fromEntries([
  ...LAYERS.map((l, i) => [l, LAYERS.slice(0, i + 1).concat(i >= LAYERS.indexOf('jobs') ? ['remote'] : [])]),
  ['remote', ['core', 'format', 'remote']],
  ['client', ['core', 'format', 'remote', 'client']],
  ['cli', ALL],
]);

function layerRules(layer) {
  const forbidden = ALL.filter((l) => !ALLOWED[layer].includes(l));
  const patterns = forbidden.flatMap((f) => [`**/${f}/*`, `**/${f}/**`, `../${f}`, `../../${f}`]);
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: patterns,
              message: `layer '${layer}' may import only: ${ALLOWED[layer].join(', ')} (see shared/STYLE.md)`,
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bin/**', 'scripts/**', 'eslint.config.js', 'web/**', '**/*.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...LAYERS.concat(['remote', 'client']).map(layerRules),
);
