/**
 * Notification targets and matchers over the API (PBS's `config/notifications` paths), editing
 * the same notifications.cfg as `holdfast notification` (the server reads it per event, so a
 * change applies at once):
 * - `GET …/targets`: every target (webhook, smtp), without secrets; `secret-set` says whether one
 *   is stored;
 * - `POST …/endpoints/webhook` {name, url, secret?, comment?}, `POST …/endpoints/smtp` {name,
 *   server, port?, mode?, from-address, mailto, username?, password?, comment?};
 * - `DELETE …/endpoints/{name}` (refused while a matcher names it);
 * - `GET/POST …/matchers` {name, match-severity?, match-type?, target, comment?},
 *   `DELETE …/matchers/{name}`.
 * Secrets go to notifications-secrets.json (0600) and are never sent back. Sys.Audit on
 * `/system/notifications` reads, Sys.Modify changes.
 */
import { int, list, rejectControl, requiredText, text, type Args } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import type { Fs } from '../../storage/fs-port.ts';
import {
  checkName, formatNotificationConfig, NotificationConfigFile, parseNotificationConfig, SEVERITIES, SMTP_MODES,
  type Matcher, type NotificationConfig, type Severity, type SmtpMode, type Target,
} from '../notifications/notification-config.ts';
import type { Route } from '../router.ts';
import { checkMatchTypes } from '../notifications/notifier.ts';

const BASE = '/api2/json/config/notifications';
const ACL = '/system/notifications';
const audit = () => ({ path: ACL, privs: ['Sys.Audit' as const] });
const modify = () => ({ path: ACL, privs: ['Sys.Modify' as const] });

/** Comma lists as one text or as repeated parameters. */
const csv = (args: Args, name: string): string[] => list(args, name).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

/** Checks a new entry the way the config file is read, so nothing unreadable is ever written. */
function validated(c: NotificationConfig): NotificationConfig {
  return parseNotificationConfig(formatNotificationConfig(c), 'request');
}

function webhook(args: Args): Target {
  rejectControl(args);
  return { kind: 'webhook', name: checkName(requiredText(args, 'name')), url: requiredText(args, 'url'), ...optional('comment', text(args, 'comment')) };
}

function smtp(args: Args): Target {
  rejectControl(args);
  const mode = text(args, 'mode') ?? 'starttls';
  if (!(SMTP_MODES as readonly string[]).includes(mode)) throw fail('INVALID_ARGUMENT', `mode must be one of ${SMTP_MODES.join(', ')}`, { param: 'mode', value: mode });
  return {
    kind: 'smtp',
    name: checkName(requiredText(args, 'name')),
    server: requiredText(args, 'server'),
    port: int(args, 'port', { min: 1, max: 65535 }) ?? (mode === 'tls' ? 465 : mode === 'insecure' ? 25 : 587),
    mode: mode as SmtpMode,
    fromAddress: requiredText(args, 'from-address'),
    mailto: csv(args, 'mailto'),
    ...optional('username', text(args, 'username')),
    ...optional('comment', text(args, 'comment')),
  };
}

function matcherOf(args: Args): Matcher {
  rejectControl(args);
  const severities = csv(args, 'match-severity');
  for (const s of severities) if (!(SEVERITIES as readonly string[]).includes(s)) throw fail('INVALID_ARGUMENT', `match-severity must be of ${SEVERITIES.join(', ')}`, { param: 'match-severity', value: s });
  const types = csv(args, 'match-type');
  checkMatchTypes(types);
  return { name: checkName(requiredText(args, 'name')), severities: severities as Severity[], types, targets: csv(args, 'target'), ...optional('comment', text(args, 'comment')) };
}

function shownTarget(t: Target, secrets: ReadonlySet<string>): Record<string, unknown> {
  const base = { name: t.name, type: t.kind, comment: t.comment, 'secret-set': secrets.has(t.name) };
  if (t.kind === 'webhook') return { ...base, url: t.url };
  return { ...base, server: t.server, port: t.port, mode: t.mode, 'from-address': t.fromAddress, mailto: t.mailto, username: t.username };
}

const taken = (c: NotificationConfig, name: string): boolean => c.targets.some((t) => t.name === name) || c.matchers.some((m) => m.name === name);

export function notificationConfigRoutes(fs: Fs, configDir: string): Route[] {
  const file = new NotificationConfigFile(fs, configDir);
  const addTarget = async (t: Target, secret: string | undefined): Promise<null> => {
    await file.update(
      (c) => {
        if (taken(c, t.name)) throw fail('ALREADY_EXISTS', `notification target or matcher '${t.name}' exists already`, { name: t.name });
        return validated({ ...c, targets: [...c.targets, t] });
      },
      secret ? { [t.name]: secret } : {},
    );
    return null;
  };
  return [
    {
      method: 'GET',
      path: `${BASE}/targets`,
      privilege: audit,
      handler: async () => {
        const c = await file.load();
        const secrets = new Set<string>();
        for (const t of c.targets) if ((await file.secret(t.name)) !== undefined) secrets.add(t.name);
        return c.targets.map((t) => shownTarget(t, secrets));
      },
    },
    { method: 'POST', path: `${BASE}/endpoints/webhook`, privilege: modify, handler: (i) => addTarget(webhook(i.args), text(i.args, 'secret')) },
    { method: 'POST', path: `${BASE}/endpoints/smtp`, privilege: modify, handler: (i) => addTarget(smtp(i.args), text(i.args, 'password')) },
    {
      method: 'DELETE',
      path: `${BASE}/endpoints/{name}`,
      privilege: modify,
      handler: async (i) => {
        const name = i.params['name'] ?? '';
        await file.update((c) => {
          if (!c.targets.some((t) => t.name === name)) throw fail('NOT_FOUND', `notification target '${name}' does not exist`, { name });
          const users = c.matchers.filter((m) => m.targets.includes(name)).map((m) => m.name);
          if (users.length > 0) throw fail('LOCKED', `target '${name}' is named by matcher ${users.join(', ')}`, { name, matchers: users });
          return { ...c, targets: c.targets.filter((t) => t.name !== name) };
        }, { [name]: null });
        return null;
      },
    },
    { method: 'GET', path: `${BASE}/matchers`, privilege: audit, handler: async () => (await file.load()).matchers.map((m) => ({ name: m.name, 'match-severity': m.severities, 'match-type': m.types, target: m.targets, comment: m.comment })) },
    {
      method: 'POST',
      path: `${BASE}/matchers`,
      privilege: modify,
      handler: async (i) => {
        const m = matcherOf(i.args);
        await file.update((c) => {
          if (taken(c, m.name)) throw fail('ALREADY_EXISTS', `notification target or matcher '${m.name}' exists already`, { name: m.name });
          return validated({ ...c, matchers: [...c.matchers, m] });
        });
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/matchers/{name}`,
      privilege: modify,
      handler: async (i) => {
        const name = i.params['name'] ?? '';
        await file.update((c) => {
          if (!c.matchers.some((m) => m.name === name)) throw fail('NOT_FOUND', `notification matcher '${name}' does not exist`, { name });
          return { ...c, matchers: c.matchers.filter((m) => m.name !== name) };
        });
        return null;
      },
    },
  ];
}
