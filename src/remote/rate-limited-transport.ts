/**
 * A ProtocolTransport that keeps a backup or restore under a byte rate (`--rate`/`--burst`): the
 * bytes of every request body (chunks, indexes, blobs) are paid for before they are sent, and the
 * bytes of every answer (chunks, indexes, the manifest) once they have arrived. One bucket serves
 * the whole session, so chunks uploaded or fetched in parallel share the limit. A wrapper, stacked
 * on the real transport where the session is opened, so no client code knows about rates.
 */
import type { TokenBucket } from '../core/token-bucket.ts';
import type { ProtocolTransport } from './protocol-transport.ts';

export function rateLimited(t: ProtocolTransport, bucket: TokenBucket | undefined): ProtocolTransport {
  if (bucket === undefined) return t;
  return {
    async call(method, path, query, body) {
      if (body !== undefined) await bucket.take(body.length);
      return t.call(method, path, query, body);
    },
    async download(path, query, into) {
      const bytes = await t.download(path, query, into);
      await bucket.take(bytes.length);
      return bytes;
    },
    close: () => t.close(),
  };
}
