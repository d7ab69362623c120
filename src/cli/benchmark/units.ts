/**
 * Parsing and formatting of the benchmark's quantities: sizes (`256M`, `2G`, binary units as
 * dd and PBS use them), comma lists, durations as mm:ss (the seed table's unit), ratios against
 * `none` and throughput. Pure functions, so the report renderers and their tests share one
 * definition of every number's text.
 */
import { fail } from '../../core/errors.ts';

const SIZE_UNITS = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 } as const;
type SizeUnit = keyof typeof SIZE_UNITS;

/** `256M`, `2G`, `1.5G`, `512KiB`, `4096` → bytes (binary units; a trailing `B`/`iB` is allowed). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw fail('INVALID_ARGUMENT', `'${text}' is not a size like 256M or 2G`, { value: text });
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toUpperCase() as SizeUnit]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw fail('INVALID_ARGUMENT', `size '${text}' must be positive`, { value: text });
  return bytes;
}

/** A comma list; blanks are dropped and duplicates kept once, in first-seen order. */
export function parseList(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
}

/** A comma list whose members must come from `allowed`. */
export function parseChoiceList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = parseList(text);
  const bad = items.filter((i) => !(allowed as readonly string[]).includes(i));
  if (bad.length > 0) throw fail('INVALID_ARGUMENT', `unknown ${what} '${bad.join(',')}': choose from ${allowed.join(', ')}`, { value: text, allowed });
  return items as T[];
}

/** Bytes as the largest binary unit that keeps a number ≥ 1: `256 MiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${text} ${units[i]!}`;
}

/** Seconds as `mm:ss.t` (tenths: the small default sizes finish in seconds). */
export function formatMmss(seconds: number): string {
  const tenths = Math.round(Math.max(0, seconds) * 10);
  const minutes = Math.floor(tenths / 600);
  const rest = (tenths - minutes * 600) / 10;
  return `${String(minutes).padStart(2, '0')}:${rest.toFixed(1).padStart(4, '0')}`;
}

/** A time ratio against the baseline: `1.00×`. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** A ratio as the PBS commit message writes it: `+11.7%`, `-0.3%`. */
export function formatPercent(ratio: number): string {
  const pct = (ratio - 1) * 100;
  return `${pct >= 0 ? '+' : '-'}${Math.abs(pct).toFixed(1)}%`;
}

/** Bytes per second as MB/s (10^6, as disk vendors and the ingest target state it). */
export function formatMBps(bytes: number, seconds: number): string {
  return seconds > 0 ? `${(bytes / seconds / 1e6).toFixed(1)} MB/s` : 'n/a';
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw fail('INVALID_ARGUMENT', 'median of no values', {});
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const RATE_UNITS = { '': 1, K: 1e3, M: 1e6, G: 1e9 } as const;

/** A link rate in bits per second: `1G`, `1Gbit`, `500M`, `100mbit/s` (decimal units, as links are sold). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:bit|b)?(?:\/s|ps)?\s*$/i.exec(text);
  const bits = m ? Number(m[1]) * RATE_UNITS[(m[2] ?? '').toUpperCase() as keyof typeof RATE_UNITS] : NaN;
  if (!(bits > 0)) throw fail('INVALID_ARGUMENT', `'${text}' is not a rate like 1G or 100Mbit`, { value: text });
  return bits;
}

/** A duration in milliseconds: `100ms`, `100` (ms), `0.15s`. */
export function parseMillis(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/i.exec(text);
  if (!m) throw fail('INVALID_ARGUMENT', `'${text}' is not a duration like 100ms or 0.1s`, { value: text });
  return Number(m[1]) * (m[2]?.toLowerCase() === 's' ? 1000 : 1);
}

/** Bits per second as `1 Gbit/s`, `250 Mbit/s`. */
export function formatRate(bitsPerSec: number): string {
  return bitsPerSec >= 1e9 ? `${+(bitsPerSec / 1e9).toFixed(2)} Gbit/s` : `${+(bitsPerSec / 1e6).toFixed(1)} Mbit/s`;
}
