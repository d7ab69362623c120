/**
 * The one module that binds a socket: HTTPS (node:https) with the certificate from the config dir,
 * serving the app's handler and protocol upgrades. `port: 0` picks a free port (tests).
 *
 * `close()` stops accepting, ends every open connection (upgraded sessions included) and waits
 * until the sessions' cleanup has run, so a test or a shutdown never leaves a snapshot half-made.
 */
import https from 'node:https';
import { DEFAULT_CIPHERS } from 'node:tls';
import type { Socket } from 'node:net';
import type { App } from './app.ts';
import { fail } from '../core/errors.ts';
import { loadOrCreateCertificate, readCertificate } from './tls.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly configDir: string;
  readonly app: App;
}

export interface RunningServer {
  readonly port: number;
  /** SHA-256 certificate fingerprint clients pin, `aa:bb:…` (the one in use now). */
  readonly fingerprint: string;
  /**
   * Takes the certificate and key in the config dir for new connections (SIGHUP); open ones keep
   * theirs. Resolves with the new fingerprint; a pair that is missing, invalid or mismatched is
   * INVALID_CONFIG and the old pair stays in use.
   */
  reloadCertificate(): Promise<string>;
  close(): Promise<void>;
}

const LISTEN_PROBLEMS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is in use (another server running?)',
  EACCES: 'this user may not listen there (a port below 1024 needs root)',
  EADDRNOTAVAIL: 'no interface of this host has that address',
};

/** A failed listen as the operator can act on it: INVALID_ARGUMENT naming --listen, not INTERNAL. */
function listenError(e: Error, host: string, port: number): Error {
  const problem = LISTEN_PROBLEMS[(e as NodeJS.ErrnoException).code ?? ''];
  return problem === undefined ? e : fail('INVALID_ARGUMENT', `cannot listen on ${host}:${port}: ${problem}`, { param: 'listen', host, port }, e);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const tls = await loadOrCreateCertificate(options.configDir);
  let fingerprint = tls.fingerprint;
  const { app } = options;
  // AES-128-GCM first: as secure for this use and about a quarter cheaper than AES-256-GCM per byte,
  // which matters when TLS is a third of a backup's CPU; clients that prefer others still get them.
  const context = { honorCipherOrder: true, ciphers: `TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:${DEFAULT_CIPHERS}` };
  const server = https.createServer({ cert: tls.cert, key: tls.key, ...context });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('request', (req, res) => {
    void app.handleRequest(req, res);
  });
  server.on('upgrade', (req, socket, head: Buffer) => {
    void app.handleUpgrade(req, socket, head);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(listenError(e, options.host, options.port)));
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    get fingerprint() {
      return fingerprint;
    },
    reloadCertificate: async () => {
      const next = await readCertificate(options.configDir);
      server.setSecureContext({ cert: next.cert, key: next.key, ...context });
      fingerprint = next.fingerprint;
      return fingerprint;
    },
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      for (const s of sockets) s.destroy();
      await stopped;
    },
  };
}
