/**
 * ProtocolTransport: what the backup and reader clients need from an upgraded HTTP/2 session.
 * The real one wraps `H2Session`; tests and the crash explorer plug the server's protocol classes
 * in directly, so the same client code runs with and without sockets.
 */
export type QueryValue = string | number | boolean;
export type QueryParams = Readonly<Record<string, QueryValue | undefined>>;

export interface ProtocolTransport {
  /** A JSON endpoint; resolves to the `data` member of the reply. */
  call(method: 'GET' | 'POST' | 'PUT', path: string, query?: QueryParams, body?: Uint8Array): Promise<unknown>;
  /**
   * A binary endpoint (previous, download, chunk); resolves to the raw bytes. With `into`, an
   * answer that fits may be received into that buffer (the result is then a view of it, valid
   * until the caller reuses it), so a caller fetching many chunks need not allocate one each; a
   * transport is free to ignore it.
   */
  download(path: string, query?: QueryParams, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function toSearchParams(q: QueryParams = {}): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out.set(k, String(v));
  return out;
}
