/**
 * The TLS row of `holdfast benchmark`: how fast this client can push bytes to the server, as
 * `proxmox-backup-client benchmark` measures it. It opens a backup session for the group
 * `host/benchmark` with `benchmark=1` (PBS's convention) and uploads 4 MiB bodies to the backup
 * protocol's `speedtest` endpoint, which discards them, keeping a few in flight. The session is
 * then dropped without `finish`, so the server removes the unfinished snapshot and stores
 * nothing (Holdfast keeps the empty `host/benchmark` group directory).
 */
import { h2Transport } from '../../remote/h2-transport.ts';
import type { CliContext } from '../context.ts';
import { openClient, type ClientFlags } from '../client-options.ts';
import { benchData, measure } from './client-bench.ts';

const IN_FLIGHT = 4;

export async function tlsUploadMbps(ctx: CliContext, f: ClientFlags, seconds: number): Promise<number> {
  const { repo, client } = await openClient(ctx, f);
  const session = await client.upgrade(
    'backup',
    { store: repo.store, 'backup-type': 'host', 'backup-id': 'benchmark', 'backup-time': Math.floor(Date.now() / 1000), benchmark: true, ...(f.ns ? { ns: f.ns } : {}) },
    'proxmox-backup-protocol-v1',
  );
  const t = h2Transport(session);
  const body = benchData();
  try {
    const batch = (): Promise<unknown> => Promise.all(Array.from({ length: IN_FLIGHT }, () => t.call('POST', 'speedtest', {}, body)));
    return await measure(body.length * IN_FLIGHT, seconds, batch);
  } finally {
    session.destroy();
  }
}
