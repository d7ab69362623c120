/** The `ProtocolTransport` over a real upgraded HTTP/2 session (see protocol-transport.ts). */
import { fail } from '../core/errors.ts';
import type { H2Body, H2Query, H2Response } from './h2-session.ts';
import type { ProtocolTransport, QueryParams } from './protocol-transport.ts';

function h2Query(q: QueryParams = {}): H2Query {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
}

/** What both HTTP/2 clients offer (H2Session, and LeanH2Session for reader connections). */
export interface H2Requester {
  request(method: string, path: string, query?: H2Query, body?: H2Body, into?: Uint8Array): Promise<H2Response>;
  close(): Promise<void>;
}

export function h2Transport(session: H2Requester): ProtocolTransport {
  return {
    async call(method, path, query, body) {
      const r = await session.request(method, path, h2Query(query), body);
      return r.kind === 'json' ? r.json : r.bytes;
    },
    async download(path, query, into) {
      const r = await session.request('GET', path, h2Query(query), undefined, into);
      if (r.kind !== 'bytes') throw fail('PROTOCOL_ERROR', `${path} answered JSON where bytes were expected`, { path });
      return r.bytes;
    },
    close: () => session.close(),
  };
}
