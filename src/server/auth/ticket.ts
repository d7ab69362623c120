/**
 * Login tickets and CSRF tokens (pbs-format.md §6.1).
 *
 * Ticket text: `PBS:<userid>:<8 uppercase hex epoch>::<signature>`, the signature being
 * base64 (no padding) of HMAC-SHA256 over `PBS:<userid>:<hex epoch>`. CSRF token:
 * `<8 hex epoch>:<base64 HMAC-SHA256 over "<hex epoch>:<userid>">`. PBS signs tickets with a
 * private key; Holdfast uses HMAC because only this server ever verifies its tickets. The two MACs
 * use separate keys derived from one 32-byte secret, `authkey.key` in the config dir (mode 0600),
 * so a CSRF token can never pass as a ticket signature.
 *
 * Both are valid from 300 s before their timestamp (clock skew) to 7200 s after it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fail } from '../../core/errors.ts';
import { isValidUserid } from './auth-id.ts';
import { SECRET_MODE, type ConfigDir } from './config-dir.ts';

export const TICKET_LIFETIME_SECONDS = 7200;
export const CLOCK_SKEW_SECONDS = 300;
export const AUTH_KEY_FILE = 'authkey.key';
const KEY_LENGTH = 32;

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64').replace(/=+$/, '');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hexTime(epoch: number): string {
  return epoch.toString(16).toUpperCase().padStart(8, '0');
}

function checkAge(hex: string, now: number, what: string): void {
  if (!/^[0-9A-F]{8}$/.test(hex)) throw fail('UNAUTHENTICATED', `invalid ${what}`, {});
  const age = now - parseInt(hex, 16);
  if (age < -CLOCK_SKEW_SECONDS) throw fail('UNAUTHENTICATED', `${what} timestamp is in the future`, {});
  if (age > TICKET_LIFETIME_SECONDS) throw fail('UNAUTHENTICATED', `${what} expired`, {});
}

function decodeKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_LENGTH) throw fail('INVALID_CONFIG', `${AUTH_KEY_FILE} must hold ${KEY_LENGTH} base64 bytes`, {});
  return key;
}

export class TicketSigner {
  readonly #ticketKey: Buffer;
  readonly #csrfKey: Buffer;

  constructor(secret: Uint8Array) {
    this.#ticketKey = createHmac('sha256', secret).update('holdfast ticket v1').digest();
    this.#csrfKey = createHmac('sha256', secret).update('holdfast csrf v1').digest();
  }

  /** Reads `authkey.key`, creating it on first use (under the config lock, so once). */
  static async load(config: ConfigDir): Promise<TicketSigner> {
    const existing = await config.read(AUTH_KEY_FILE);
    if (existing !== undefined) return new TicketSigner(decodeKey(existing));
    const text = await config.locked('authkey', async () => {
      const again = await config.read(AUTH_KEY_FILE);
      if (again !== undefined) return again;
      const fresh = `${randomBytes(KEY_LENGTH).toString('base64')}\n`;
      await config.write(AUTH_KEY_FILE, fresh, SECRET_MODE);
      return fresh;
    });
    return new TicketSigner(decodeKey(text));
  }

  issue(userid: string, nowSeconds: number): string {
    const data = `PBS:${userid}:${hexTime(nowSeconds)}`;
    return `${data}::${mac(this.#ticketKey, data)}`;
  }

  /** The userid of a valid ticket; UNAUTHENTICATED otherwise. */
  verify(ticket: string, nowSeconds: number): string {
    const split = ticket.lastIndexOf('::');
    const data = split < 0 ? '' : ticket.slice(0, split);
    const [prefix, userid, hex, extra] = data.split(':');
    if (prefix !== 'PBS' || userid === undefined || hex === undefined || extra !== undefined || !isValidUserid(userid)) {
      throw fail('UNAUTHENTICATED', 'invalid ticket', {});
    }
    if (!sameText(ticket.slice(split + 2), mac(this.#ticketKey, data))) throw fail('UNAUTHENTICATED', 'invalid ticket signature', {});
    checkAge(hex, nowSeconds, 'ticket');
    return userid;
  }

  csrfToken(userid: string, nowSeconds: number): string {
    const hex = hexTime(nowSeconds);
    return `${hex}:${mac(this.#csrfKey, `${hex}:${userid}`)}`;
  }

  verifyCsrf(userid: string, token: string, nowSeconds: number): void {
    const [hex, sig, extra] = token.split(':');
    if (hex === undefined || sig === undefined || extra !== undefined || !sameText(sig, mac(this.#csrfKey, `${hex}:${userid}`))) {
      throw fail('UNAUTHENTICATED', 'invalid CSRF prevention token', {});
    }
    checkAge(hex, nowSeconds, 'CSRF prevention token');
  }
}
