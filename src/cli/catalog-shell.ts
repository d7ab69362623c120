/**
 * `holdfast catalog shell SNAPSHOT [ARCHIVE]`: PBS's interactive catalog shell. A user walks one
 * directory archive of a snapshot (`cd`, `ls`, `stat`, `find`), picks what to get back (`select`,
 * `deselect`, `list-selected`) and restores it (`restore-selected TARGET`, or `restore TARGET` for
 * the current directory or a pattern). Lines come from a terminal (with a prompt and history) or
 * from a pipe, one command a line, so the shell is scriptable.
 *
 * The archive's listing is read once, at start (catalog.ts `archiveEntries`: a split archive's
 * metadata archive, else the catalog or the archive itself) and kept as a tree of names, about
 * 100 bytes an entry. Restores go through `holdfast restore --path/--pattern` (commands/restore.ts),
 * each over a reader session of its own, so what the shell restores is exactly what the restore
 * command would.
 *
 * Invariants: the shell never writes anywhere but a restore's target; a command that fails prints
 * `error: …` and the shell goes on (a script's run then ends with an error naming how many failed);
 * paths are shown and taken as the listing prints them (archive-relative, `/` the archive root).
 */
import { createInterface } from 'node:readline';
import { formatTime } from '../core/backup-ref.ts';
import { fail, toHoldfastError } from '../core/errors.ts';
import { CATALOG_ENTRY_TYPES } from '../format/pxar/catalog.ts';
import type { ListedEntry, ListedKind } from '../format/pxar/listing.ts';
import { pathText } from '../format/pxar/names.ts';
import { parseRule, ruleMatches } from '../client/exclude-rules.ts';

interface Node {
  readonly name: string;
  readonly kind: ListedKind;
  readonly size?: number;
  readonly mtime?: number;
  readonly target?: string;
}

/**
 * The most entries the shell holds (~100 bytes each in memory): a listing a server sends is not
 * trusted to be small. A larger archive is walked with `catalog dump` and `restore --path/--pattern`.
 */
export const MAX_SHELL_ENTRIES = 5_000_000;

/** An archive's entries by directory: '' is the root, children in archive order. */
export class CatalogTree {
  readonly #dirs = new Map<string, Node[]>([['', []]]);
  readonly #nodes = new Map<string, Node>();
  readonly #max: number;
  entries = 0;

  constructor(max = MAX_SHELL_ENTRIES) {
    this.#max = max;
  }

  static async from(entries: AsyncIterable<ListedEntry>, max = MAX_SHELL_ENTRIES): Promise<CatalogTree> {
    const tree = new CatalogTree(max);
    for await (const e of entries) tree.add(e);
    return tree;
  }

  add(e: ListedEntry): void {
    if (this.entries >= this.#max) {
      throw fail('INVALID_ARGUMENT', `the archive has more than ${this.#max} entries, too many for the shell: list it with catalog dump (--path, --pattern) and restore with restore --path or --pattern`, { limit: this.#max });
    }
    const path = pathText(e.path);
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const node: Node = { name: path.slice(slash + 1), kind: e.kind, ...(e.size === undefined ? {} : { size: e.size }), ...(e.mtime === undefined ? {} : { mtime: e.mtime }), ...(e.target === undefined ? {} : { target: pathText(e.target) }) };
    let siblings = this.#dirs.get(parent);
    if (siblings === undefined) this.#dirs.set(parent, (siblings = []));
    siblings.push(node);
    this.#nodes.set(path, node);
    if (e.kind === 'directory' && !this.#dirs.has(path)) this.#dirs.set(path, []);
    this.entries++;
  }

  /** The entry at `path` (archive-relative, no leading `/`); the root is a directory. */
  node(path: string): Node | undefined {
    return path === '' ? { name: '/', kind: 'directory' } : this.#nodes.get(path);
  }

  children(path: string): readonly Node[] | undefined {
    return this.#dirs.get(path);
  }

  /** Every entry below `dir`, depth first in archive order, with its path. */
  *walk(dir: string): Generator<{ readonly path: string; readonly node: Node }> {
    for (const child of this.#dirs.get(dir) ?? []) {
      const path = dir === '' ? child.name : `${dir}/${child.name}`;
      yield { path, node: child };
      if (child.kind === 'directory') yield* this.walk(path);
    }
  }
}

/** What the shell asks of the world: a restore of paths or patterns into a target. */
export interface ShellActions {
  restore(target: string, selection: { readonly path: readonly string[] } | { readonly pattern: readonly string[] }): Promise<string>;
}

/** `/a/b`, `a/b`, `..`, `.` against the current directory → an archive-relative path ('' = root). */
export function resolvePath(cwd: string, arg: string): string {
  const parts = arg.startsWith('/') ? [] : cwd === '' ? [] : cwd.split('/');
  for (const p of arg.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}

const show = (path: string): string => `/${path}`;

function entryLine(node: Node, name: string): string {
  const type = String.fromCharCode(CATALOG_ENTRY_TYPES[node.kind]);
  const size = (node.size === undefined ? '-' : String(node.size)).padStart(12);
  const mtime = node.mtime === undefined ? '-'.padEnd(20) : formatTime(node.mtime);
  return `${type} ${size} ${mtime} ${name}${node.kind === 'directory' ? '/' : ''}${node.target === undefined ? '' : ` -> ${node.target}`}`;
}

interface Command {
  readonly usage: string;
  readonly help: string;
  run(args: readonly string[]): Promise<string> | string;
}

/** One shell: its tree, current directory and selection; `run` takes a line, answers text. */
export class CatalogShell {
  readonly #tree: CatalogTree;
  readonly #actions: ShellActions;
  readonly #commands: ReadonlyMap<string, Command>;
  cwd = '';
  readonly selected = new Set<string>();

  constructor(tree: CatalogTree, actions: ShellActions) {
    this.#tree = tree;
    this.#actions = actions;
    this.#commands = new Map<string, Command>([
      ['help', { usage: 'help', help: 'list the commands', run: () => this.#help() }],
      ['pwd', { usage: 'pwd', help: 'print the current directory', run: () => show(this.cwd) }],
      ['cd', { usage: 'cd [DIR]', help: 'change directory (no DIR: the archive root)', run: (a) => this.#cd(a) }],
      ['ls', { usage: 'ls [PATH]', help: 'list a directory (type, size, mtime, name), or show one entry', run: (a) => this.#ls(a) }],
      ['stat', { usage: 'stat PATH', help: 'show one entry', run: (a) => this.#stat(a) }],
      ['find', { usage: 'find GLOB [--select]', help: 'entries below the current directory that match (.pxarexclude syntax; / anchors at the archive root); --select selects them', run: (a) => this.#find(a) }],
      ['select', { usage: 'select PATH…', help: 'add entries to the selection (a directory brings its subtree)', run: (a) => this.#select(a, true) }],
      ['deselect', { usage: 'deselect PATH…', help: 'remove entries from the selection', run: (a) => this.#select(a, false) }],
      ['clear-selected', { usage: 'clear-selected', help: 'empty the selection', run: () => this.#clear() }],
      ['list-selected', { usage: 'list-selected', help: 'print the selection', run: () => [...this.selected].sort().map(show).join('\n') }],
      ['restore-selected', { usage: 'restore-selected TARGET', help: 'restore the selection into directory TARGET (at their places below it)', run: (a) => this.#restoreSelected(a) }],
      ['restore', { usage: 'restore TARGET [--pattern GLOB]…', help: 'restore the current directory into TARGET, or what GLOB matches in the archive', run: (a) => this.#restore(a) }],
    ]);
  }

  /** The answer to one line (empty for a blank one); throws a coded error for a bad command. */
  async run(line: string): Promise<string> {
    const words = splitWords(line);
    const [name, ...args] = words;
    if (name === undefined) return '';
    const cmd = this.#commands.get(name);
    if (cmd === undefined) throw fail('INVALID_ARGUMENT', `unknown command '${name}' (help lists them)`, { command: name });
    return cmd.run(args);
  }

  #help(): string {
    const width = Math.max(...[...this.#commands.values()].map((c) => c.usage.length));
    return [...[...this.#commands.values()].map((c) => `${c.usage.padEnd(width)}  ${c.help}`), `${'exit'.padEnd(width)}  leave the shell (also quit, or end of input)`].join('\n');
  }

  #existing(arg: string | undefined, what: string): { readonly path: string; readonly node: Node } {
    if (arg === undefined) throw fail('INVALID_ARGUMENT', `${what}: a path is needed`, {});
    const path = resolvePath(this.cwd, arg);
    const node = this.#tree.node(path);
    if (node === undefined) throw fail('NOT_FOUND', `${show(path)} is not in the archive`, { path: show(path) });
    return { path, node };
  }

  #cd(args: readonly string[]): string {
    const { path, node } = this.#existing(args[0] ?? '/', 'cd');
    if (node.kind !== 'directory') throw fail('INVALID_ARGUMENT', `${show(path)} is not a directory`, { path: show(path) });
    this.cwd = path;
    return '';
  }

  #ls(args: readonly string[]): string {
    const { path, node } = this.#existing(args[0] ?? '.', 'ls');
    if (node.kind !== 'directory') return entryLine(node, node.name);
    return (this.#tree.children(path) ?? []).map((c) => entryLine(c, c.name)).join('\n');
  }

  #stat(args: readonly string[]): string {
    const { path, node } = this.#existing(args[0], 'stat');
    return [
      `path: ${show(path)}`,
      `type: ${node.kind}`,
      ...(node.size === undefined ? [] : [`size: ${node.size}`]),
      ...(node.mtime === undefined ? [] : [`mtime: ${formatTime(node.mtime)}`]),
      ...(node.target === undefined ? [] : [`target: ${node.target}`]),
    ].join('\n');
  }

  #find(args: readonly string[]): string {
    const select = args.includes('--select');
    const globs = args.filter((a) => a !== '--select');
    if (globs.length !== 1) throw fail('INVALID_ARGUMENT', 'find: one GLOB is needed', {});
    const rule = parseRule(globs[0]!, '');
    if (rule === undefined || rule.include) throw fail('INVALID_ARGUMENT', `find: '${globs[0]!}' is no pattern to match`, { pattern: globs[0]! });
    const found: string[] = [];
    for (const { path, node } of this.#tree.walk(this.cwd)) {
      // matched as exclusions are: bytes as latin1 (the listing's text is UTF-8)
      if (ruleMatches(rule, Buffer.from(path, 'utf8').toString('latin1'), node.kind === 'directory')) found.push(path);
    }
    if (select) for (const p of found) this.selected.add(p);
    return found.map(show).join('\n');
  }

  #select(args: readonly string[], add: boolean): string {
    if (args.length === 0) throw fail('INVALID_ARGUMENT', `${add ? 'select' : 'deselect'}: a path is needed`, {});
    for (const arg of args) {
      const path = resolvePath(this.cwd, arg);
      if (!add) {
        if (!this.selected.delete(path)) throw fail('NOT_FOUND', `${show(path)} is not selected`, { path: show(path) });
        continue;
      }
      const { path: found } = this.#existing(arg, 'select');
      if (found === '') throw fail('INVALID_ARGUMENT', 'select: the archive root is the whole archive; use restore at / instead', {});
      this.selected.add(found);
    }
    return '';
  }

  #clear(): string {
    this.selected.clear();
    return '';
  }

  async #restoreSelected(args: readonly string[]): Promise<string> {
    const target = oneTarget(args, 'restore-selected');
    if (this.selected.size === 0) throw fail('INVALID_ARGUMENT', 'restore-selected: nothing is selected (select or find --select first)', {});
    return this.#actions.restore(target, { path: [...this.selected].sort() });
  }

  async #restore(args: readonly string[]): Promise<string> {
    const patterns: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--pattern') {
        const p = args[++i];
        if (p === undefined) throw fail('INVALID_ARGUMENT', 'restore: --pattern needs a GLOB', {});
        patterns.push(p);
      } else rest.push(args[i]!);
    }
    const target = oneTarget(rest, 'restore');
    if (patterns.length > 0) return this.#actions.restore(target, { pattern: patterns });
    return this.#actions.restore(target, this.cwd === '' ? { path: [] } : { path: [this.cwd] });
  }
}

function oneTarget(args: readonly string[], what: string): string {
  if (args.length !== 1) throw fail('INVALID_ARGUMENT', `${what}: one TARGET directory is needed`, {});
  return args[0]!;
}

/** Words split at blanks; "double" or 'single' quotes keep blanks, a backslash escapes one character. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length && quote !== "'") {
      word = (word ?? '') + line[++i]!;
    } else if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quote !== undefined) throw fail('INVALID_ARGUMENT', `unclosed ${quote} quote`, {});
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * Reads commands from `input` until `exit`, `quit` or its end: with a prompt on a terminal, without
 * one from a pipe. Resolves the number of commands that failed.
 */
export async function runShell(shell: CatalogShell, io: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream; readonly out: (t: string) => void; readonly err: (t: string) => void; readonly terminal: boolean }): Promise<number> {
  const rl = createInterface({ input: io.input, ...(io.terminal ? { output: io.output, terminal: true, historySize: 500 } : { terminal: false }) });
  const prompt = (): void => {
    if (!io.terminal) return;
    rl.setPrompt(`${show(shell.cwd)} > `);
    rl.prompt();
  };
  // Ctrl-C leaves, as `exit` does (without a listener readline would only pause its input)
  rl.on('SIGINT', () => rl.close());
  let failed = 0;
  prompt();
  try {
    for await (const line of rl) {
      const word = line.trim();
      if (word === 'exit' || word === 'quit') break;
      try {
        const answer = await shell.run(line);
        if (answer !== '') io.out(answer);
      } catch (e) {
        failed++;
        const err = toHoldfastError(e);
        io.err(`error: ${err.message}`);
      }
      prompt();
    }
  } finally {
    rl.close();
  }
  return failed;
}
