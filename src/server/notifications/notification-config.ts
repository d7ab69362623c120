/**
 * `notifications.cfg`: where task outcomes are sent, in PBS's section-config format and with PBS's
 * vocabulary (targets and matchers):
 *
 *     webhook: ops
 *     	url https://hooks.example/holdfast
 *     smtp: mail
 *     	server mail.example
 *     	port 587
 *     	mode starttls
 *     	from-address holdfast@example
 *     	mailto admin@example,oncall@example
 *     	username holdfast
 *     matcher: failures
 *     	match-severity warning,error
 *     	match-type gc,verify,prunejob,backup
 *     	target ops,mail
 *
 * Secrets (an SMTP password, a webhook's `Authorization` header) live apart in
 * `notifications-secrets.json`, mode 0600, as PBS keeps them apart from the config.
 *
 * Invariants: every value is checked when read and written (a bad file names its line); a matcher
 * names only targets that exist; lists are comma-separated (the format has no repeated keys).
 */
import { join } from 'node:path';
import { fail } from '../../core/errors.ts';
import { formatSectionConfig, parseSectionConfig, type Section } from '../../format/section-config.ts';
import { SecretsFile, SectionConfigFile } from '../../storage/config-files.ts';
import type { Fs } from '../../storage/fs-port.ts';

export const NOTIFICATIONS_CFG = 'notifications.cfg';
export const NOTIFICATION_SECRETS = 'notifications-secrets.json';
const LOCK_FILE = '.notifications.lck';

export const SEVERITIES = ['info', 'warning', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SMTP_MODES = ['insecure', 'starttls', 'tls'] as const;
export type SmtpMode = (typeof SMTP_MODES)[number];

export interface WebhookTarget {
  readonly kind: 'webhook';
  readonly name: string;
  readonly url: string;
  readonly comment?: string;
}

export interface SmtpTarget {
  readonly kind: 'smtp';
  readonly name: string;
  readonly server: string;
  readonly port: number;
  readonly mode: SmtpMode;
  readonly fromAddress: string;
  readonly mailto: readonly string[];
  readonly username?: string;
  readonly comment?: string;
}

export type Target = WebhookTarget | SmtpTarget;

export interface Matcher {
  readonly name: string;
  /** empty: every severity */
  readonly severities: readonly Severity[];
  /** task worker types (gc is `garbage_collection`'s short form); empty: every type */
  readonly types: readonly string[];
  readonly targets: readonly string[];
  readonly comment?: string;
}

export interface NotificationConfig {
  readonly targets: readonly Target[];
  readonly matchers: readonly Matcher[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+$/;

function invalid(what: string, value: unknown): never {
  throw fail('INVALID_ARGUMENT', `invalid ${what}: ${JSON.stringify(value)}`, { value });
}

export function checkName(name: string): string {
  return NAME.test(name) ? name : invalid('notification target or matcher name (letters, digits, _ . -, at most 64)', name);
}

export function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return invalid('webhook url', url);
  }
  return u.protocol === 'https:' || u.protocol === 'http:' ? url : invalid('webhook url (http or https)', url);
}

function list(text: string | undefined): string[] {
  return text === undefined || text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function target(s: Section): Target {
  const p = (k: string): string | undefined => s.props.get(k);
  const comment = p('comment');
  if (s.type === 'webhook') return { kind: 'webhook', name: checkName(s.id), url: checkUrl(p('url') ?? ''), ...(comment ? { comment } : {}) };
  const port = Number(p('port') ?? '25');
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid('smtp port', p('port'));
  const mode = p('mode') ?? 'starttls';
  if (!(SMTP_MODES as readonly string[]).includes(mode)) invalid(`smtp mode (${SMTP_MODES.join(', ')})`, mode);
  const mailto = list(p('mailto'));
  if (mailto.length === 0 || !mailto.every((m) => EMAIL.test(m))) invalid('smtp mailto (comma-separated addresses)', p('mailto'));
  const from = p('from-address') ?? '';
  if (!EMAIL.test(from)) invalid('smtp from-address', from);
  const server = p('server') ?? '';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(server)) invalid('smtp server', server);
  const username = p('username');
  return { kind: 'smtp', name: checkName(s.id), server, port, mode: mode as SmtpMode, fromAddress: from, mailto, ...(username ? { username } : {}), ...(comment ? { comment } : {}) };
}

function matcher(s: Section): Matcher {
  const severities = list(s.props.get('match-severity'));
  for (const v of severities) if (!(SEVERITIES as readonly string[]).includes(v)) invalid(`match-severity (${SEVERITIES.join(', ')})`, v);
  const types = list(s.props.get('match-type'));
  for (const t of types) if (!NAME.test(t)) invalid('match-type', t);
  const comment = s.props.get('comment');
  return { name: checkName(s.id), severities: severities as Severity[], types, targets: list(s.props.get('target')).map(checkName), ...(comment ? { comment } : {}) };
}

export function parseNotificationConfig(text: string, fileName: string): NotificationConfig {
  const c = split(parseSectionConfig(text, fileName).map((s) => entryFromSection(s, fileName)));
  checkReferences(c);
  return c;
}

function checkReferences(c: NotificationConfig): void {
  for (const m of c.matchers) {
    for (const t of m.targets) if (!c.targets.some((x) => x.name === t)) throw fail('NOT_FOUND', `matcher '${m.name}' names target '${t}', which does not exist`, { matcher: m.name, target: t });
  }
}

const props = (entries: readonly (readonly [string, string | undefined])[]): Map<string, string> => new Map(entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));

function targetToSection(t: Target): Section {
  if (t.kind === 'webhook') return { type: 'webhook', id: t.name, props: props([['url', t.url], ['comment', t.comment]]) };
  return {
    type: 'smtp',
    id: t.name,
    props: props([['server', t.server], ['port', String(t.port)], ['mode', t.mode], ['from-address', t.fromAddress], ['mailto', t.mailto.join(',')], ['username', t.username], ['comment', t.comment]]),
  };
}

function matcherToSection(m: Matcher): Section {
  return { type: 'matcher', id: m.name, props: props([['match-severity', m.severities.join(',')], ['match-type', m.types.join(',')], ['target', m.targets.join(',')], ['comment', m.comment]]) };
}

export function formatNotificationConfig(c: NotificationConfig): string {
  return formatSectionConfig([...c.targets.map(targetToSection), ...c.matchers.map(matcherToSection)]);
}

/** Targets and matchers as file entries, so that storage/config-files.ts handles the file. */
type Entry = { readonly target: Target } | { readonly matcher: Matcher };

function entryFromSection(s: Section, path: string): Entry {
  if (s.type === 'webhook' || s.type === 'smtp') return { target: target(s) };
  if (s.type === 'matcher') return { matcher: matcher(s) };
  throw fail('INVALID_CONFIG', `${path}: unknown section type '${s.type}' (webhook, smtp, matcher)`, { type: s.type });
}

function entryToSection(e: Entry): Section {
  return 'target' in e ? targetToSection(e.target) : matcherToSection(e.matcher);
}

function split(entries: readonly Entry[]): NotificationConfig {
  return { targets: entries.flatMap((e) => ('target' in e ? [e.target] : [])), matchers: entries.flatMap((e) => ('matcher' in e ? [e.matcher] : [])) };
}

/** The config file and its secrets, read fresh on every use so edits apply without a restart. */
export class NotificationConfigFile {
  readonly #config: SectionConfigFile<Entry>;
  readonly #secrets: SecretsFile;

  constructor(fs: Fs, configDir: string) {
    this.#config = new SectionConfigFile<Entry>(fs, configDir, { file: NOTIFICATIONS_CFG, lock: LOCK_FILE, fromSection: entryFromSection, toSection: entryToSection, check: (all) => checkReferences(split(all)) });
    this.#secrets = new SecretsFile(fs, join(configDir, NOTIFICATION_SECRETS), 'target names');
  }

  async load(): Promise<NotificationConfig> {
    return split(await this.#config.list());
  }

  /** The secret of target `name` (SMTP password, webhook Authorization header), if any. */
  async secret(name: string): Promise<string | undefined> {
    return (await this.#secrets.read())[name];
  }

  /** Read-modify-write under the config lock; `secrets` set (string) or remove (null) entries. */
  async update(fn: (c: NotificationConfig) => NotificationConfig, secrets: Readonly<Record<string, string | null>> = {}): Promise<void> {
    await this.#config.locked(async () => {
      const next = fn(await this.load());
      checkReferences(next);
      if (Object.keys(secrets).length > 0) await this.#secrets.change(secrets);
      await this.#config.write([...next.targets.map((target) => ({ target })), ...next.matchers.map((matcher) => ({ matcher }))]);
    });
  }
}
