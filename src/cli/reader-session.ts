/**
 * A reader session (PBS §6.3) on one snapshot, as `restore` and `catalog` open it: the key is
 * loaded first (a wrong passphrase fails before connecting), then the session is upgraded and the
 * manifest read. `close` stops the decoding workers and ends the session, whatever happened.
 */
import type { SnapshotRef } from '../core/backup-ref.ts';
import { traceMark } from '../core/trace-timing.ts';
import type { TokenBucket } from '../core/token-bucket.ts';
import { h2Transport } from '../remote/h2-transport.ts';
import { rateLimited } from '../remote/rate-limited-transport.ts';
import { RestoreReader } from '../remote/restore-reader.ts';
import { loadCrypt, openClient, type ClientFlags } from './client-options.ts';
import type { CliContext } from './context.ts';

export interface ReaderSession {
  readonly reader: RestoreReader;
  /** Settles when the session has ended, whoever ended it (the server closes an idle one). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * `workers`: decode chunks on worker threads (a restore; a listing reads too little to pay their
 * start). `rate`: the bucket every download of the session pays into (`--rate`).
 */
export async function openReaderSession(ctx: CliContext, f: ClientFlags, ref: SnapshotRef, o: { readonly workers: boolean; readonly rate?: TokenBucket | undefined }): Promise<ReaderSession> {
  const loaded = await loadCrypt(ctx, f.keyfile);
  const { repo, client } = await openClient(ctx, f);
  const session = await client.upgradeReader(
    'reader',
    { store: repo.store, 'backup-type': ref.type, 'backup-id': ref.id, 'backup-time': ref.time, ...(ref.ns ? { ns: ref.ns } : {}) },
    'proxmox-backup-reader-protocol-v1',
  );
  const t = rateLimited(h2Transport(session), o.rate);
  let reader: RestoreReader;
  try {
    reader = await RestoreReader.open(t, loaded?.crypt, { workers: o.workers });
  } catch (e) {
    await t.close();
    throw e;
  }
  traceMark('restore: manifest');
  return {
    reader,
    closed: session.closed,
    close: async () => {
      try {
        await reader.close();
      } finally {
        await t.close();
      }
    },
  };
}
