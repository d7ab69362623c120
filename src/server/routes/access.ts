/**
 * `/api2/json/access/*`: ticket login, users, API tokens and the ACL, with PBS's paths, parameter
 * names and result shapes. Privileges are checked on the ACL paths `/access/users` and
 * `/access/acl` as PBS does; a user may always see itself and manage its own tokens.
 * A user may change its own password when it also gives the current one (so a stolen session
 * cookie cannot take the account over); Permissions.Modify on `/access/users` changes anyone's.
 */
import type { AuthService } from '../auth/authenticator.ts';
import { AUTH_COOKIES } from '../auth/authenticator.ts';
import { deleteToken, deleteUser, updateAcl } from '../auth/account-admin.ts';
import { aclApiEntries } from '../auth/acl-store.ts';
import { bool, int, requiredText, text } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import { parseUserid } from '../../core/names.ts';
import { isTokenId, tokenId, userOf } from '../auth/auth-id.ts';
import type { TokenInfo, UserInfo } from '../auth/user-store.ts';
import type { Route, RouteContext } from '../router.ts';

const USERS_PATH = '/access/users';
const ACL_PATH = '/access/acl';
const BASE = '/api2/json/access';

function cookieFor(ticket: string): string {
  return `${AUTH_COOKIES[0]}=${encodeURIComponent(ticket)}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** Expires both auth cookies; the HttpOnly one can only be cleared by a server answer. */
const CLEARED_COOKIES = [`${AUTH_COOKIES[0]}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`, `${AUTH_COOKIES[1]}=; Path=/; Max-Age=0`] as const;

/** Own account (for tokens: the owning user), or Permissions.Modify on /access/users. */
async function checkSelfOrAdmin(auth: AuthService, authId: string, userid: string): Promise<void> {
  if (!isTokenId(authId) && authId === userid) return;
  await auth.checkPrivilege(authId, USERS_PATH, ['Permissions.Modify']);
}

function accountOptions(args: RouteContext['args']): { comment?: string; enable?: boolean; expire?: number } {
  const comment = text(args, 'comment');
  const enable = bool(args, 'enable');
  const expire = int(args, 'expire');
  return {
    ...(comment === undefined ? {} : { comment }),
    ...(enable === undefined ? {} : { enable }),
    ...(expire === undefined ? {} : { expire }),
  };
}

function ticketRoute(auth: AuthService): Route {
  return {
    method: 'POST',
    path: `${BASE}/ticket`,
    public: true,
    handler: async (ctx) => {
      const result = await auth.login(requiredText(ctx.args, 'username'), requiredText(ctx.args, 'password'), text(ctx.args, 'realm'), ctx.req.socket.remoteAddress ?? '');
      ctx.setHeader('set-cookie', cookieFor(result.ticket));
      return result;
    },
  };
}

/**
 * Logout (the web UI's): public, so an expired ticket's cookie can be cleared too. A valid ticket
 * in the cookie is revoked: it stops working at once, not only in this browser.
 */
function logoutRoute(auth: AuthService): Route {
  return {
    method: 'DELETE',
    path: `${BASE}/ticket`,
    public: true,
    handler: async (ctx) => {
      await auth.revokeTicket(ctx.req.headers);
      ctx.setHeader('set-cookie', CLEARED_COOKIES);
      return null;
    },
  };
}

function userRoutes(auth: AuthService): Route[] {
  const withTokens = async (u: UserInfo): Promise<UserInfo & { tokens?: TokenInfo[] }> => ({ ...u, tokens: await auth.users.listTokens(u.userid) });
  return [
    {
      method: 'GET',
      path: `${BASE}/users`,
      handler: async (ctx) => {
        const all = (await auth.privileges(ctx.authId, USERS_PATH)).has('Sys.Audit');
        const users = (await auth.users.list()).filter((u) => all || u.userid === userOf(ctx.authId));
        return bool(ctx.args, 'include_tokens') ? Promise.all(users.map(withTokens)) : users;
      },
    },
    {
      method: 'POST',
      path: `${BASE}/users`,
      privilege: () => ({ path: USERS_PATH, privs: ['Permissions.Modify'] }),
      handler: async (ctx) => {
        const password = text(ctx.args, 'password');
        const userid = parseUserid(requiredText(ctx.args, 'userid'));
        await auth.users.create(userid, { ...accountOptions(ctx.args), ...(password === undefined ? {} : { password }) });
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/users/{userid}`,
      privilege: () => ({ path: USERS_PATH, privs: ['Permissions.Modify'] }),
      handler: async (ctx) => {
        await deleteUser(auth, ctx.params['userid'] ?? '');
        return null;
      },
    },
  ];
}

/** `PUT /access/password` (PBS's path): own password with `confirmation-password`, or as admin. */
function passwordRoute(auth: AuthService): Route {
  return {
    method: 'PUT',
    path: `${BASE}/password`,
    handler: async (ctx) => {
      const userid = parseUserid(requiredText(ctx.args, 'userid'));
      const password = requiredText(ctx.args, 'password');
      if (isTokenId(ctx.authId) || ctx.authId !== userid) {
        await auth.checkPrivilege(ctx.authId, USERS_PATH, ['Permissions.Modify']);
      } else if (!(await auth.users.verifyPassword(userid, requiredText(ctx.args, 'confirmation-password'), Math.floor(ctx.clock.now() / 1000)))) {
        throw fail('FORBIDDEN', 'the current password does not match', { userid });
      }
      await auth.users.setPassword(userid, password);
      return null;
    },
  };
}

function tokenRoutes(auth: AuthService): Route[] {
  const target = (ctx: RouteContext): { userid: string; name: string } => ({
    userid: parseUserid(ctx.params['userid'] ?? ''),
    name: ctx.params['name'] ?? '',
  });
  return [
    {
      method: 'GET',
      path: `${BASE}/users/{userid}/token`,
      handler: async (ctx) => {
        const { userid } = target(ctx);
        await checkSelfOrAdmin(auth, ctx.authId, userid);
        return auth.users.listTokens(userid);
      },
    },
    {
      method: 'POST',
      path: `${BASE}/users/{userid}/token/{name}`,
      handler: async (ctx) => {
        const { userid, name } = target(ctx);
        await checkSelfOrAdmin(auth, ctx.authId, userid);
        return auth.users.createToken(userid, name, accountOptions(ctx.args));
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/users/{userid}/token/{name}`,
      handler: async (ctx) => {
        const { userid, name } = target(ctx);
        await checkSelfOrAdmin(auth, ctx.authId, userid);
        await deleteToken(auth, tokenId(userid, name));
        return null;
      },
    },
  ];
}

function aclRoutes(auth: AuthService): Route[] {
  return [
    {
      method: 'GET',
      path: `${BASE}/acl`,
      privilege: () => ({ path: ACL_PATH, privs: ['Sys.Audit'] }),
      handler: async (ctx) => {
        const path = text(ctx.args, 'path');
        const exact = bool(ctx.args, 'exact') ?? false;
        const all = aclApiEntries(await auth.acl.load());
        if (path === undefined) return all;
        const prefix = path.endsWith('/') ? path : `${path}/`;
        return all.filter((e) => e.path === path || (!exact && (path === '/' || e.path.startsWith(prefix))));
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/acl`,
      privilege: () => ({ path: ACL_PATH, privs: ['Permissions.Modify'] }),
      handler: async (ctx) => {
        const propagate = bool(ctx.args, 'propagate');
        await updateAcl(auth, {
          path: requiredText(ctx.args, 'path'),
          role: requiredText(ctx.args, 'role'),
          authId: requiredText(ctx.args, 'auth-id'),
          delete: bool(ctx.args, 'delete') === true,
          ...(propagate === undefined ? {} : { propagate }),
        });
        return null;
      },
    },
  ];
}

export function accessRoutes(auth: AuthService): Route[] {
  return [ticketRoute(auth), logoutRoute(auth), passwordRoute(auth), ...userRoutes(auth), ...tokenRoutes(auth), ...aclRoutes(auth)];
}
