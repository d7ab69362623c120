/**
 * The usage chart's data end to end: a real server whose sampler runs on a test clock (its timer
 * never fires by itself), samples taken through `usage.sampleNow()`, and the series read back
 * through `GET admin/datastore/{store}/rrd` (PBS's path), with its privilege check and typed errors.
 */
import { test } from 'node:test';
import { gcKind } from '../../src/jobs/maintenance-kinds.ts';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log.ts';
import { HttpClient } from '../../src/remote/http-client.ts';
import { startHoldfastServer } from '../../src/server/holdfast-server.ts';
import { backupChunks, pseudoRandom } from '../helpers/datastore-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

test('GET admin/datastore/{store}/rrd returns the sampled series per timeframe; it needs Datastore.Audit or Backup', { timeout: 60_000 }, async () => {
  const dir = makeTempDir();
  let now = 1_800_000_000_000;
  const hs = await startHoldfastServer({
    configDir: join(dir, 'cfg'), host: '127.0.0.1', port: 0, log: silentLogger, workerThreads: false, defaultDatastorePath: join(dir, 'data', 'default'),
    usage: { now: () => now, setTimer: () => () => undefined },
  });
  try {
    const store = await hs.registry.get('default', 'read');
    await backupChunks(store, { ns: '', type: 'host', id: 'u', time: 1_700_000_000 }, [pseudoRandom(40_000, 1)]);
    await hs.usage.sampleNow(); // before any GC: only the filesystem figures are known
    await hs.jobs.tasks.wait(await hs.jobs.start(gcKind, { store: 'default' }, 'admin@pbs'));
    now += 60_000;
    await hs.usage.sampleNow();

    const admin = new HttpClient({ host: '127.0.0.1', port: hs.server.port, fingerprint: hs.server.fingerprint });
    await admin.login('admin@pbs', hs.firstStart.adminPassword ?? '');
    const hour = (await admin.get('admin/datastore/default/rrd', { timeframe: 'hour', cf: 'AVERAGE' })) as Record<string, number>[];
    assert.equal(hour.length, 2);
    assert.equal(hour[0]?.['time'], 1_800_000_000);
    assert.equal(hour[0]?.['used'], undefined, 'own usage is unknown until the first GC');
    assert.ok((hour[0]?.['fs-total'] ?? 0) > 0);
    assert.ok((hour[1]?.['used'] ?? 0) > 0 && (hour[1]?.['chunks'] ?? 0) >= 1, JSON.stringify(hour[1]));
    const day = (await admin.get('admin/datastore/default/rrd', { timeframe: 'day' })) as unknown[];
    assert.equal(day.length, 1, 'both samples fall in one 15-minute slot');
    await assert.rejects(admin.get('admin/datastore/default/rrd', { timeframe: 'decade' }), /timeframe must be one of hour, day, month/);
    await assert.rejects(admin.get('admin/datastore/nope/rrd', {}), /nope/);

    await admin.post('access/users', { userid: 'eve@pbs', password: 'secret-password-1' });
    const eve = new HttpClient({ host: '127.0.0.1', port: hs.server.port, fingerprint: hs.server.fingerprint });
    await eve.login('eve@pbs', 'secret-password-1');
    await assert.rejects(eve.get('admin/datastore/default/rrd', {}), /permission check failed/);
  } finally {
    await hs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
