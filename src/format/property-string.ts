/**
 * PBS property strings: `key=value,key2="quoted \" \\ \n"`, the value syntax of `tuning`,
 * `backend`, `maintenance-mode` and similar config keys (pbs-format.md §1.2).
 *
 * Grammar, as upstream reads it: an item is `key=value` or a bare `value`. A key runs up to the
 * first `=` (an item with a `,` before any `=` is bare). An unquoted value runs up to the next `,`
 * and may contain `=`. A value that starts with `"` is quoted: inside, only `\"`, `\\` and `\n`
 * are escapes, and the closing quote must be followed by `,` or the end. A trailing comma ends the
 * string. Bare values belong to the schema's default key, if it has one.
 *
 * The formatter quotes only when the text would otherwise not read back identically, so
 * `parse(format(x))` is `x` for every list of distinct keys.
 */
import { parseBooleanWord } from '../core/args.ts';
import { fail } from '../core/errors.ts';

/** One item as written: `key` is undefined for a bare value. */
export interface PropertyItem {
  readonly key: string | undefined;
  readonly value: string;
}

export type PropertyEntry = readonly [key: string, value: string];

export interface PropertyStringOptions {
  /** The key a bare value (one without `key=`) belongs to; without it, bare values are an error. */
  readonly defaultKey?: string;
}

function invalid(text: string, why: string, extra: Record<string, unknown> = {}): never {
  throw fail('INVALID_PROPERTY_STRING', `invalid property string '${text}': ${why}`, { value: text, ...extra });
}

/** Splits a property string into its items, in order, without interpreting keys. */
export function splitPropertyString(text: string): PropertyItem[] {
  const items: PropertyItem[] = [];
  let pos = 0;
  while (pos < text.length) {
    let key: string | undefined;
    if (text[pos] !== '"') {
      const comma = text.indexOf(',', pos);
      const equals = text.indexOf('=', pos);
      if (equals !== -1 && (comma === -1 || equals < comma)) {
        key = text.slice(pos, equals);
        if (key === '') invalid(text, `empty key at offset ${pos}`);
        pos = equals + 1;
      }
      if (text[pos] !== '"') {
        const end = text.indexOf(',', pos);
        const stop = end === -1 ? text.length : end;
        items.push({ key, value: text.slice(pos, stop) });
        pos = end === -1 ? text.length : end + 1;
        continue;
      }
    }
    const quoted = readQuoted(text, pos);
    items.push({ key, value: quoted.value });
    pos = quoted.end;
    if (pos < text.length) {
      if (text[pos] !== ',') invalid(text, `garbage after quoted value at offset ${pos}`);
      pos += 1;
    }
  }
  return items;
}

/** Reads the quoted value starting at `start` (a `"`); returns it and the offset after the quote. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '"' || next === '\\') out += next;
      else if (next === 'n') out += '\n';
      else if (next === undefined) break;
      else invalid(text, `unsupported escape sequence '\\${next}' at offset ${i}`);
      i += 2;
      continue;
    }
    out += c;
    i += 1;
  }
  return invalid(text, `unterminated quoted value starting at offset ${start}`);
}

/**
 * Parses into ordered `[key, value]` pairs. Bare values take `defaultKey`; a repeated key (also
 * via the default key) is an error.
 */
export function parsePropertyString(text: string, options: PropertyStringOptions = {}): PropertyEntry[] {
  const seen = new Set<string>();
  return splitPropertyString(text).map(({ key, value }): PropertyEntry => {
    const name = key ?? options.defaultKey;
    if (name === undefined) invalid(text, `value '${value}' has no key and there is no default key`, { item: value });
    if (seen.has(name)) invalid(text, `duplicate key '${name}'`, { key: name });
    seen.add(name);
    return [name, value];
  });
}

/** Like `parsePropertyString`, as a Map (insertion order = text order). */
export function parsePropertyMap(text: string, options: PropertyStringOptions = {}): Map<string, string> {
  return new Map(parsePropertyString(text, options));
}

const NEEDS_QUOTES = /[,"\\\n]|^\s|\s$/;

function quote(value: string): string {
  return `"${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
}

function formatValue(value: string, bare: boolean): string {
  const quoted = NEEDS_QUOTES.test(value) || (bare && (value.includes('=') || value === ''));
  return quoted ? quote(value) : value;
}

/**
 * Formats entries as a property string. The entry whose key is `defaultKey` is written first and
 * bare, as upstream prints it. Keys must be non-empty and free of `,`, `=`, `"` and whitespace.
 */
export function formatPropertyString(
  entries: Iterable<PropertyEntry>,
  options: PropertyStringOptions = {},
): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const [key, value] of entries) {
    if (key === '' || /[,="\s]/.test(key) || seen.has(key)) {
      throw fail('INVALID_PROPERTY_STRING', `cannot format property key '${key}'`, { key });
    }
    seen.add(key);
    if (key === options.defaultKey) parts.unshift(formatValue(value, true));
    else parts.push(`${key}=${formatValue(value, false)}`);
  }
  return parts.join(',');
}

/** Upstream's boolean spellings, case-insensitive; `undefined` when the text is none of them. */
export const parseBoolean = parseBooleanWord;
