/**
 * An https.Agent that trusts a server whose certificate is CA-verified, or whose SHA-256
 * fingerprint equals the pinned one (PBS's `fingerprint` for self-signed S3 endpoints).
 *
 * The check runs after the handshake and before the socket is handed to a request: the agent's
 * `createConnection` answers through its callback only once the certificate passed, so not one
 * byte of a signed request (or of chunk data) reaches an unverified server.
 */
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fail } from '../core/errors.ts';

type OnCreate = (err: Error | null, socket?: Duplex) => void;

export class PinnedHttpsAgent extends https.Agent {
  readonly #fingerprint: string;

  constructor(fingerprint: string, options: https.AgentOptions = {}) {
    super({ ...options, keepAlive: true });
    this.#fingerprint = fingerprint.toLowerCase();
  }

  override createConnection(options: tls.ConnectionOptions, onCreate: OnCreate): undefined {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const onError = (e: Error): void => onCreate(e);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      if (socket.authorized) return onCreate(null, socket);
      const seen = socket.getPeerCertificate().fingerprint256.toLowerCase();
      if (seen === this.#fingerprint) return onCreate(null, socket);
      socket.destroy();
      onCreate(
        fail('UNTRUSTED_CERTIFICATE', `the S3 endpoint's certificate fingerprint is ${seen}, not the pinned ${this.#fingerprint}`, {
          fingerprint: seen,
          expected: this.#fingerprint,
        }),
      );
    });
    return undefined;
  }
}
