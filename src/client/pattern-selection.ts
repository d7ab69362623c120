/**
 * `--pattern GLOB` for restore and catalog dump: the entries a glob selects, with the syntax of
 * `.pxarexclude` lines (exclude-rules.ts: `*`, `?`, `**`, classes; a leading `/` anchors at the
 * archive root, else the pattern matches from any directory down; a trailing `/` matches
 * directories only), as PBS's catalog shell takes them for `restore --pattern`. A matched
 * directory brings its whole subtree. Names are matched as bytes (latin1), as exclusions are.
 *
 * Invariant: `covers` and `select` (format/pxar/selection.ts `matchEvents`) agree on every
 * entry: selected when it, or a directory above it, matches.
 */
import { fail } from '../core/errors.ts';
import type { PxarEvent } from '../format/pxar/entry.ts';
import { matchEvents, type EntrySelection } from '../format/pxar/selection.ts';
import { parseRule, ruleMatches, type ExcludeRule } from './exclude-rules.ts';

const latin1 = (path: Uint8Array): string => Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString('latin1');

export class PatternSelection implements EntrySelection {
  readonly #rules: readonly ExcludeRule[];
  readonly description: string;

  private constructor(rules: readonly ExcludeRule[], texts: readonly string[]) {
    this.#rules = rules;
    this.description = texts.map((t) => `'${t}'`).join(', ');
  }

  /** INVALID_ARGUMENT for a blank pattern, a `!` (there is nothing to exclude from) or a bad glob. */
  static parse(texts: readonly string[]): PatternSelection {
    if (texts.length === 0) throw fail('INVALID_ARGUMENT', 'no pattern given', { param: 'pattern' });
    const rules = texts.map((text) => {
      if (text.startsWith('!')) throw fail('INVALID_ARGUMENT', `pattern '${text}': a pattern selects, it cannot exclude (leave out the '!')`, { param: 'pattern', value: text });
      const rule = parseRule(text, '');
      if (rule === undefined) throw fail('INVALID_ARGUMENT', `pattern '${text}' matches nothing (blank, a comment or only '/')`, { param: 'pattern', value: text });
      return rule;
    });
    return new PatternSelection(rules, texts);
  }

  #matches(path: Uint8Array, isDir: boolean): boolean {
    const rel = latin1(path);
    return this.#rules.some((r) => ruleMatches(r, rel, isDir));
  }

  covers(path: Uint8Array, isDir: boolean): boolean {
    if (path.length === 0) return false;
    if (this.#matches(path, isDir)) return true;
    for (let i = path.length - 1; i > 0; i--) if (path[i] === 0x2f && this.#matches(path.subarray(0, i), true)) return true;
    return false;
  }

  select(events: AsyncIterable<PxarEvent>): AsyncGenerator<PxarEvent> {
    return matchEvents(events, (path, isDir) => this.#matches(path, isDir), this.description);
  }

  mayHoldSelected(): boolean {
    return true; // a match may lie anywhere below
  }

  tracker(): { see(path: Uint8Array): void; check(): void } {
    let any = false;
    return {
      see: () => {
        any = true;
      },
      check: () => {
        if (!any) throw fail('NOT_FOUND', `nothing in the archive matches ${this.description}`, { pattern: this.description });
      },
    };
  }
}
