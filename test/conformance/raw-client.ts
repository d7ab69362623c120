/**
 * A minimal PBS client written against the wire format only, as an independent client would be:
 * plain `node:https` for the REST API and the protocol upgrade, plain `node:http2` on the upgraded
 * socket. It shares no code with Holdfast's client, so the conformance suite sees what any PBS
 * client sees.
 *
 * Parameters go in one of PBS's three spellings (`ParamStyle`): the query string, a JSON body
 * (`application/json; charset=UTF-8`, numbers as JSON numbers) or a form body.
 */
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

export const PARAM_STYLES = ['query', 'json', 'form'] as const;
export type ParamStyle = (typeof PARAM_STYLES)[number];
export type Params = Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>;

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** `path?query`, with repeated keys for list values. */
export function withQuery(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  const text = q.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** Where `params` go for `style`: the path (query) and, for a body style, the body and its type. */
export function encodeParams(style: ParamStyle, path: string, params: Params): { path: string; body?: Buffer; contentType?: string } {
  if (style === 'query') return { path: withQuery(path, params) };
  if (style === 'json') return { path, body: Buffer.from(JSON.stringify(params)), contentType: 'application/json; charset=UTF-8' };
  return { path, body: Buffer.from(withQuery('', params).slice(1)), contentType: 'application/x-www-form-urlencoded' };
}

/** The two spellings of the API token header PBS accepts. */
export function tokenHeader(tokenid: string, secret: string, sep: ' ' | '='): string {
  return `PBSAPIToken${sep}${tokenid}:${encodeURIComponent(secret)}`;
}

export class RawApi {
  readonly port: number;
  readonly authorization: string;

  constructor(port: number, authorization: string) {
    this.port = port;
    this.authorization = authorization;
  }

  request(method: string, path: string, opts: { body?: Buffer | undefined; contentType?: string | undefined } = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: this.authorization, connection: 'close' };
      if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
      if (opts.body !== undefined) headers['content-length'] = String(opts.body.length);
      const req = https.request({ host: '127.0.0.1', port: this.port, method, path: path.startsWith('/') ? path : `/api2/json/${path}`, headers, rejectUnauthorized: false, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** One API call with its parameters in `style`. */
  call(method: string, path: string, style: ParamStyle, params: Params = {}): Promise<RawResponse> {
    const e = encodeParams(style, path, params);
    return this.request(method, e.path, { body: e.body, contentType: e.contentType });
  }

  /** `GET /api2/json/<path>?…` with `Upgrade: protocol`; resolves to h2 on the upgraded socket. */
  upgrade(path: string, params: Params, protocol: string): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1',
        port: this.port,
        method: 'GET',
        path: withQuery(`/api2/json/${path}`, params),
        headers: { connection: 'upgrade', upgrade: protocol, authorization: this.authorization },
        rejectUnauthorized: false,
        agent: false,
      });
      req.on('upgrade', (_res, socket: Duplex, head: Buffer) => resolve(new RawH2(socket, head)));
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode ?? 0} ${Buffer.concat(parts).toString()}`)));
      });
      req.on('error', reject);
      req.end();
    });
  }
}

export class RawH2 {
  readonly session: http2.ClientHttp2Session;

  constructor(socket: Duplex, head: Buffer) {
    if (head.length > 0) socket.unshift(head);
    this.session = http2.connect('http://upgraded', { createConnection: () => socket });
    this.session.on('error', () => undefined);
  }

  request(method: string, path: string, opts: { body?: Uint8Array | undefined; contentType?: string | undefined } = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': `/${path}` };
      if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
      const stream = this.session.request(headers);
      let status = 0;
      let h: IncomingHttpHeaders = {};
      const parts: Buffer[] = [];
      stream.on('response', (r) => {
        status = Number(r[':status']);
        h = r;
      });
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => resolve({ status, headers: h, body: Buffer.concat(parts) }));
      stream.on('error', reject);
      stream.end(opts.body);
    });
  }

  /** A parameter-only endpoint, parameters in `style`. */
  call(method: string, path: string, style: ParamStyle, params: Params = {}): Promise<RawResponse> {
    const e = encodeParams(style, path, params);
    return this.request(method, e.path, { body: e.body, contentType: e.contentType });
  }

  /** An upload: parameters in the query, the raw body as `application/octet-stream`. */
  upload(path: string, params: Params, body: Uint8Array): Promise<RawResponse> {
    return this.request('POST', withQuery(path, params), { body, contentType: 'application/octet-stream' });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.session.close(() => resolve()));
  }
}

/** The `data` of a successful JSON answer; anything else fails with the answer's text. */
export function data(r: RawResponse): unknown {
  if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.toString()}`);
  return (JSON.parse(r.body.toString()) as { data: unknown }).data;
}
