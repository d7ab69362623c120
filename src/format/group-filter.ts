/**
 * Group filters of sync jobs, as PBS has them (`--group-filter`, VECTORS.md §10):
 *
 *     type:vm            every group of that backup type
 *     group:vm/100       exactly that group
 *     regex:^ct/1..$     a regular expression, matched unanchored against `type/id`
 *     exclude:<filter>   the same filters, excluding
 *
 * A group passes when (there is no include filter, or some include filter matches) and no
 * exclude filter matches. The same filters select the local groups `remove-vanished` may remove.
 *
 * Hostile input: the text is checked when the job is saved (INVALID_ARGUMENT naming the
 * parameter); a regex is at most 256 characters and must compile.
 */
import { fail } from '../core/errors.ts';
import { BACKUP_TYPES, isBackupType, SAFE_ID } from '../core/names.ts';

export const GROUP_FILTER_KINDS = ['type', 'group', 'regex'] as const;
export type GroupFilterKind = (typeof GROUP_FILTER_KINDS)[number];

export interface GroupFilter {
  readonly exclude: boolean;
  readonly kind: GroupFilterKind;
  readonly value: string;
  readonly regex?: RegExp;
}

const MAX_REGEX = 256;

function bad(text: string, why: string): never {
  throw fail('INVALID_ARGUMENT', `group-filter '${text.slice(0, 300)}' ${why}`, { param: 'group-filter', value: text.slice(0, 300) });
}

export function parseGroupFilter(text: string): GroupFilter {
  const exclude = text.startsWith('exclude:');
  const rest = exclude ? text.slice('exclude:'.length) : text;
  const colon = rest.indexOf(':');
  const kind = rest.slice(0, colon);
  const value = rest.slice(colon + 1);
  if (colon === -1 || !(GROUP_FILTER_KINDS as readonly string[]).includes(kind)) bad(text, 'must be type:, group: or regex: (optionally after exclude:)');
  if (kind === 'type' && !isBackupType(value)) bad(text, `names no backup type (${BACKUP_TYPES.join(', ')})`);
  if (kind === 'group') {
    const [type, id, extra] = value.split('/');
    if (extra !== undefined || type === undefined || !isBackupType(type) || id === undefined || !SAFE_ID.test(id)) bad(text, 'must name a group as TYPE/ID');
  }
  if (kind === 'regex') {
    if (value.length === 0 || value.length > MAX_REGEX) bad(text, `must hold a regex of 1-${MAX_REGEX} characters`);
    try {
      return { exclude, kind, value, regex: new RegExp(value) };
    } catch {
      bad(text, 'holds an invalid regular expression');
    }
  }
  return { exclude, kind: kind as GroupFilterKind, value };
}

export function formatGroupFilter(f: GroupFilter): string {
  return `${f.exclude ? 'exclude:' : ''}${f.kind}:${f.value}`;
}

function matches(f: GroupFilter, g: { readonly type: string; readonly id: string }): boolean {
  switch (f.kind) {
    case 'type':
      return g.type === f.value;
    case 'group':
      return `${g.type}/${g.id}` === f.value;
    case 'regex':
      return f.regex?.test(`${g.type}/${g.id}`) === true;
  }
}

/** Whether a group passes the filters (see the module note). */
export function applyGroupFilters(filters: readonly GroupFilter[], g: { readonly type: string; readonly id: string }): boolean {
  const includes = filters.filter((f) => !f.exclude);
  const included = includes.length === 0 || includes.some((f) => matches(f, g));
  return included && !filters.some((f) => f.exclude && matches(f, g));
}
