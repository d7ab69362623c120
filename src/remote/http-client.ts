/**
 * The API client: JSON calls against `/api2/json/…`, ticket or API-token auth, and the protocol
 * upgrade that yields an `H2Session` (pbs-format.md §6.1/§6.2).
 *
 * Trust, as PBS's client decides it: a certificate that verifies against the CA store (and the
 * host name) is accepted; otherwise it is accepted only when its SHA-256 fingerprint equals the
 * pinned `fingerprint` option. The check runs after the TLS handshake and before a single request
 * byte is written, so credentials never reach an unpinned server. A refusal is
 * UNTRUSTED_CERTIFICATE and names the fingerprint that was seen, so the user can pin it.
 *
 * GET and DELETE send parameters in the query string; POST and PUT send a JSON body.
 *
 * API calls reuse their connections (HTTP/1.1 keep-alive through one agent per client): on a long
 * link a fresh TCP + TLS connection costs two round trips before the request's own, so a sync job
 * that lists namespaces, groups and snapshots paid three round trips per call. Every connection,
 * pooled or not, passes the same trust check before its first request byte. An idle pooled
 * connection never keeps a process alive (node's agent unrefs it); `close()` ends them at once.
 * A protocol upgrade takes its connection over, so it always opens its own, right before it is
 * used: a TLS connection opened ahead and upgraded later hit Node 20's native assertion
 * `TLSWrap::DoWrite !current_write_` in about one backup in ten under load.
 */
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { fail, isHoldfastError } from '../core/errors.ts';
import { traceMark } from '../core/trace-timing.ts';
import { H2Session, queryString, responseError, type H2Query } from './h2-session.ts';
import { receiveWindows, type LinkTarget } from './link-target.ts';
import { upgradeInPlace } from './h1-upgrade.ts';
import { LeanH2Session, ReceiveSwitch } from './lean-h2-session.ts';

export interface HttpClientOptions {
  readonly host: string;
  /** Default 8007. */
  readonly port?: number;
  /** Pinned server certificate fingerprint, `aa:bb:…` (any case). */
  readonly fingerprint?: string;
  /** Extra CA certificates (PEM) to trust. */
  readonly ca?: string;
  /** API token auth: `user@realm!name` and its secret. */
  readonly token?: { readonly tokenid: string; readonly secret: string };
  /** The link protocol sessions size their receive windows for (default DEFAULT_LINK_TARGET). */
  readonly link?: LinkTarget;
}

interface Ticket {
  readonly username: string;
  readonly ticket: string;
  readonly csrf: string;
}

export const DEFAULT_PORT = 8007;


function normalizeFingerprint(fp: string): string {
  return fp.trim().toLowerCase();
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * The keep-alive agent of one client: every connection it makes comes from `connect`, so it is
 * checked (pinned fingerprint or CA) before the agent hands it to a request.
 */
class TrustingAgent extends https.Agent {
  readonly #connect: () => Promise<tls.TLSSocket>;

  constructor(connect: () => Promise<tls.TLSSocket>) {
    // a few idle connections are plenty: a sync job runs at most its worker threads' calls at once
    super({ keepAlive: true, maxFreeSockets: 8 });
    this.#connect = connect;
  }

  override createConnection(_options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    // node's agent accepts the socket through the callback; returning nothing makes it wait
    this.#connect().then(
      (socket) => callback?.(null, socket),
      (e: unknown) => callback?.(e instanceof Error ? e : new Error(String(e)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export class HttpClient {
  readonly host: string;
  readonly port: number;
  readonly #options: HttpClientOptions;
  readonly #agent: TrustingAgent;
  #ticket: Ticket | undefined;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.host = options.host;
    this.port = options.port ?? DEFAULT_PORT;
    this.#agent = new TrustingAgent(() => this.connect());
  }

  /** Ends the pooled idle connections (a call in flight keeps its own until it is answered). */
  close(): void {
    this.#agent.destroy();
  }

  /** The user or token this client acts as, once known. */
  get authId(): string | undefined {
    return this.#options.token?.tokenid ?? this.#ticket?.username;
  }

  /**
   * Opens a TLS connection and checks the server's certificate before anything is sent.
   * `receive`: the socket's cleartext goes there, read in place (lean-h2-session.ts), instead of
   * being emitted as 'data'.
   */
  async connect(o: { readonly receive?: ReceiveSwitch } = {}): Promise<tls.TLSSocket> {
    const socket = tls.connect({
      host: this.host,
      port: this.port,
      ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
      ...(this.#options.ca === undefined ? {} : { ca: [...tls.rootCertificates, this.#options.ca] }),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      // `onread` is in net's connect options, which tls.connect passes on; its types omit it
      ...(o.receive === undefined ? {} : ({ onread: o.receive.onread } as tls.ConnectionOptions)),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => {
        traceMark('tls: connected');
        resolve();
      });
      socket.once('error', (e: Error) => reject(fail('UPSTREAM_ERROR', `cannot connect to ${this.host}:${this.port}: ${e.message}`, { host: this.host, port: this.port }, e)));
    });
    try {
      this.#checkTrust(socket);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    // as node's own agent does (its `noDelay` option, which this agent's connect replaces): a
    // request's second write must not wait for the ACK of its first
    socket.setNoDelay(true);
    return socket;
  }

  #checkTrust(socket: tls.TLSSocket): void {
    if (socket.authorized) return;
    const seen = socket.getPeerCertificate().fingerprint256.toLowerCase();
    const pinned = this.#options.fingerprint;
    if (pinned !== undefined && normalizeFingerprint(pinned) === seen) return;
    const why = String(socket.authorizationError ?? 'certificate not verified');
    const detail = pinned === undefined ? 'no fingerprint was given' : `the expected fingerprint was ${normalizeFingerprint(pinned)}`;
    throw fail(
      'UNTRUSTED_CERTIFICATE',
      `certificate validation failed (${why}); the server's certificate fingerprint is ${seen} and ${detail}. ` +
        'Check it on the server and pass it as the fingerprint to trust this server.',
      { host: this.host, fingerprint: seen, ...(pinned === undefined ? {} : { expected: normalizeFingerprint(pinned) }) },
    );
  }

  #authHeaders(method: string): Record<string, string> {
    const token = this.#options.token;
    if (token) return { authorization: `PBSAPIToken=${token.tokenid}:${encodeURIComponent(token.secret)}` };
    if (!this.#ticket) return {};
    const headers: Record<string, string> = { cookie: `PBSAuthCookie=${encodeURIComponent(this.#ticket.ticket)}` };
    if (method !== 'GET') headers['csrfpreventiontoken'] = this.#ticket.csrf;
    return headers;
  }

  #send(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<{ res: IncomingMessage; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        method,
        path,
        host: this.host,
        port: this.port,
        agent: this.#agent,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      });
      // a refused connection (trust check, connect failure) is already a coded error
      req.on('error', (e) => reject(isHoldfastError(e) ? e : fail('UPSTREAM_ERROR', `request ${method} ${path} failed: ${e.message}`, { method, path }, e)));
      req.on('response', (res) => {
        readAll(res).then((b) => resolve({ res, body: b }), reject);
      });
      req.end(body);
    });
  }

  /** One API call; resolves to the answer's `data`. */
  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: H2Query = {}): Promise<unknown> {
    const inQuery = method === 'GET' || method === 'DELETE';
    const body = inQuery ? undefined : JSON.stringify(params);
    return this.#answer(method, path, inQuery ? params : {}, body, 'application/json');
  }

  /**
   * A POST whose body is `bytes` as they are (PBS's upload-backup-log), its parameters in the
   * query string; resolves to the answer's `data`.
   */
  upload(path: string, params: H2Query, bytes: Uint8Array): Promise<unknown> {
    return this.#answer('POST', path, params, bytes, 'application/octet-stream');
  }

  async #answer(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, query: H2Query, body: string | Uint8Array | undefined, contentType: string): Promise<unknown> {
    const fullPath = `/api2/json/${path.replace(/^\/+/, '')}${queryString(query)}`;
    const headers = this.#authHeaders(method);
    if (body !== undefined) headers['content-type'] = contentType;
    const { res, body: bytes } = await this.#send(method, fullPath, headers, body);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw responseError(status, res.headers['x-holdfast-error-code'] as string | undefined, bytes);
    try {
      return (JSON.parse(bytes.toString('utf8')) as { data?: unknown }).data ?? null;
    } catch (e) {
      throw fail('UPSTREAM_ERROR', `answer to ${method} ${path} is not JSON`, { status }, e);
    }
  }

  get(path: string, params?: H2Query): Promise<unknown> {
    return this.call('GET', path, params);
  }
  post(path: string, params?: H2Query): Promise<unknown> {
    return this.call('POST', path, params);
  }
  put(path: string, params?: H2Query): Promise<unknown> {
    return this.call('PUT', path, params);
  }
  delete(path: string, params?: H2Query): Promise<unknown> {
    return this.call('DELETE', path, params);
  }

  /** The ticket of the last login (for the ticket cache), if any. */
  get ticket(): { readonly username: string; readonly ticket: string; readonly csrf: string } | undefined {
    return this.#ticket;
  }

  /** Password login; later calls send the ticket cookie (and the CSRF token on non-GET). */
  async login(username: string, password: string): Promise<void> {
    const data = (await this.post('access/ticket', { username, password })) as Partial<Record<string, unknown>> | null;
    const ticket = data?.['ticket'];
    const csrf = data?.['CSRFPreventionToken'];
    const user = data?.['username'];
    if (typeof ticket !== 'string' || typeof csrf !== 'string' || typeof user !== 'string') {
      throw fail('UPSTREAM_ERROR', 'login answer lacks ticket or CSRF token', {});
    }
    this.#ticket = { username: user, ticket, csrf };
  }

  /**
   * Upgrades `GET /api2/json/<path>` to the reader protocol on a new connection, spoken by the
   * lean receive-side HTTP/2 client (lean-h2-session.ts), which costs a restore far less CPU per
   * byte than Node's http2. Only for sessions that send no request bodies.
   */
  async upgradeReader(path: string, query: H2Query, protocol: string): Promise<LeanH2Session> {
    const receive = new ReceiveSwitch();
    const socket = await this.connect({ receive });
    const authority = `${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
    const early = await upgradeInPlace(socket, receive, { path: `/api2/json/${path.replace(/^\/+/, '')}${queryString(query)}`, host: authority, protocol, headers: this.#authHeaders('GET') });
    return LeanH2Session.start(socket, receive, early(), authority, receiveWindows(this.#options.link));
  }

  /** Upgrades `GET /api2/json/<path>` to `protocol` and returns the h2 session on a new connection. */
  async upgrade(path: string, query: H2Query, protocol: string): Promise<H2Session> {
    const socket = await this.connect();
    const fullPath = `/api2/json/${path.replace(/^\/+/, '')}${queryString(query)}`;
    return new Promise((resolve, reject) => {
      const req = https.request({
        method: 'GET',
        path: fullPath,
        host: this.host,
        port: this.port,
        createConnection: () => socket,
        headers: { connection: 'upgrade', upgrade: protocol, ...this.#authHeaders('GET') },
      });
      req.on('error', (e) => reject(fail('UPSTREAM_ERROR', `upgrade to ${protocol} failed: ${e.message}`, { path }, e)));
      req.on('upgrade', (_res, upgraded, head) => resolve(H2Session.start(upgraded, head, `${this.host}:${this.port}`, receiveWindows(this.#options.link))));
      req.on('response', (res) => {
        readAll(res).then(
          (b) => reject(responseError(res.statusCode ?? 0, res.headers['x-holdfast-error-code'] as string | undefined, b)),
          reject,
        );
      });
      req.end();
    });
  }
}
