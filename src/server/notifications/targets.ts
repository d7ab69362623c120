/**
 * Notification targets: the port every kind of target implements, and its two adapters.
 *
 * - webhook: `POST url` with a JSON body `{title, message, severity, fields, timestamp}` (and the
 *   secret, if set, as the `Authorization` header); any 2xx is delivery.
 * - smtp: one plain-text mail through nodemailer to the target's `mailto` list, with the
 *   severity in the subject; the server's 2xx reply to DATA is delivery.
 *
 * Contract (test/contract/notification-target.contract.ts runs it against both, over a real local
 * HTTP receiver and a real local SMTP server): `send` resolves only once the receiver accepted the
 * notification and rejects with NOTIFICATION_FAILED otherwise, within `timeoutMs`. Nothing is
 * retried here: the notifier logs a failure, and a task's outcome never depends on it.
 */
import { createTransport } from 'nodemailer';
import { fail } from '../../core/errors.ts';
import type { Severity, SmtpTarget, Target, WebhookTarget } from './notification-config.ts';

export interface Notification {
  readonly title: string;
  readonly message: string;
  readonly severity: Severity;
  /** what matchers match on and receivers may use: type, store, upid, user */
  readonly fields: Readonly<Record<string, string>>;
  /** epoch seconds */
  readonly timestamp: number;
}

export interface NotificationSender {
  send(n: Notification): Promise<void>;
}

export const SEND_TIMEOUT_MS = 30_000;

export function senderFor(t: Target, secret: string | undefined, timeoutMs = SEND_TIMEOUT_MS): NotificationSender {
  return t.kind === 'webhook' ? webhookSender(t, secret, timeoutMs) : smtpSender(t, secret, timeoutMs);
}

function failed(target: string, why: string, cause?: unknown): Error {
  return fail('NOTIFICATION_FAILED', `notification target '${target}': ${why}`, { target }, cause);
}

export function webhookSender(t: WebhookTarget, secret: string | undefined, timeoutMs = SEND_TIMEOUT_MS): NotificationSender {
  return {
    async send(n) {
      let res: Response;
      try {
        res = await fetch(t.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(secret ? { authorization: secret } : {}) },
          body: JSON.stringify(n),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (e) {
        throw failed(t.name, `POST ${new URL(t.url).origin} failed: ${e instanceof Error ? e.message : String(e)}`, e);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw failed(t.name, `the webhook answered ${res.status}`);
    },
  };
}

export function smtpSender(t: SmtpTarget, password: string | undefined, timeoutMs = SEND_TIMEOUT_MS): NotificationSender {
  return {
    async send(n) {
      const transport = createTransport({
        host: t.server,
        port: t.port,
        secure: t.mode === 'tls',
        requireTLS: t.mode === 'starttls',
        ignoreTLS: t.mode === 'insecure',
        ...(t.username ? { auth: { user: t.username, pass: password ?? '' } } : {}),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      try {
        const fields = Object.entries(n.fields).map(([k, v]) => `${k}: ${v}`).join('\n');
        await transport.sendMail({
          from: t.fromAddress,
          to: [...t.mailto],
          subject: `[holdfast ${n.severity}] ${n.title}`,
          text: `${n.message}\n\n${fields}\n`,
        });
      } catch (e) {
        throw failed(t.name, `mail to ${t.server}:${t.port} failed: ${e instanceof Error ? e.message : String(e)}`, e);
      } finally {
        transport.close();
      }
    },
  };
}
