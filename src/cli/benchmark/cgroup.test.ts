import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupDir, memoryCgroupPath, parseProcCgroup } from './cgroup.ts';

const V1 = '9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n';
const V2 = '0::/user.slice/user-1000.slice/session-2.scope\n';

test('parseProcCgroup splits hierarchy, controllers and path', () => {
  const lines = parseProcCgroup(V1);
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[1], { hierarchy: '4', controllers: ['memory'], path: '/process_api/abc' });
  assert.deepEqual(lines[2]!.controllers, ['cpu', 'cpuacct']);
  assert.deepEqual(lines[3], { hierarchy: '0', controllers: [], path: '/' });
});

test('memoryCgroupPath finds the v1 memory line or the v2 unified line', () => {
  assert.equal(memoryCgroupPath(parseProcCgroup(V1), 1), '/process_api/abc');
  assert.equal(memoryCgroupPath(parseProcCgroup(V2), 2), '/user.slice/user-1000.slice/session-2.scope');
  assert.equal(memoryCgroupPath(parseProcCgroup(V2), 1), undefined);
});

test('cgroupDir maps a cgroup path below the mount, honouring the mount root', () => {
  assert.equal(cgroupDir({ mountPoint: '/sys/fs/cgroup/memory', root: '/' }, '/process_api/abc'), '/sys/fs/cgroup/memory/process_api/abc');
  assert.equal(cgroupDir({ mountPoint: '/sys/fs/cgroup', root: '/' }, '/'), '/sys/fs/cgroup');
  assert.equal(cgroupDir({ mountPoint: '/sys/fs/cgroup', root: '/docker/x' }, '/docker/x/inner'), '/sys/fs/cgroup/inner');
  assert.equal(cgroupDir({ mountPoint: '/sys/fs/cgroup', root: '/docker/x' }, '/other'), undefined);
});
