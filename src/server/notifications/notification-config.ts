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
import { atomicWrite } from '../../storage/atomic-write.ts';
import { withLock } from '../../storage/file-lock.ts';
import type { Fs } from '../../storage/fs-port.ts';
import { readTextIfExists } from '../../storage/read-text.ts';

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
  const targets: Target[] = [];
  const matchers: Matcher[] = [];
  for (const s of parseSectionConfig(text, fileName)) {
    if (s.type === 'webhook' || s.type === 'smtp') targets.push(target(s));
    else if (s.type === 'matcher') matchers.push(matcher(s));
    else throw fail('INVALID_CONFIG', `${fileName}: unknown section type '${s.type}' (webhook, smtp, matcher)`, { type: s.type });
  }
  checkReferences({ targets, matchers });
  return { targets, matchers };
}

function checkReferences(c: NotificationConfig): void {
  for (const m of c.matchers) {
    for (const t of m.targets) if (!c.targets.some((x) => x.name === t)) throw fail('NOT_FOUND', `matcher '${m.name}' names target '${t}', which does not exist`, { matcher: m.name, target: t });
  }
}

export function formatNotificationConfig(c: NotificationConfig): string {
  const sections: Section[] = [];
  const props = (entries: readonly (readonly [string, string | undefined])[]): Map<string, string> => new Map(entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  for (const t of c.targets) {
    if (t.kind === 'webhook') sections.push({ type: 'webhook', id: t.name, props: props([['url', t.url], ['comment', t.comment]]) });
    else
      sections.push({
        type: 'smtp',
        id: t.name,
        props: props([['server', t.server], ['port', String(t.port)], ['mode', t.mode], ['from-address', t.fromAddress], ['mailto', t.mailto.join(',')], ['username', t.username], ['comment', t.comment]]),
      });
  }
  for (const m of c.matchers) {
    sections.push({ type: 'matcher', id: m.name, props: props([['match-severity', m.severities.join(',')], ['match-type', m.types.join(',')], ['target', m.targets.join(',')], ['comment', m.comment]]) });
  }
  return formatSectionConfig(sections);
}

/** The config file and its secrets, read fresh on every use so edits apply without a restart. */
export class NotificationConfigFile {
  readonly #fs: Fs;
  readonly #dir: string;

  constructor(fs: Fs, configDir: string) {
    this.#fs = fs;
    this.#dir = configDir;
  }

  async load(): Promise<NotificationConfig> {
    const path = join(this.#dir, NOTIFICATIONS_CFG);
    const text = await readTextIfExists(this.#fs, path);
    return text === undefined ? { targets: [], matchers: [] } : parseNotificationConfig(text, path);
  }

  /** The secret of target `name` (SMTP password, webhook Authorization header), if any. */
  async secret(name: string): Promise<string | undefined> {
    return (await this.#secrets())[name];
  }

  /** Read-modify-write under the config lock; `secrets` set (string) or remove (null) entries. */
  async update(fn: (c: NotificationConfig) => NotificationConfig, secrets: Readonly<Record<string, string | null>> = {}): Promise<void> {
    await this.#fs.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await withLock(join(this.#dir, LOCK_FILE), async () => {
      const next = fn(await this.load());
      checkReferences(next);
      const text = formatNotificationConfig(next);
      parseNotificationConfig(text, NOTIFICATIONS_CFG); // what is written must read back
      if (Object.keys(secrets).length > 0) {
        const all = await this.#secrets();
        for (const [k, v] of Object.entries(secrets)) {
          if (v === null) delete all[k];
          else all[k] = v;
        }
        await atomicWrite(this.#fs, join(this.#dir, NOTIFICATION_SECRETS), Buffer.from(`${JSON.stringify(all, null, 2)}\n`), { durable: true, perm: 0o600 });
      }
      await atomicWrite(this.#fs, join(this.#dir, NOTIFICATIONS_CFG), Buffer.from(text), { durable: true, perm: 0o640 });
    });
  }

  async #secrets(): Promise<Record<string, string>> {
    const text = await readTextIfExists(this.#fs, join(this.#dir, NOTIFICATION_SECRETS));
    if (text === undefined) return {};
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw fail('INVALID_CONFIG', `${NOTIFICATION_SECRETS} is not a JSON object`, {});
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
}
