import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { s3SkipReason, s3TestConfig, withTestBucket } from '../helpers/s3-env.ts';

function cli(configDir: string, env: Record<string, string> = {}) {
  return async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const ctx: CliContext = { env: { HOLDFAST_CONFIG_DIR: configDir, ...env }, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), isTTY: false };
    return { code: await main(args, ctx), out, err };
  };
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('holdfast-s3cli-');
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('holdfast s3 endpoint create, list, update and delete manage s3.cfg and never print the secret', () =>
  withDir(async (dir) => {
    const run = cli(dir);
    const c = await run(['s3', 'endpoint', 'create', 'ceph', '--endpoint', 'http://127.0.0.1:7480', '--access-key', 'AK', '--secret-key', 'SK-secret', '--path-style']);
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /created S3 endpoint 'ceph'.*path style/);
    const u = await run(['s3', 'endpoint', 'update', 'ceph', '--region', 'default', '--path-style', 'false']);
    assert.equal(u.code, 0, u.err);
    const json = await run(['s3', 'endpoint', 'list', '--output-format', 'json']);
    assert.deepEqual(JSON.parse(json.out), [{ id: 'ceph', endpoint: 'http://127.0.0.1:7480', region: 'default', 'path-style': false, 'access-key': 'AK' }]);
    const text = await run(['s3', 'endpoint', 'list']);
    assert.match(text.out, /ceph/);
    assert.doesNotMatch(text.out + json.out, /SK-secret/);
    assert.match(readFileSync(join(dir, 's3-secrets.json'), 'utf8'), /SK-secret/);
    const d = await run(['s3', 'endpoint', 'delete', 'ceph']);
    assert.equal(d.code, 0, d.err);
    assert.deepEqual(JSON.parse((await run(['s3', 'endpoint', 'list', '--output-format', 'json'])).out), []);
  }));

test('holdfast s3 endpoint create takes the secret key from $HOLDFAST_S3_SECRET_KEY and refuses to go without one', () =>
  withDir(async (dir) => {
    const none = await cli(dir)(['s3', 'endpoint', 'create', 'ceph', '--endpoint', 'https://s3.example.com', '--access-key', 'AK']);
    assert.equal(none.code, 2);
    assert.match(none.err, /INVALID_ARGUMENT.*HOLDFAST_S3_SECRET_KEY/);
    const ok = await cli(dir, { HOLDFAST_S3_SECRET_KEY: 'from-env' })(['s3', 'endpoint', 'create', 'ceph', '--endpoint', 'https://s3.example.com', '--access-key', 'AK']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(readFileSync(join(dir, 's3-secrets.json'), 'utf8'), /from-env/);
  }));

test('holdfast s3 endpoint create refuses plain http to a remote host and a bad --path-style, with exit 2 and no files', () =>
  withDir(async (dir) => {
    const run = cli(dir);
    const remote = await run(['s3', 'endpoint', 'create', 'ep1', '--endpoint', 'http://192.0.2.1:7480', '--access-key', 'AK', '--secret-key', 'SK']);
    assert.equal(remote.code, 2);
    assert.match(remote.err, /INVALID_ARGUMENT.*loopback/);
    const style = await run(['s3', 'endpoint', 'create', 'ep1', '--endpoint', 'https://h', '--access-key', 'AK', '--secret-key', 'SK', '--path-style', 'sideways']);
    assert.equal(style.code, 2);
    assert.match(style.err, /path-style/);
    assert.equal((await run(['s3', 'endpoint', 'update', 'ep1', '--region', 'x'])).code, 3);
    assert.deepEqual(JSON.parse((await run(['s3', 'endpoint', 'list', '--output-format', 'json'])).out), []);
  }));

test('holdfast s3 subcommands all answer --help', async () => {
  for (const sub of ['endpoint create', 'endpoint update', 'endpoint list', 'endpoint delete', 'check']) {
    const r = await cli('/nonexistent')(['s3', ...sub.split(' '), '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`holdfast s3 ${sub}`));
  }
});

test('holdfast s3 check refuses a bad bucket name, a bad --count and an unknown endpoint before any request', () =>
  withDir(async (dir) => {
    const run = cli(dir);
    await run(['s3', 'endpoint', 'create', 'local', '--endpoint', 'http://127.0.0.1:9', '--access-key', 'AK', '--secret-key', 'SK', '--path-style']);
    const bucket = await run(['s3', 'check', 'local', 'Bad_Bucket']);
    assert.equal(bucket.code, 2);
    assert.match(bucket.err, /INVALID_ARGUMENT.*bucket/);
    const count = await run(['s3', 'check', 'local', 'bucket1', '--throughput', '--count', '0']);
    assert.equal(count.code, 2);
    assert.match(count.err, /--count/);
    assert.equal((await run(['s3', 'check', 'nope', 'bucket1'])).code, 3);
  }));

test('holdfast s3 check on a real S3 server: round trip and raw throughput, as text and JSON', { skip: s3SkipReason }, () =>
  withTestBucket(async (_client, bucket) =>
    withDir(async (dir) => {
      const cfg = s3TestConfig(bucket);
      const run = cli(dir, { HOLDFAST_S3_SECRET_KEY: cfg.secretKey });
      assert.equal((await run(['s3', 'endpoint', 'create', 'rgw', '--endpoint', cfg.endpoint, '--access-key', cfg.accessKey, '--region', cfg.region, '--path-style'])).code, 0);
      const text = await run(['s3', 'check', 'rgw', bucket]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /PUT, GET and DELETE ok/);
      const json = await run(['s3', 'check', 'rgw', bucket, '--throughput', '--count', '2', '--concurrency', '2', '--output-format', 'json']);
      assert.equal(json.code, 0, json.err);
      const r = JSON.parse(json.out) as { throughput: { put: { bytes: number } }; requests: { put: number } };
      assert.equal(r.throughput.put.bytes, 2 * 4 * 1024 * 1024);
      assert.ok(r.requests.put >= 3);
    }),
  ));
