/**
 * Binds the backup and reader protocols to the upgrade plumbing: checks privileges and ownership
 * at the upgrade, opens the session on the datastore, and adapts h2 requests to the
 * transport-independent protocol classes. When the h2 connection ends before `finish`, the
 * backup session is aborted, which removes the unfinished snapshot.
 */
import { requiredText, snapshotRef, type Args } from '../../core/args.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import { fail, isHoldfastError } from '../../core/errors.ts';
import { ownerMatches } from '../../core/names.ts';
import type { Privilege } from '../../format/acl-config.ts';
import type { ChunkChecker } from '../../chunks/chunk-check.ts';
import { BackupSession } from '../../datastore/backup-session.ts';
import type { AuthPort } from '../auth/authenticator.ts';
import type { DatastoreRegistry } from '../datastores/datastore-registry.ts';
import type { JobServices } from '../job-services.ts';
import type { ProtocolFactory, ProtocolReply, ProtocolSession } from '../h2-upgrade.ts';
import { BackupProtocol } from '../protocol/backup-protocol.ts';
import type { UploadMemory } from '../protocol/upload-memory.ts';
import type { ServerMetrics } from '../metrics.ts';
import { ReaderProtocol } from '../protocol/reader-protocol.ts';

import { datastoreAclPath } from '../../format/acl-config.ts';

export { datastoreAclPath };

export { ownerMatches } from '../../core/names.ts';

export async function hasPrivilege(auth: Pick<AuthPort, 'checkPrivilege'>, authId: string, path: string, privs: readonly Privilege[]): Promise<boolean> {
  try {
    await auth.checkPrivilege(authId, path, privs);
    return true;
  } catch (e) {
    if (isHoldfastError(e, 'FORBIDDEN')) return false;
    throw e;
  }
}

/** The datastore and snapshot an upgrade names (`store`, `ns`, `backup-type`, `backup-id`, `backup-time`). */
export function snapshotFromArgs(args: Args): { store: string; ref: SnapshotRef } {
  return { store: requiredText(args, 'store'), ref: snapshotRef(args) };
}

/**
 * With `jobs`, each session runs as a `backup` task (and `verify-new` is honoured). With
 * `uploads`, every session's chunk buffers come from that one pool (the server's memory cap).
 */
export function backupProtocolFactory(deps: {
  readonly registry: DatastoreRegistry;
  readonly auth: AuthPort;
  readonly checker: ChunkChecker;
  readonly jobs?: Pick<JobServices, 'backupStarted'>;
  readonly uploads?: UploadMemory;
  readonly metrics?: Pick<ServerMetrics, 'backupEnded'>;
}): ProtocolFactory {
  return async (args, authId): Promise<ProtocolSession> => {
    const { store: name, ref } = snapshotFromArgs(args);
    await deps.auth.checkPrivilege(authId, datastoreAclPath(name, ref.ns), ['Datastore.Backup']);
    const store = await deps.registry.get(name, 'write');
    const track = await deps.jobs?.backupStarted(name, ref, authId);
    const session = await BackupSession.begin(store, ref, { owner: authId, ownerMatches: (o) => ownerMatches(o, authId) }).catch(async (e: unknown) => {
      await track?.end(undefined, e);
      throw e;
    });
    track?.attach(session);
    const started = performance.now();
    let counted = false;
    const count = (): void => {
      if (counted || !deps.metrics) return;
      counted = true;
      const ok = session.state === 'finished';
      const s = session.stats;
      deps.metrics.backupEnded({ store: name, ok, bytes: s.size, chunks: s.count, reused: s.duplicates, seconds: (performance.now() - started) / 1000 });
    };
    const proto = new BackupProtocol(session, deps.checker, deps.uploads?.session());
    return {
      async handle(method, path, query, body): Promise<ProtocolReply> {
        const value = await proto.dispatch(method, path, query, body).catch((e: unknown) => {
          track?.requestFailed(e);
          throw e;
        });
        if (session.state === 'finished') {
          count();
          await track?.end(session);
        }
        return value instanceof Uint8Array ? { stream: value } : { json: value };
      },
      onClose: async () => {
        proto.close();
        await session.abort();
        count();
        await track?.end(session);
      },
    };
  };
}

export function readerProtocolFactory(deps: { readonly registry: DatastoreRegistry; readonly auth: AuthPort }): ProtocolFactory {
  return async (args, authId): Promise<ProtocolSession> => {
    const { store: name, ref } = snapshotFromArgs(args);
    const path = datastoreAclPath(name, ref.ns);
    const store = await deps.registry.get(name, 'read');
    if (!(await hasPrivilege(deps.auth, authId, path, ['Datastore.Read']))) {
      await deps.auth.checkPrivilege(authId, path, ['Datastore.Backup']);
      const owner = await store.getOwner(ref);
      if (owner === undefined || !ownerMatches(owner, authId)) throw fail('FORBIDDEN', `${authId} may not read ${store.show(ref)}`, { authId });
    }
    const proto = await ReaderProtocol.open(store, ref);
    return {
      async handle(method, path, query): Promise<ProtocolReply> {
        const { value, release } = await proto.dispatchPooled(method, path, query);
        if (!(value instanceof Uint8Array)) return { json: value };
        return release === undefined ? { stream: value } : { stream: value, release };
      },
      onClose: () => proto.close(),
    };
  };
}

