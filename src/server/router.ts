/**
 * Routes and the tiny router that finds them. A route is data: method, a path pattern whose
 * `{name}` segments capture one URL-decoded segment each, an optional privilege requirement
 * computed from the request, and a handler whose return value the app wraps as `{"data": value}`
 * (or writes as is, when it is a `RawResponse`).
 *
 * Matching is exact on segment count; a trailing `/` is ignored. When the path matches but the
 * method does not, `match` says which methods would have matched (the app answers 405-like 404s
 * with that list in the details).
 */
import type { IncomingMessage } from 'node:http';
import type { Args } from '../core/args.ts';
import type { Logger } from '../core/log.ts';
import type { Clock } from './clock.ts';
import type { Privilege } from '../format/acl-config.ts';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Query string and body parameters, merged (the body wins). Repeated query keys give arrays. */
export type { Args };

export interface RouteInput {
  /** Captured `{name}` path segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly args: Args;
  /** The authenticated user or token id; the empty string on public routes. */
  readonly authId: string;
}

export interface PrivilegeRequirement {
  readonly path: string;
  readonly privs: readonly Privilege[];
}

export interface RouteContext extends RouteInput {
  readonly req: IncomingMessage;
  /** The raw request body, for routes with `rawBody: true` (args then hold the query only). */
  readonly body: Buffer | undefined;
  readonly configDir: string;
  readonly log: Logger;
  readonly clock: Clock;
  setHeader(name: string, value: string | readonly string[]): void;
}

export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  /** No credentials needed (the ticket login). */
  readonly public?: boolean;
  /** Checked before the handler runs; `null` means any authenticated caller. */
  readonly privilege?: (input: RouteInput) => PrivilegeRequirement | null;
  /** Largest accepted body in bytes; the app's default is 64 KiB. */
  readonly bodyLimit?: number;
  readonly rawBody?: boolean;
  handler(ctx: RouteContext): unknown;
}

/** A handler result written without the `{"data": …}` wrapper, e.g. a file download. */
export class RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | AsyncIterable<Uint8Array>;

  constructor(body: Uint8Array | AsyncIterable<Uint8Array>, headers: Readonly<Record<string, string>> = {}, status = 200) {
    this.body = body;
    this.headers = headers;
    this.status = status;
  }
}

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly Segment[];
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'wrong-method'; readonly allowed: readonly HttpMethod[] }
  | { readonly kind: 'none' };

function splitPath(path: string): string[] {
  const parts = path.split('/');
  if (parts[0] === '') parts.shift();
  if (parts.length > 0 && parts.at(-1) === '') parts.pop();
  return parts;
}

function compile(pattern: string): Segment[] {
  return splitPath(pattern).map((s) => {
    const m = /^\{([A-Za-z0-9_-]+)\}$/.exec(s);
    return m?.[1] === undefined ? { literal: s } : { param: m[1] };
  });
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const part = parts[i] ?? '';
    if (seg === undefined) return undefined;
    if ('literal' in seg) {
      if (seg.literal !== part) return undefined;
      continue;
    }
    let value: string;
    try {
      value = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (value === '') return undefined;
    params[seg.param] = value;
  }
  return params;
}

export class Router {
  readonly #routes: CompiledRoute[] = [];

  constructor(routes: Iterable<Route> = []) {
    for (const r of routes) this.add(r);
  }

  add(route: Route): void {
    this.#routes.push({ route, segments: compile(route.path) });
  }

  match(method: string, path: string): RouteMatch {
    const parts = splitPath(path);
    const allowed: HttpMethod[] = [];
    for (const { route, segments } of this.#routes) {
      const params = matchSegments(segments, parts);
      if (!params) continue;
      if (route.method === method) return { kind: 'found', route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
  }
}
