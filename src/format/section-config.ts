/**
 * The PBS section-config text format (`datastore.cfg`, `prune.cfg`, …; pbs-format.md §1.1).
 *
 *     datastore: store1
 *     	path /mnt/datastore/store1
 *     	gc-schedule daily
 *
 * Reader rules, as upstream: blank (whitespace-only) lines before a header are skipped; a header
 * starts with a letter and is `<type>: <id>`, split at the first `:` with both sides trimmed; a
 * property line starts with whitespace and is split, after trimming, at the first whitespace
 * into key and value (both trimmed); a whitespace-only line ends the section. There is no comment
 * syntax: `#…` is a syntax error. Duplicate ids (across all types) and duplicate keys in a section
 * are errors. Every error names the file and the 1-based line number.
 *
 * Writer rules: header line, then one line per property as TAB key SPACE value, one empty line
 * between sections. Values that the reader would change (newlines, surrounding whitespace) are
 * refused rather than silently altered.
 */
import { fail } from '../core/errors.ts';

export interface Section {
  readonly type: string;
  readonly id: string;
  /** Properties in file order. */
  readonly props: ReadonlyMap<string, string>;
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

function syntaxError(fileName: string, lineNo: number, line: string, why: string): never {
  throw fail('INVALID_CONFIG', `${fileName}:${lineNo}: ${why}: '${line}'`, { file: fileName, line: lineNo, text: line });
}

function parseHeader(fileName: string, lineNo: number, line: string): { type: string; id: string } {
  const colon = line.indexOf(':');
  if (!/^[A-Za-z]/.test(line) || colon === -1) syntaxError(fileName, lineNo, line, 'syntax error (expected header)');
  const type = line.slice(0, colon).trim();
  const id = line.slice(colon + 1).trim();
  if (!TYPE_PATTERN.test(type)) syntaxError(fileName, lineNo, line, `invalid section type '${type}'`);
  if (id === '' || /\s/.test(id)) syntaxError(fileName, lineNo, line, `invalid section id '${id}'`);
  return { type, id };
}

function parseProperty(line: string): [string, string] {
  const trimmed = line.trim();
  const gap = trimmed.search(/\s/);
  if (gap === -1) return [trimmed, ''];
  return [trimmed.slice(0, gap), trimmed.slice(gap + 1).trim()];
}

/** Parses section-config text. `fileName` only labels errors. */
export function parseSectionConfig(text: string, fileName: string): Section[] {
  const sections: Section[] = [];
  const ids = new Set<string>();
  let current: { type: string; id: string; props: Map<string, string> } | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (current !== undefined) sections.push(current);
      current = undefined;
      return;
    }
    if (current === undefined) {
      const header = parseHeader(fileName, lineNo, line);
      if (ids.has(header.id)) syntaxError(fileName, lineNo, line, `duplicate section id '${header.id}'`);
      ids.add(header.id);
      current = { ...header, props: new Map() };
      return;
    }
    if (!/^\s/.test(line)) syntaxError(fileName, lineNo, line, 'syntax error (expected property line or blank line)');
    const [key, value] = parseProperty(line);
    if (current.props.has(key)) syntaxError(fileName, lineNo, line, `duplicate property '${key}' in section '${current.id}'`);
    current.props.set(key, value);
  });
  if (current !== undefined) sections.push(current);
  return sections;
}

function checkWritable(section: Section): void {
  const bad = (what: string, value: string): never => {
    throw fail('INVALID_CONFIG', `cannot write section '${section.type}: ${section.id}': bad ${what} '${value}'`, {
      type: section.type,
      id: section.id,
      value,
    });
  };
  if (!TYPE_PATTERN.test(section.type)) bad('type', section.type);
  if (section.id === '' || /\s/.test(section.id)) bad('id', section.id);
  for (const [key, value] of section.props) {
    if (key === '' || /\s/.test(key)) bad('key', key);
    if (value.includes('\n') || value.includes('\r') || value !== value.trim()) bad(`value of '${key}'`, value);
  }
}

/** Formats sections; `parseSectionConfig(formatSectionConfig(s))` gives `s` back. */
export function formatSectionConfig(sections: readonly Section[]): string {
  const ids = new Set<string>();
  return sections
    .map((section) => {
      checkWritable(section);
      if (ids.has(section.id)) {
        throw fail('INVALID_CONFIG', `cannot write duplicate section id '${section.id}'`, { id: section.id });
      }
      ids.add(section.id);
      const props = [...section.props].map(([key, value]) => (value === '' ? `\t${key}\n` : `\t${key} ${value}\n`));
      return `${section.type}: ${section.id}\n${props.join('')}`;
    })
    .join('\n');
}
