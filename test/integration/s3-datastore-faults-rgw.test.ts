/**
 * S3 datastores under faults, on the real RGW (skipped with the reason when S3_ENDPOINT is unset;
 * each test in its own bucket):
 * - the RGW becomes unreachable during a backup (a TCP proxy between Holdfast and the RGW is cut;
 *   the shared RGW itself is never stopped): the backup fails and no manifest appears, in the
 *   bucket or in a listing; once the proxy lets connections through again, the next backup works;
 * - `holdfast serve` is killed with SIGKILL while backups run: every backup that was acknowledged
 *   (its CLI exited 0) restores byte-identical after a restart, and its manifest is in the bucket.
 * No sleeps: the proxy is cut when a byte count is crossed, the kill follows an acknowledgement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { S3ObjectClient } from '../../src/chunks/s3-client.ts';
import { s3SkipReason, s3TestConfig } from '../helpers/s3-env.ts';
import { cleanEnv, cliOk, describeCli, fastRandom, runCli, spawnCli, spawnServe, startTestServer } from '../helpers/server-fixture.ts';
import { makeTempDir } from '../helpers/tmp.ts';

const skip = s3SkipReason;
const MIB = 1024 * 1024;
const T0 = 1_800_000_000;
const TIMEOUT = { timeout: 240_000 };

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A fresh bucket; emptied afterwards. */
async function withBucket<T>(fn: (client: S3ObjectClient, bucket: string) => Promise<T>): Promise<T> {
  const bucket = `holdfast-s3f-${randomBytes(5).toString('hex')}`;
  const client = new S3ObjectClient(s3TestConfig(bucket));
  await client.createBucket();
  try {
    return await fn(client, bucket);
  } finally {
    const keys: string[] = [];
    for await (const o of client.list('')) keys.push(o.key);
    await client.deleteMany(keys).catch(() => undefined);
    client.destroy();
  }
}

async function keys(client: S3ObjectClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of client.list(prefix)) out.push(o.key);
  return out;
}

/**
 * A TCP proxy to the RGW that can be cut: `cutAfter(n)` cuts every connection once n more bytes
 * went upstream, and refuses new ones until `heal()`.
 */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  #budget = Number.POSITIVE_INFINITY;
  #onCut: (() => void) | undefined;
  readonly cut: Promise<void>;

  private constructor(target: URL) {
    let resolveCut: () => void = () => undefined;
    this.cut = new Promise((r) => (resolveCut = r));
    this.#onCut = resolveCut;
    this.#server = createServer((down) => {
      if (this.#cut) {
        down.destroy();
        return;
      }
      const up = createConnection({ host: target.hostname, port: Number(target.port) });
      for (const s of [up, down]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      down.on('data', (d: Buffer) => {
        this.#budget -= d.length;
        if (this.#budget <= 0 && !this.#cut) this.#cutNow();
      });
      down.pipe(up);
      up.pipe(down);
    });
  }

  static async start(target: string): Promise<CuttableProxy> {
    const p = new CuttableProxy(new URL(target));
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get url(): string {
    const a = this.#server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  cutAfter(bytes: number): void {
    this.#budget = bytes;
  }

  heal(): void {
    this.#cut = false;
    this.#budget = Number.POSITIVE_INFINITY;
  }

  #cutNow(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
    this.#onCut?.();
    this.#onCut = undefined;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

test('S3 datastore: the RGW becoming unreachable during a backup fails it and no manifest appears; after it heals the next backup works', { skip, ...TIMEOUT }, async () => {
  await withBucket(async (client, bucket) => {
    const cfg = s3TestConfig(bucket);
    const proxy = await CuttableProxy.start(cfg.endpoint);
    const srv = await startTestServer();
    try {
      const data = join(srv.dir, 'disk.img');
      writeFileSync(data, fastRandom(32 * MIB, 3));
      cliOk(await srv.cli(['s3', 'endpoint', 'create', 'cut', '--endpoint', proxy.url, '--access-key', cfg.accessKey, '--secret-key', cfg.secretKey, '--path-style', 'true', '--region', cfg.region]), 's3 endpoint create');
      cliOk(await srv.cli(['datastore', 'create', 'cutstore', join(srv.dir, 'cache'), '--backend', `type=s3,client=cut,bucket=${bucket}`]), 'datastore create');
      proxy.cutAfter(8 * MIB); // a few chunks in: the RGW "goes away" in the middle of the backup
      const failed = await srv.cli(['backup', `disk.img:${data}`, '--backup-id', 'cut', '--backup-time', String(T0)], 'cutstore');
      await proxy.cut;
      assert.notEqual(failed.code, 0, describeCli(failed));
      assert.deepEqual((await keys(client, 'cutstore/.cnt/')).filter((k) => k.endsWith('index.json.blob')), []);
      const listed = JSON.parse(cliOk(await srv.cli(['snapshot', 'list', '--output-format', 'json'], 'cutstore'), 'snapshot list').stdout) as unknown[];
      assert.deepEqual(listed, []);

      proxy.heal();
      // The client exits as soon as it sees the error; the server's session still holds the
      // group lock while it removes what it wrote (the mirror copy too, through the proxy). A
      // user retrying then gets LOCKED, so wait for that session's task to end, as a user would.
      for (const t of await srv.hs.jobs.tasks.list({ running: true, typeFilter: 'backup' })) await srv.hs.jobs.tasks.wait(t.upid);
      cliOk(await srv.cli(['backup', `disk.img:${data}`, '--backup-id', 'cut', '--backup-time', String(T0 + 60)], 'cutstore'), 'backup after the RGW is back');
      cliOk(await srv.cli(['restore', `host/cut/${T0 + 60}`, 'disk.img', join(srv.dir, 'out.img')], 'cutstore'), 'restore');
      assert.equal(sha(join(srv.dir, 'out.img')), sha(data));
    } finally {
      await srv.close();
      await proxy.close();
    }
  });
});

test('S3 datastore: holdfast serve killed with SIGKILL during backups; every acknowledged snapshot restores after a restart', { skip, ...TIMEOUT }, async () => {
  await withBucket(async (client, bucket) => {
    const cfg = s3TestConfig(bucket);
    const dir = makeTempDir('holdfast-s3kill-');
    const configDir = join(dir, 'config');
    const serverEnv = cleanEnv({ HOLDFAST_CONFIG_DIR: configDir, HOLDFAST_DATA_DIR: join(dir, 'data') });
    mkdirSync(join(dir, 'src'));
    const files = [0, 1, 2, 3].map((i) => {
      const path = join(dir, 'src', `d${i}.img`);
      writeFileSync(path, fastRandom(i === 0 ? 2 * MIB : 24 * MIB, 100 + i));
      return path;
    });
    let server = await spawnServe(['--listen', '127.0.0.1:0'], serverEnv);
    try {
      await server.waitForLine(/^created datastore 'default'$/);
      cliOk(await runCli(['s3', 'endpoint', 'create', 'rgw', '--endpoint', cfg.endpoint, '--access-key', cfg.accessKey, '--secret-key', cfg.secretKey, '--path-style', 'true', '--region', cfg.region], serverEnv), 'endpoint');
      cliOk(await runCli(['datastore', 'create', 'killstore', join(dir, 'cache'), '--backend', `type=s3,client=rgw,bucket=${bucket}`], serverEnv), 'datastore create');
      const password = readFileSync(join(configDir, 'initial-admin-password'), 'utf8').trim();
      const clientEnv = (port: number, fingerprint: string): NodeJS.ProcessEnv =>
        cleanEnv({ HOLDFAST_REPOSITORY: `admin@pbs@127.0.0.1:${port}:killstore`, HOLDFAST_PASSWORD: password, HOLDFAST_FINGERPRINT: fingerprint });
      const env = clientEnv(server.port, server.fingerprint);
      const backup = (i: number) => spawnCli(['backup', `disk.img:${files[i]!}`, '--backup-id', `h${i}`, '--backup-time', String(T0 + i)], env);
      const acknowledged = new Set<number>();
      // three large backups start; the small one's acknowledgement is the moment to kill the server
      const large = [1, 2, 3].map((i) => ({ i, run: backup(i) }));
      for (const l of large) void l.run.result.then((r) => (r.code === 0 ? acknowledged.add(l.i) : undefined));
      cliOk(await backup(0).result, 'the small backup');
      acknowledged.add(0);
      server.child.kill('SIGKILL');
      await server.stop();
      const outcomes = await Promise.all(large.map((l) => l.run.result));
      outcomes.forEach((r, k) => {
        if (r.code === 0) acknowledged.add(large[k]!.i); // answered before the kill reached it
      });
      assert.ok(acknowledged.has(0));

      server = await spawnServe(['--listen', '127.0.0.1:0'], serverEnv);
      const env2 = clientEnv(server.port, server.fingerprint);
      const listed = JSON.parse(cliOk(await runCli(['snapshot', 'list', '--output-format', 'json'], env2), 'snapshot list').stdout) as { 'backup-id': string; 'backup-time': number }[];
      for (const i of acknowledged) {
        assert.ok(listed.some((s) => s['backup-id'] === `h${i}`), `acknowledged h${i} is listed: ${JSON.stringify(listed)}`);
        const manifests = (await keys(client, `killstore/.cnt/host/h${i}/`)).filter((k) => k.endsWith('index.json.blob'));
        assert.equal(manifests.length, 1, `the manifest of h${i} is in the bucket`);
      }
      // every listed snapshot, acknowledged or not, is complete
      for (const s of listed) {
        const i = Number(s['backup-id'].slice(1));
        const out = join(dir, `restored-${i}.img`);
        cliOk(await runCli(['restore', `host/${s['backup-id']}/${s['backup-time']}`, 'disk.img', out], env2), `restore h${i}`);
        assert.equal(sha(out), sha(files[i]!), `h${i} restores byte-identical`);
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
