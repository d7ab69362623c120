/**
 * Exclusion rules for directory archives, with PBS's semantics (backup-client docs, "Excluding
 * Files/Directories from a Backup"):
 *
 * - a `.pxarexclude` file holds one glob pattern per line; empty lines and lines starting with
 *   `#` are ignored; `!` in front turns an exclusion into an explicit inclusion; a trailing `/`
 *   matches directories only;
 * - the directory holding the `.pxarexclude` is the root of its patterns, which match only in it
 *   and below: with a leading `/` only paths from that root, without one at any depth below it;
 * - globs: `?` one character, `*` any run without `/`, `**` any run including `/` (`**\/` also
 *   none), `[...]`/`[!...]` a class with ranges, `\` escapes;
 * - the last matching rule decides, and rules found deeper in the tree come later, so they can
 *   override; `--exclude` patterns (repeatable, same syntax) come first, rooted at the archive
 *   root;
 * - an excluded directory is not read at all, so a `.pxarexclude` inside it has no effect;
 *   `.pxarexclude` files themselves are archived like any file.
 *
 * With `--exclude` patterns PBS also archives them, as the synthetic last root entry
 * `.pxarexclude-cli` (pxar-format.md §5): `cliExcludeRecord` gives its content.
 *
 * Names are matched as bytes (latin1 strings), so non-UTF-8 names work; a `?` therefore matches
 * one byte. Invariant: an ExcludeScope is immutable; entering a directory makes a new one.
 */
import { promises as fsp } from 'node:fs';
import { fail } from '../core/errors.ts';

export const EXCLUDE_FILE = '.pxarexclude';

export interface ExcludeRule {
  /** the line as written, for messages and the archive's record of CLI patterns */
  readonly text: string;
  readonly include: boolean;
  readonly dirOnly: boolean;
  readonly anchored: boolean;
  /** the archive-relative directory the pattern is rooted at ('' for the archive root) */
  readonly base: string;
  /** the glob without `!` and trailing `/` (a leading `/` kept) */
  readonly pattern: string;
  readonly re: RegExp;
}

/** A glob (without `!`, leading `/` or trailing `/`) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      const next = glob[++i];
      if (next === undefined) throw fail('INVALID_ARGUMENT', `pattern '${glob}' ends with a lone backslash`, { pattern: glob });
      out += escapeRe(next);
    } else if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        out += '(?:.*/)?';
      } else out += '.*';
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw fail('INVALID_ARGUMENT', `pattern '${glob}' has an unclosed '['`, { pattern: glob });
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return new RegExp(`^${out}$`, 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One pattern line; undefined for blank lines and comments. */
export function parseRule(line: string, base: string): ExcludeRule | undefined {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '' || text.startsWith('#')) return undefined;
  let p = text;
  const include = p.startsWith('!');
  if (include) p = p.slice(1);
  const dirOnly = p.endsWith('/') && !p.endsWith('\\/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const pattern = p;
  const anchored = p.startsWith('/');
  if (anchored) p = p.replace(/^\/+/, '');
  if (p === '') return undefined;
  return { text, include, dirOnly, anchored, base, pattern, re: globToRegExp(p) };
}

export function parseRules(text: string, base: string): ExcludeRule[] {
  return text.split('\n').flatMap((l) => parseRule(l, base) ?? []);
}

/** Whether `rule` matches the archive-relative path `rel` (a directory when `isDir`). */
export function ruleMatches(rule: ExcludeRule, rel: string, isDir: boolean): boolean {
  if (rule.dirOnly && !isDir) return false;
  let path = rel;
  if (rule.base !== '') {
    if (!rel.startsWith(`${rule.base}/`)) return false;
    path = rel.slice(rule.base.length + 1);
  }
  if (rule.anchored) return rule.re.test(path);
  // unanchored: the pattern may match the path from any component on
  for (let start = 0; ; ) {
    if (rule.re.test(path.slice(start))) return true;
    const slash = path.indexOf('/', start);
    if (slash < 0) return false;
    start = slash + 1;
  }
}

/** The rules in force in one directory: those of the CLI and of every `.pxarexclude` above. */
export class ExcludeScope {
  readonly rules: readonly ExcludeRule[];

  constructor(rules: readonly ExcludeRule[] = []) {
    this.rules = rules;
  }

  /** The root scope of an archive: `--exclude` patterns, rooted at the archive root. */
  static fromPatterns(patterns: readonly string[]): ExcludeScope {
    return new ExcludeScope(patterns.flatMap((p) => parseRule(p, '') ?? []));
  }

  /** True when the entry at `rel` is excluded: the last matching rule is an exclusion. */
  excludes(rel: string, isDir: boolean): boolean {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i]!;
      if (ruleMatches(r, rel, isDir)) return !r.include;
    }
    return false;
  }

  /** The scope inside directory `abs` (archive-relative `rel`), adding its `.pxarexclude`. */
  async enter(abs: Buffer, rel: string): Promise<ExcludeScope> {
    let text: string;
    try {
      text = (await fsp.readFile(Buffer.concat([abs, Buffer.from(`/${EXCLUDE_FILE}`)]))).toString('latin1');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return this;
      throw fail('IO_ERROR', `cannot read ${rel === '' ? '' : `${rel}/`}${EXCLUDE_FILE}: ${(e as Error).message}`, { path: rel }, e);
    }
    let added: ExcludeRule[];
    try {
      added = parseRules(text, rel);
    } catch (e) {
      throw fail('INVALID_ARGUMENT', `${rel === '' ? '' : `${rel}/`}${EXCLUDE_FILE}: ${(e as Error).message}`, { path: rel }, e);
    }
    return added.length === 0 ? this : new ExcludeScope([...this.rules, ...added]);
  }
}

/**
 * Which directories on other filesystems an archive descends into: by default none (they are
 * archived as empty directories, as PBS does), `--include-dev PATH` adds PATH's device,
 * `--all-file-systems` every device.
 */
export async function deviceFilter(rootDev: bigint, includeDev: readonly string[], all: boolean): Promise<(dev: bigint) => boolean> {
  if (all) return () => true;
  const devs = new Set<bigint>([rootDev]);
  for (const p of includeDev) {
    const st = await fsp.stat(p, { bigint: true }).catch((e: unknown) => {
      throw fail('INVALID_ARGUMENT', `--include-dev ${p}: ${(e as Error).message}`, { path: p }, e);
    });
    devs.add(st.dev);
  }
  return (dev) => devs.has(dev);
}

export const CLI_EXCLUDE_FILE = '.pxarexclude-cli';

/**
 * The content of `.pxarexclude-cli` for the archive-root rules of `--exclude`: one pattern per
 * line, `!` for inclusions, a trailing `/` for directory-only ones; undefined without patterns.
 */
export function cliExcludeRecord(scope: ExcludeScope): Uint8Array | undefined {
  const lines = scope.rules.filter((r) => r.base === '').map((r) => `${r.include ? '!' : ''}${r.pattern}${r.dirOnly ? '/' : ''}\n`);
  return lines.length === 0 ? undefined : Buffer.from(lines.join(''), 'latin1');
}
