/**
 * `npm run fuzz -- --count N [--seed S] [--target NAME]`: a fuzz campaign of N inputs in total
 * over the targets of test/fuzz (the decoders share 99 %, the backup protocol, whose inputs each
 * run a real session on disk, gets 1 %). Prints one line per target and the total; exits 1 when
 * any input crashed (a non-coded exception, a hang over 1 s, or an error the process lost) and
 * writes those inputs to `fuzz-crashes/<target>-<index>.bin` to reproduce.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fuzz, type FuzzTarget } from '../test/fuzz/fuzzer.ts';
import { backupProtocolTarget, DECODER_TARGETS } from '../test/fuzz/targets.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' }, target: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write('usage: npm run fuzz -- --count N [--seed S] [--target NAME]\n  N inputs in total (decoders 99 %, backup-protocol 1 %); exit 1 on any crash\n');
  process.exit(0);
}
const total = Number(values.count);
const seed = Number(values.seed);
if (!Number.isSafeInteger(total) || total < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('--count and --seed must be integers (count ≥ 1)\n');
  process.exit(2);
}

const protocol = backupProtocolTarget();
const plan: [FuzzTarget, number][] = [
  ...DECODER_TARGETS.map((t): [FuzzTarget, number] => [t, Math.ceil((total * 0.99) / DECODER_TARGETS.length)]),
  [protocol, Math.max(1, Math.ceil(total * 0.01))] as [FuzzTarget, number],
].filter(([t]) => values.target === undefined || t.name === values.target);

let runs = 0;
let crashes = 0;
const started = Date.now();
try {
  for (const [target, count] of plan) {
    const r = await fuzz(target, { count, seed, onProgress: (n) => n % 50_000 === 0 && process.stderr.write(`  ${target.name}: ${n}\n`) });
    runs += r.runs;
    crashes += r.crashes.length;
    process.stdout.write(`${target.name}: ${r.runs} inputs, ${r.accepted} accepted, ${r.rejected} rejected with a coded error, ${r.crashes.length} crashes\n`);
    for (const c of r.crashes) {
      mkdirSync('fuzz-crashes', { recursive: true });
      writeFileSync(`fuzz-crashes/${c.target}-${c.index}.bin`, c.input);
      process.stdout.write(`  crash #${c.index} (${c.kind}): ${c.message}\n`);
    }
  }
} finally {
  await protocol.close?.();
}
process.stdout.write(`total: ${runs} inputs, ${crashes} crashes, seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(crashes > 0 ? 1 : 0);
