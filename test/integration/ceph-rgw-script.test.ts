/**
 * scripts/ceph-rgw-up.sh's CPU placement (CEPH_CPUS): a second, throw-away cluster on other ports
 * and its own data directory starts with every daemon held to CPU 0, and ceph-rgw-down.sh stops it.
 * The S3 benchmark relies on this to give the object store cores of its own (docs/benchmarks.md).
 * Skips, with the reason, where the S3 tests skip (no cluster could be started on this machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3SkipReason } from '../helpers/s3-env.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

test('ceph-rgw-up.sh with CEPH_CPUS=0 starts mon, OSD and radosgw held to CPU 0; a bad list is refused', { skip: s3SkipReason, timeout: 240_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), 'holdfast-ceph-pinned-'));
  // ports clear of the cluster .ci/run started (7480, 3300, 6800-7300)
  const env = { ...process.env, CEPH_RGW_PORT: '7590', CEPH_MON_PORT: '3390', CEPH_BIND_PORT_MIN: '7400', CEPH_BIND_PORT_MAX: '7500', CEPH_RGW_NO_INSTALL: '1', CEPH_OSD_SIZE_GB: '1' };
  try {
    const bad = spawnSync(join(ROOT, 'scripts/ceph-rgw-up.sh'), [data], { env: { ...env, CEPH_CPUS: 'not-a-cpu' }, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /CEPH_CPUS=not-a-cpu is not a CPU list/);

    const up = spawnSync(join(ROOT, 'scripts/ceph-rgw-up.sh'), [data], { env: { ...env, CEPH_CPUS: '0' }, encoding: 'utf8' });
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /^export S3_ENDPOINT=http:\/\/127\.0\.0\.1:7590$/m);
    for (const daemon of ['mon', 'osd0', 'rgw']) {
      const pid = readFileSync(join(data, 'run', `${daemon}.pid`), 'utf8').trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^Cpus_allowed_list:\s*0$/m, `${daemon} (pid ${pid})`);
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /ceph-mon|ceph-osd|radosgw/, `the PID file names the daemon, not taskset`);
    }
  } finally {
    const down = spawnSync(join(ROOT, 'scripts/ceph-rgw-down.sh'), [data, '--purge'], { env, encoding: 'utf8' });
    rmSync(data, { recursive: true, force: true });
    assert.equal(down.status, 0, down.stderr);
  }
});
