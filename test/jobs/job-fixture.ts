/**
 * Helpers for the job tests: a task double (a TaskContext whose log is an array), and a backup and
 * restore of byte buffers through the real client and server protocol classes (BackupWriter →
 * BackupProtocol → BackupSession, RestoreReader → ReaderProtocol), as in-process-backup.test.ts.
 */
import { BackupWriter } from '../../src/remote/backup-writer.ts';
import { inlineChunkEncoder } from '../../src/remote/chunk-encoder.ts';
import { RestoreReader } from '../../src/remote/restore-reader.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import type { SnapshotRef } from '../../src/core/backup-ref.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import type { Datastore } from '../../src/datastore/datastore.ts';
import type { TaskContext } from '../../src/jobs/task-registry.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { ReaderProtocol } from '../../src/server/protocol/reader-protocol.ts';
import { backupTransport, readerTransport } from '../helpers/in-process-transport.ts';

export const TEST_UPID = 'UPID:test:00000001:00000001:00000000:65000000:verify:test:root@pam:';

export interface TaskDouble extends TaskContext {
  readonly lines: string[];
  readonly results: unknown[];
  readonly controller: AbortController;
}

/** `onLine` sees every log line as it is written (a test can act at a job's phase boundaries). */
export function taskDouble(upid = TEST_UPID, onLine: (line: string) => void = () => undefined): TaskDouble {
  const lines: string[] = [];
  const results: unknown[] = [];
  const controller = new AbortController();
  return {
    upid,
    lines,
    results,
    controller,
    signal: controller.signal,
    info: (m) => {
      lines.push(m);
      onLine(m);
    },
    warn: (m) => {
      lines.push(`WARN: ${m}`);
      onLine(`WARN: ${m}`);
    },
    progress: (done, total, what) => lines.push(`progress ${done}/${total} ${what}`),
    setResult: (v) => results.push(v),
  };
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.slice(o, o + size);
}

/** One dynamic archive `data.pxar.didx` cut into `pieceSize` chunks, plus a blob. */
export async function backupData(store: Datastore, ref: SnapshotRef, data: Uint8Array, pieceSize: number): Promise<{ uploadedChunks: number }> {
  const session = await BackupSession.begin(store, ref, { owner: 'test@pbs' });
  const t = backupTransport(new BackupProtocol(session, inlineChunkChecker));
  try {
    const w = await BackupWriter.start(t, { backupType: ref.type, backupId: ref.id, backupTime: ref.time, encoder: inlineChunkEncoder() });
    const stats = await w.uploadArchive('data.pxar.didx', pieces(data, pieceSize));
    await w.uploadBlob('meta.conf.blob', Buffer.from('cores: 2\n'));
    await w.finish();
    return { uploadedChunks: stats.uploadedChunks };
  } finally {
    await t.close();
  }
}

export async function restoreData(store: Datastore, ref: SnapshotRef): Promise<Uint8Array> {
  const t = readerTransport(await ReaderProtocol.open(store, ref));
  try {
    const r = await RestoreReader.open(t);
    const parts: Uint8Array[] = [];
    for await (const p of r.stream('data.pxar')) parts.push(p);
    return Buffer.concat(parts);
  } finally {
    await t.close();
  }
}
