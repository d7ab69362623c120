/**
 * The HTTP app as a handler built from injected dependencies: `listen.ts` binds it to a socket,
 * tests call `handleRequest` with any request/response pair.
 *
 * A request goes: route match → authentication (unless the route is public) → body read under
 * the route's size limit (default 64 KiB) and parsed with the query into `args` → privilege check
 * → handler → `{"data": value}` (or a RawResponse as is). Any throw on the way ends in
 * `sendError`, the one error mapping. Credentials are checked before the body is read, so an
 * unauthenticated caller cannot make the server buffer anything.
 *
 * Upgrades (backup/reader protocols) authenticate the same way, let the registered factory create
 * the session, then hand the socket to the h2 session (`h2-upgrade.ts`). Each user may have
 * `limits.maxSessionsPerUser` sessions open; the count is taken before the factory runs (so a
 * refused upgrade locks nothing) and given back when the connection's cleanup has run.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AuthPort } from './auth/authenticator.ts';
import { argsFromSearchParams, rejectNul } from '../core/args.ts';
import { bodyArgs, DEFAULT_BODY_LIMIT, readBody } from './body.ts';
import type { Clock } from './clock.ts';
import {
  ProtocolRegistry,
  serveH2,
  writeSwitchingProtocols,
  writeUpgradeError,
  type H2Connection,
  type ProtocolFactory,
} from './h2-upgrade.ts';
import { sendError, sendJson } from './http-error.ts';
import { RawResponse, Router, type Route, type RouteContext } from './router.ts';
import { serverLimits, type ServerLimits } from './server-limits.ts';
import { SessionLimiter } from './session-limiter.ts';

export interface AppOptions {
  readonly configDir: string;
  readonly auth: AuthPort;
  readonly log: Logger;
  readonly clock: Clock;
  readonly routes: Iterable<Route>;
  readonly protocols?: ProtocolRegistry;
  /** protocol session bounds; default DEFAULT_LIMITS */
  readonly limits?: ServerLimits;
  /** told of every answered API request (for `/metrics`): its status and, for an error, its code */
  readonly onAnswered?: (method: string, status: number, code: string | undefined) => void;
}

export interface App {
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  registerProtocol(name: string, factory: ProtocolFactory, path?: string): void;
  /** Ends every upgraded session and waits for their `onClose`. */
  close(): Promise<void>;
}

async function writeResult(res: ServerResponse, result: unknown): Promise<void> {
  if (!(result instanceof RawResponse)) {
    sendJson(res, 200, { data: result ?? null });
    return;
  }
  res.writeHead(result.status, result.headers);
  if (result.body instanceof Uint8Array) res.end(result.body);
  else await pipeline(Readable.from(result.body), res);
}

export function createApp(options: AppOptions): App {
  const { auth, log, clock, configDir } = options;
  const router = new Router(options.routes);
  const protocols = options.protocols ?? new ProtocolRegistry();
  const connections = new Set<H2Connection>();
  const limits = options.limits ?? serverLimits();
  const sessions = new SessionLimiter(limits.maxSessionsPerUser);

  async function context(req: IncomingMessage, res: ServerResponse, url: URL): Promise<{ route: Route; ctx: RouteContext }> {
    const method = req.method ?? 'GET';
    const m = router.match(method, url.pathname);
    if (m.kind === 'none') throw fail('NOT_FOUND', `no such API path '${url.pathname}'`, { path: url.pathname });
    if (m.kind === 'wrong-method') {
      throw fail('NOT_FOUND', `method ${method} not allowed on '${url.pathname}'`, { path: url.pathname, method, allowed: m.allowed });
    }
    const route = m.route;
    rejectNul(m.params);
    const authId = route.public ? '' : await auth.authenticate(method, req.headers);
    const query = argsFromSearchParams(url.searchParams);
    const raw = method === 'GET' ? undefined : await readBody(req, route.bodyLimit ?? DEFAULT_BODY_LIMIT);
    const args = raw === undefined || route.rawBody ? query : { ...query, ...bodyArgs(req.headers['content-type'], raw) };
    const ctx: RouteContext = {
      params: m.params,
      args,
      authId,
      req,
      body: route.rawBody ? raw : undefined,
      configDir,
      log,
      clock,
      setHeader: (name, value) => res.setHeader(name, value),
    };
    return { route, ctx };
  }

  return {
    async handleRequest(req, res) {
      try {
        const url = new URL(req.url ?? '/', 'https://holdfast');
        const { route, ctx } = await context(req, res, url);
        const need = route.privilege?.(ctx);
        if (need) await auth.checkPrivilege(ctx.authId, need.path, need.privs);
        await writeResult(res, await route.handler(ctx));
        options.onAnswered?.(req.method ?? 'GET', res.statusCode, undefined);
      } catch (e) {
        const err = sendError(res, e);
        options.onAnswered?.(req.method ?? 'GET', err.httpStatus, err.code);
        if (err.httpStatus >= 500) log.warn(`${req.method ?? '?'} ${req.url ?? '?'}: [${err.code}] ${err.message}`);
      }
    },

    async handleUpgrade(req, socket, head) {
      socket.on('error', () => undefined);
      let created: Awaited<ReturnType<ProtocolFactory>> | undefined;
      let release: (() => void) | undefined;
      try {
        const url = new URL(req.url ?? '/', 'https://holdfast');
        if (req.method !== 'GET') throw fail('PROTOCOL_ERROR', 'protocol upgrades must use GET', { method: req.method });
        const proto = protocols.find(url.pathname, req.headers.upgrade);
        const authId = await auth.authenticate('GET', req.headers);
        release = sessions.take(authId);
        created = await proto.factory(argsFromSearchParams(url.searchParams), authId);
        await writeSwitchingProtocols(socket, proto.name);
        if (head.length > 0) socket.unshift(head);
        const conn = serveH2(socket, created, log, limits);
        connections.add(conn);
        const done = release;
        void conn.closed.then(() => {
          connections.delete(conn);
          done();
        });
      } catch (e) {
        release?.();
        if (created) {
          socket.destroy();
          await created.onClose().catch(() => undefined);
          return;
        }
        writeUpgradeError(socket, e);
      }
    },

    registerProtocol(name, factory, path) {
      protocols.register(name, factory, path);
    },

    async close() {
      const live = [...connections];
      for (const c of live) c.destroy();
      await Promise.all(live.map((c) => c.closed));
    },
  };
}
