/**
 * Authentication and privilege checks (pbs-format.md §6.1).
 *
 * Credentials, in order: an API token header `Authorization: PBSAPIToken <id>:<secret>` (a space
 * or `=` after the prefix, the secret percent-encoded, no CSRF token needed); else a ticket in the
 * cookie `__Host-PBSAuthCookie` (preferred) or `PBSAuthCookie`, which for every method but GET
 * also needs a matching `CSRFPreventionToken` header. Anything missing, malformed, expired or
 * belonging to a disabled account is UNAUTHENTICATED (401).
 *
 * Tickets are stateless (signed, valid for two hours), as in PBS; logout (`revokeTicket`) adds
 * the ticket to a list that is checked until the ticket would have expired, so a logged-out
 * ticket stops working at once. The list is on disk (revoked-tickets.ts), written durably before
 * the logout is answered, so a restart does not bring a logged-out ticket back.
 *
 * Privileges come from the ACL roles on the path; a token's are the intersection of its own with
 * its user's, so a token never exceeds its owner. A missing privilege is FORBIDDEN (403).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { fail } from '../../core/errors.ts';
import { privilegesOf, type Privilege } from '../../format/acl-config.ts';
import { epochSeconds, systemClock, type Clock } from '../clock.ts';
import { AclStore } from './acl-store.ts';
import { isTokenId, isValidAuthId, isValidUserid, userOf } from './auth-id.ts';
import { ConfigDir } from './config-dir.ts';
import { LoginThrottle } from './login-throttle.ts';
import { RevokedTickets } from './revoked-tickets.ts';
import { CLOCK_SKEW_SECONDS, TICKET_LIFETIME_SECONDS, TicketSigner } from './ticket.ts';
import { PBS_REALM, UserStore } from './user-store.ts';

/** What the app needs from auth: who is calling, and may they do this. */
export interface AuthPort {
  authenticate(method: string, headers: IncomingHttpHeaders): Promise<string>;
  checkPrivilege(authId: string, path: string, privs: readonly Privilege[]): Promise<void>;
}

export interface LoginResult {
  readonly username: string;
  readonly ticket: string;
  readonly CSRFPreventionToken: string;
}

export const AUTH_COOKIES = ['__Host-PBSAuthCookie', 'PBSAuthCookie'] as const;
const TOKEN_PREFIX = 'PBSAPIToken';

function unauthenticated(why = 'authentication failed'): Error {
  return fail('UNAUTHENTICATED', why, {});
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `PBSAPIToken=<id>:<secret>` or `PBSAPIToken <id>:<secret>` → id and decoded secret. */
export function parseTokenHeader(value: string): { tokenid: string; secret: string } | undefined {
  if (!value.startsWith(TOKEN_PREFIX)) return undefined;
  const sep = value.charAt(TOKEN_PREFIX.length);
  if (sep !== ' ' && sep !== '=') throw unauthenticated('malformed API token header');
  const rest = value.slice(TOKEN_PREFIX.length + 1).trim();
  const colon = rest.indexOf(':');
  const tokenid = rest.slice(0, Math.max(colon, 0));
  if (colon < 0 || !isValidAuthId(tokenid) || !isTokenId(tokenid)) throw unauthenticated('malformed API token header');
  try {
    return { tokenid, secret: decodeURIComponent(rest.slice(colon + 1)) };
  } catch {
    throw unauthenticated('malformed API token secret');
  }
}

/** The ticket from the auth cookies, the `__Host-` one first; percent-decoded. */
export function ticketFromCookies(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const cookies = new Map<string, string>();
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of AUTH_COOKIES) {
    const raw = cookies.get(name);
    if (raw === undefined || raw === '') continue;
    try {
      return decodeURIComponent(raw);
    } catch {
      throw unauthenticated('malformed auth cookie');
    }
  }
  return undefined;
}

/** Waits `ms` milliseconds; injected so tests can see the login delays without waiting them. */
export type Sleep = (ms: number) => Promise<void>;

const timerSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AuthOptions {
  readonly sleep?: Sleep;
}

export class AuthService implements AuthPort {
  readonly users: UserStore;
  readonly acl: AclStore;
  readonly #tickets: TicketSigner;
  readonly #clock: Clock;
  readonly #throttle: LoginThrottle;
  readonly #sleep: Sleep;
  /** Logged-out tickets, until they would have expired anyway. */
  readonly #revoked: RevokedTickets;

  constructor(users: UserStore, acl: AclStore, tickets: TicketSigner, revoked: RevokedTickets, clock: Clock, options: AuthOptions = {}) {
    this.users = users;
    this.acl = acl;
    this.#tickets = tickets;
    this.#revoked = revoked;
    this.#clock = clock;
    this.#throttle = new LoginThrottle(clock);
    this.#sleep = options.sleep ?? timerSleep;
  }

  static async open(configDir: string, clock: Clock = systemClock, options: AuthOptions = {}): Promise<AuthService> {
    const config = new ConfigDir(configDir);
    await config.ensure();
    const revoked = await RevokedTickets.load(config, epochSeconds(clock));
    return new AuthService(new UserStore(config), new AclStore(config), await TicketSigner.load(config), revoked, clock, options);
  }

  #now(): number {
    return epochSeconds(this.#clock);
  }

  async authenticate(method: string, headers: IncomingHttpHeaders): Promise<string> {
    const token = parseTokenHeader(headerText(headers, 'authorization') ?? '');
    if (token) {
      if (!(await this.users.verifyToken(token.tokenid, token.secret, this.#now()))) throw unauthenticated();
      return token.tokenid;
    }
    const ticket = ticketFromCookies(headerText(headers, 'cookie'));
    if (ticket === undefined) throw unauthenticated('no authentication credentials given');
    const userid = this.#tickets.verify(ticket, this.#now());
    if (this.#revoked.has(ticket)) throw unauthenticated('the ticket was logged out');
    if (method !== 'GET') {
      const csrf = headerText(headers, 'csrfpreventiontoken');
      if (csrf === undefined) throw unauthenticated('missing CSRF prevention token');
      this.#tickets.verifyCsrf(userid, csrf, this.#now());
    }
    if (!(await this.users.isActive(userid, this.#now()))) throw unauthenticated('user is disabled or unknown');
    return userid;
  }

  /**
   * Password login, or ticket renewal when `password` is a valid ticket of the same user. Failed
   * attempts slow down later ones for the user and for `address` (login-throttle.ts).
   */
  async login(username: string, password: string, realm?: string, address = ''): Promise<LoginResult> {
    const userid = username.includes('@') ? username : `${username}@${realm ?? PBS_REALM}`;
    const attempt = this.#throttle.begin(userid, address);
    let ok = false;
    try {
      if (attempt.delayMs > 0) await this.#sleep(attempt.delayMs);
      if (!isValidUserid(userid)) throw unauthenticated('authentication failure');
      const now = this.#now();
      ok = password.startsWith('PBS:') ? this.#renews(password, userid, now) : await this.users.verifyPassword(userid, password, now);
      ok = ok && (await this.users.isActive(userid, now));
      if (!ok) throw unauthenticated('authentication failure');
      // A ticket is a pure function of user and second: after a logout in this same second, the
      // fresh one would equal the revoked one, so it is stamped a second later (well inside the skew).
      let at = now;
      while (this.#revoked.has(this.#tickets.issue(userid, at))) at += 1;
      return { username: userid, ticket: this.#tickets.issue(userid, at), CSRFPreventionToken: this.#tickets.csrfToken(userid, at) };
    } finally {
      attempt.finish(ok);
    }
  }

  /**
   * Logout: the ticket in the request's cookie stops working, also after a restart (the list is
   * written durably before this resolves). Only a valid ticket is listed, so the list holds at
   * most the tickets issued in the last lifetime; expired entries are dropped.
   */
  async revokeTicket(headers: IncomingHttpHeaders): Promise<void> {
    const ticket = ticketFromCookies(headerText(headers, 'cookie'));
    if (ticket === undefined) return;
    const now = this.#now();
    try {
      this.#tickets.verify(ticket, now);
    } catch {
      return; // malformed, forged or expired: nothing to revoke
    }
    await this.#revoked.revoke(ticket, now + TICKET_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS, now);
  }

  #renews(ticket: string, userid: string, now: number): boolean {
    if (this.#revoked.has(ticket)) return false;
    try {
      return this.#tickets.verify(ticket, now) === userid;
    } catch {
      return false;
    }
  }

  /** Whether `authId` names a user or token that exists and may act now (enabled, not expired). */
  isActiveAccount(authId: string): Promise<boolean> {
    return this.users.isActive(authId, this.#now());
  }

  async privileges(authId: string, path: string): Promise<Set<Privilege>> {
    const tree = await this.acl.load();
    const own = privilegesOf(tree.roles(authId, path).keys());
    if (!isTokenId(authId)) return own;
    const owner = privilegesOf(tree.roles(userOf(authId), path).keys());
    return new Set([...own].filter((p) => owner.has(p)));
  }

  /**
   * Whether `authId` holds any privilege on `path` or on a path below it (PBS `any_privs_below`):
   * who may see that a datastore exists, for example.
   */
  async anyPrivilegeBelow(authId: string, path: string): Promise<boolean> {
    if ((await this.privileges(authId, path)).size > 0) return true;
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const below = (await this.acl.load()).entries().filter((e) => e.ugid === authId && e.path.startsWith(prefix));
    for (const e of below) if ((await this.privileges(authId, e.path)).size > 0) return true;
    return false;
  }

  async checkPrivilege(authId: string, path: string, privs: readonly Privilege[]): Promise<void> {
    const have = await this.privileges(authId, path);
    const missing = privs.filter((p) => !have.has(p));
    if (missing.length > 0) {
      throw fail('FORBIDDEN', `permission check failed: '${authId}' lacks ${missing.join(', ')} on '${path}'`, { authId, path, missing });
    }
  }
}
