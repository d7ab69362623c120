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
import { loadOrCreateCertificate } from './tls.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly configDir: string;
  readonly app: App;
}

export interface RunningServer {
  readonly port: number;
  /** SHA-256 certificate fingerprint clients pin, `aa:bb:…`. */
  readonly fingerprint: string;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const tls = await loadOrCreateCertificate(options.configDir);
  const { app } = options;
  // AES-128-GCM first: as secure for this use and about a quarter cheaper than AES-256-GCM per byte,
  // which matters when TLS is a third of a backup's CPU; clients that prefer others still get them.
  const server = https.createServer({ cert: tls.cert, key: tls.key, honorCipherOrder: true, ciphers: `TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:${DEFAULT_CIPHERS}` });
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
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    fingerprint: tls.fingerprint,
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      for (const s of sockets) s.destroy();
      await stopped;
    },
  };
}
