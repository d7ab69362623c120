/**
 * Connects the client's protocol code straight to the server's protocol classes, without
 * sockets: the same BackupWriter/RestoreReader and BackupProtocol/ReaderProtocol that run in
 * production, so library tests and the crash explorer exercise the real code paths.
 */
import type { ProtocolTransport, QueryParams } from '../../src/remote/protocol-transport.ts';
import { toSearchParams } from '../../src/remote/protocol-transport.ts';
import type { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import type { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { bufferBody } from '../../src/server/protocol/request-body.ts';

export function backupTransport(p: BackupProtocol): ProtocolTransport {
  return {
    call: async (method, path, query?: QueryParams, body?: Uint8Array) =>
      p.dispatch(method, path, toSearchParams(query), bufferBody(body)),
    download: async (path, query?: QueryParams) => {
      const r = await p.dispatch('GET', path, toSearchParams(query), bufferBody());
      if (!(r instanceof Uint8Array)) throw new Error(`${path} did not return bytes`);
      return r;
    },
    close: async () => p.session.abort(),
  };
}

export function readerTransport(p: ReaderProtocol): ProtocolTransport {
  return {
    call: async (method, path, query?: QueryParams) => p.dispatch(method, path, toSearchParams(query)),
    download: async (path, query?: QueryParams) => {
      const r = await p.dispatch('GET', path, toSearchParams(query));
      if (!(r instanceof Uint8Array)) throw new Error(`${path} did not return bytes`);
      return r;
    },
    close: () => p.close(),
  };
}
