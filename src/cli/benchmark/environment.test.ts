import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countCpuList, cpusAllowed, findProcess, findProcesses, mountFor, parseMountInfo, probeEnvironment, probeFsync } from './environment.ts';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '30 22 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
  '40 22 7:0 / /mnt/my\\040disk rw,noatime - xfs /dev/loop0 rw,attr2',
  '41 22 0:50 / /var/lib rw - tmpfs tmpfs rw',
  '42 41 8:1 /sub /var/lib/holdfast rw,noatime master:3 - btrfs /dev/sda1 rw,ssd',
  'garbage line',
].join('\n');

test('parseMountInfo reads the fields around the separator and unescapes octal', () => {
  const entries = parseMountInfo(MOUNTINFO);
  assert.equal(entries.length, 5);
  assert.deepEqual(entries[0], { mountPoint: '/', root: '/', device: '254:0', mountOptions: 'rw,relatime', fsType: 'ext4', source: '/dev/vda', superOptions: 'rw,discard' });
  assert.equal(entries[2]!.mountPoint, '/mnt/my disk');
  assert.equal(entries[4]!.root, '/sub');
  assert.equal(entries[4]!.fsType, 'btrfs');
  assert.equal(entries[1]!.superOptions, 'rw,memory');
});

test('mountFor picks the longest mount point that contains the path', () => {
  const entries = parseMountInfo(MOUNTINFO);
  assert.equal(mountFor(entries, '/var/lib/holdfast/bench')!.fsType, 'btrfs');
  assert.equal(mountFor(entries, '/var/lib/holdfast')!.fsType, 'btrfs');
  assert.equal(mountFor(entries, '/var/lib/holdfastx')!.fsType, 'tmpfs');
  assert.equal(mountFor(entries, '/mnt/my disk/x')!.fsType, 'xfs');
  assert.equal(mountFor(entries, '/home')!.fsType, 'ext4');
  assert.equal(mountFor([], '/home'), undefined);
});

test('probeEnvironment reports kernel, CPU, RAM and Node of this machine', () => {
  const e = probeEnvironment(process.cwd());
  assert.equal(e.node, process.version);
  assert.ok(e.cpuCount >= 1);
  assert.ok(e.ramBytes > 0);
  assert.equal(e.loadAverage.length, 3);
});

test('probeFsync measures both writes and leaves nothing behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-probe-'));
  try {
    const p = probeFsync(dir);
    assert.ok(p);
    assert.ok(p.smallWriteMs >= 0 && p.chunkWriteMs >= 0);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(probeFsync(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('CPU affinity (the object-store comparison reports who runs where)', () => {
  it('countCpuList counts ranges and single CPUs, and refuses anything else', () => {
    assert.equal(countCpuList('0'), 1);
    assert.equal(countCpuList('0-1'), 2);
    assert.equal(countCpuList('0-3,6,8-9'), 7);
    assert.equal(countCpuList('3-1'), undefined);
    assert.equal(countCpuList('a'), undefined);
    assert.equal(countCpuList(''), undefined);
  });

  it('cpusAllowed reads /proc: the same for a pid as for self; a process started under taskset reports its CPU', () => {
    const own = cpusAllowed();
    assert.ok(own !== undefined && countCpuList(own) !== undefined, `own list ${own}`);
    assert.equal(cpusAllowed(process.pid), own);
    const comm = readFileSync('/proc/self/comm', 'utf8').trim();
    assert.equal(findProcess(comm) !== undefined, true);
    assert.ok(findProcesses([comm, 'no-such-command']).includes(process.pid), 'findProcesses finds this process by its command name');
    assert.deepEqual(findProcesses(['no-such-command']), []);
    // what the script's daemons look like when started with CEPH_CPUS=0
    const r = spawnSync('taskset', ['-c', '0', 'grep', '^Cpus_allowed_list:', '/proc/self/status'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Cpus_allowed_list:\s*0$/m);
  });
});
