/**
 * UPID, the task identifier PBS shows in task lists and stores in a manifest's `verify_state`
 * (pbs-format.md §8.2):
 *
 *     UPID:{node}:{pid:08X}:{pstart:08X}:{task_id:08X}:{starttime:08X}:{type}:{id}:{authid}:
 *     UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:
 *
 * The worker id is written with systemd unit-name escaping (`/` → `-`; every byte other than
 * `[A-Za-z0-9_.]`, and a leading `.`, → `\xNN`), so it never contains `:` and stays one field.
 * The numbers are hex with at least 8 digits; pstart may need 9 and task_id up to 16.
 */
import { fail } from './errors.ts';

export interface Upid {
  readonly node: string;
  readonly pid: number;
  /** Process start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  readonly pstart: number;
  readonly taskId: number;
  /** Task start, epoch seconds. */
  readonly startTime: number;
  readonly workerType: string;
  /** Unescaped; undefined when the id field is empty. */
  readonly workerId: string | undefined;
  readonly authId: string;
}

const UPID_PATTERN = new RegExp(
  '^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8,16}):' +
    '([0-9A-Fa-f]{8}):([^:\\s]+):([^:\\s]*):([^:\\s]+):$',
);

function invalid(text: string, why: string): never {
  throw fail('INVALID_ARGUMENT', `invalid UPID '${text}': ${why}`, { value: text });
}

function hexField(text: string, hex: string): number {
  const n = Number.parseInt(hex, 16);
  if (!Number.isSafeInteger(n)) invalid(text, `number ${hex} is too large`);
  return n;
}

export function parseUpid(text: string): Upid {
  const m = UPID_PATTERN.exec(text);
  if (m === null) return invalid(text, 'expected UPID:node:pid:pstart:task:start:type:id:authid:');
  const group = (i: number): string => m[i] ?? '';
  const workerId = group(8);
  return {
    node: group(1),
    pid: hexField(text, group(3)),
    pstart: hexField(text, group(4)),
    taskId: hexField(text, group(5)),
    startTime: hexField(text, group(6)),
    workerType: group(7),
    workerId: workerId === '' ? undefined : unescapeWorkerId(text, workerId),
    authId: group(9),
  };
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

export function formatUpid(upid: Upid): string {
  const numbers = [upid.pid, upid.pstart, upid.taskId, upid.startTime];
  if (!numbers.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw fail('INVALID_ARGUMENT', `UPID numbers must be non-negative integers: ${numbers.join(', ')}`, { upid });
  }
  const text =
    `UPID:${upid.node}:${numbers.map(hex8).join(':')}:` +
    `${upid.workerType}:${escapeWorkerId(upid.workerId ?? '')}:${upid.authId}:`;
  parseUpid(text); // refuses a node, type or auth id that would not read back
  return text;
}

/** systemd unit-name escaping (non-path form) of UTF-8 bytes. */
export function escapeWorkerId(id: string): string {
  let out = '';
  Buffer.from(id, 'utf8').forEach((byte, i) => {
    const c = String.fromCharCode(byte);
    if (c === '/') out += '-';
    else if ((i === 0 && c === '.') || !/[A-Za-z0-9_.]/.test(c)) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += c;
  });
  return out;
}

function unescapeWorkerId(text: string, escaped: string): string {
  const bytes: number[] = [];
  const chars = [...escaped];
  for (let i = 0; i < chars.length; ) {
    const c = chars[i] ?? '';
    if (c === '\\') {
      const hex = chars.slice(i + 2, i + 4).join('');
      if (chars[i + 1] !== 'x' || !/^[0-9A-Fa-f]{2}$/.test(hex)) invalid(text, 'bad escape in worker id');
      bytes.push(Number.parseInt(hex, 16));
      i += 4;
    } else {
      bytes.push(...Buffer.from(c === '-' ? '/' : c, 'utf8'));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
