import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSectionConfig, parseSectionConfig } from './section-config.ts';
import { checkBucketName, checkEndpointUrl, expandEndpoint, isLoopbackHost, makeS3Endpoint, s3EndpointFromSection, s3EndpointToSection } from './s3-endpoint-config.ts';

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

test('makeS3Endpoint fills region us-east-1 and virtual-host style by default and lower-cases the fingerprint', () => {
  const e = makeS3Endpoint({ id: 'aws1', endpoint: 'https://s3.example.com/', accessKey: 'AK', fingerprint: FP });
  assert.deepEqual(e, { id: 'aws1', endpoint: 'https://s3.example.com', accessKey: 'AK', region: 'us-east-1', pathStyle: false, fingerprint: FP.toLowerCase() });
});

test('checkEndpointUrl allows plain http only to loopback hosts', () => {
  for (const ok of ['http://127.0.0.1:7480', 'http://localhost:9000', 'http://[::1]:7480', 'http://127.1.2.3']) assert.equal(checkEndpointUrl(ok), ok);
  for (const bad of ['http://10.0.0.1:7480', 'http://s3.example.com', 'http://127.0.0.1.nip.io']) {
    assert.throws(() => checkEndpointUrl(bad), (e: Error & { code?: string; details?: { param?: string } }) => e.code === 'INVALID_ARGUMENT' && e.details?.param === 'endpoint' && /https/.test(e.message));
  }
});

test('checkEndpointUrl refuses other schemes, paths, queries, credentials and non-URLs', () => {
  for (const bad of ['ftp://127.0.0.1', 'https://h/bucket', 'https://h/?x=1', 'https://u:p@h', 's3.example.com', '']) {
    assert.throws(() => checkEndpointUrl(bad), { code: 'INVALID_ARGUMENT' }, bad);
  }
});

test('checkEndpointUrl refuses a fingerprint for a plain http endpoint', () => {
  assert.throws(() => makeS3Endpoint({ id: 'local', endpoint: 'http://127.0.0.1:7480', accessKey: 'AK', fingerprint: FP }), /only applies to https/);
});

test('makeS3Endpoint refuses bad ids, regions, fingerprints and keys, naming the parameter', () => {
  const base = { id: 'ep1', endpoint: 'https://h', accessKey: 'AK' };
  const cases: [Record<string, string>, string][] = [
    [{ id: 'a' }, 'id'],
    [{ id: '-abc' }, 'id'],
    [{ id: 'x'.repeat(33) }, 'id'],
    [{ id: 'a b c' }, 'id'],
    [{ region: 'US East' }, 'region'],
    [{ fingerprint: 'ab:cd' }, 'fingerprint'],
    [{ accessKey: 'has space' }, 'access-key'],
    [{ accessKey: '' }, 'access-key'],
  ];
  for (const [patch, param] of cases) {
    assert.throws(() => makeS3Endpoint({ ...base, ...patch }), (e: Error & { code?: string; details?: { param?: string } }) => e.code === 'INVALID_ARGUMENT' && e.details?.param === param, param);
  }
});

test('makeS3Endpoint accepts {{bucket}} and {{region}} templates in the host, and expandEndpoint fills them', () => {
  const e = makeS3Endpoint({ id: 'aws1', endpoint: 'https://{{bucket}}.s3.{{region}}.amazonaws.com', accessKey: 'AK', region: 'eu-west-1' });
  assert.equal(expandEndpoint(e, 'bk'), 'https://bk.s3.eu-west-1.amazonaws.com');
});

test('isLoopbackHost knows 127/8, ::1 and localhost and nothing else', () => {
  assert.deepEqual(['127.0.0.1', '[::1]', 'LOCALHOST', '128.0.0.1', '::2', 'localhost.example'].map(isLoopbackHost), [true, true, true, false, false, false]);
});

test('s3EndpointToSection and s3EndpointFromSection round-trip through section-config text', () => {
  const e = makeS3Endpoint({ id: 'ceph', endpoint: 'https://rgw:8443', accessKey: 'AK', region: 'default', pathStyle: true, fingerprint: FP });
  const text = formatSectionConfig([s3EndpointToSection(e)]);
  assert.match(text, /^s3-endpoint: ceph\n\tendpoint https:\/\/rgw:8443\n\taccess-key AK\n\tregion default\n\tpath-style true\n\tfingerprint /);
  assert.deepEqual(parseSectionConfig(text, 's3.cfg').map((s) => s3EndpointFromSection(s, 's3.cfg')), [e]);
});

test('s3EndpointFromSection reports a hand-edited bad entry as INVALID_CONFIG naming the file and the id', () => {
  const parse = (text: string) => parseSectionConfig(text, 's3.cfg').map((s) => s3EndpointFromSection(s, 's3.cfg'));
  assert.throws(() => parse('s3-endpoint: ep1\n\taccess-key AK\n'), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && /ep1.*endpoint/.test(e.message));
  assert.throws(() => parse('s3-endpoint: ep1\n\tendpoint http://10.1.1.1\n\taccess-key AK\n'), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && /s3\.cfg/.test(e.message));
  assert.throws(() => parse('s3-endpoint: ep1\n\tendpoint https://h\n\taccess-key AK\n\tpath-style maybe\n'), { code: 'INVALID_CONFIG' });
  assert.throws(() => parse('remote: ep1\n\tendpoint https://h\n'), { code: 'INVALID_CONFIG' });
});

test('checkBucketName follows S3 bucket naming and names the parameter', () => {
  for (const ok of ['abc', 'my.bucket-1', 'x'.repeat(63)]) assert.equal(checkBucketName(ok), ok);
  for (const bad of ['ab', 'Upper', '-abc', 'abc-', 'a..b', 'x'.repeat(64), 'a/b']) {
    assert.throws(() => checkBucketName(bad), (e: Error & { code?: string; details?: { param?: string } }) => e.code === 'INVALID_ARGUMENT' && e.details?.param === 'bucket', bad);
  }
});
