/**
 * `npm run soak`: the concurrency soak (test/soak/soak.ts). A real server on loopback with backup
 * clients, GC, verify, prune and a restoring reader running together; prints progress, then the
 * report, and writes it as JSON.
 *
 *   npm run soak -- [--minutes N] [--clients N] [--keep-last N] [--files N] [--out FILE]
 *
 * Exit code 0 when nothing failed, 1 otherwise, 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SOAK, formatSoakReport, runSoak } from '../test/soak/soak.ts';

const HELP = `usage: npm run soak -- [options]

Runs a real holdfast server on 127.0.0.1 and, at the same time, backup clients on changing trees,
GC, verify and prune loops, a reader restoring while prune runs, and a sync-level change half way.
At the end every snapshot verifies, the newest of each group restores identical, and the server's
RSS after one minute and at the end is compared (end <= 1.2x).

options:
  --minutes N    how long the load runs (default ${DEFAULT_SOAK.minutes})
  --clients N    backup clients, one group each (default ${DEFAULT_SOAK.clients})
  --keep-last N  prune-job policy (default ${DEFAULT_SOAK.keepLast})
  --files N      files per client tree (default ${DEFAULT_SOAK.files})
  --out FILE     also write the report as JSON
  -h, --help     this text
`;

function usage(message: string): never {
  process.stderr.write(`soak: ${message}\n\n${HELP}`);
  process.exit(2);
}

function positive(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usage(`${what} must be a positive number, not '${value}'`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      minutes: { type: 'string' },
      clients: { type: 'string' },
      'keep-last': { type: 'string' },
      files: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const v = parsed.values;
if (v.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const report = await runSoak({
  minutes: positive(v.minutes, DEFAULT_SOAK.minutes, '--minutes'),
  clients: Math.round(positive(v.clients, DEFAULT_SOAK.clients, '--clients')),
  keepLast: Math.round(positive(v['keep-last'], DEFAULT_SOAK.keepLast, '--keep-last')),
  files: Math.round(positive(v.files, DEFAULT_SOAK.files, '--files')),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${formatSoakReport(report)}\n`);
if (v.out) writeFileSync(v.out, `${JSON.stringify(report, null, 2)}\n`);
process.exit(report.failures.length === 0 ? 0 : 1);
