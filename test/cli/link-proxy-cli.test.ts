/**
 * `holdfast benchmark link-proxy` as a user runs it: it prints where it listens, forwards bytes
 * intact through the added delay, and exits cleanly on SIGTERM; bad flags are INVALID_ARGUMENT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { cleanEnv, describeCli, fastRandom, runCli, spawnCli } from '../helpers/server-fixture.ts';

test('benchmark link-proxy forwards a connection intact with the added RTT and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
  const data = fastRandom(2 * 1024 * 1024 + 5, 9);
  const echo = net.createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const { port } = echo.address() as net.AddressInfo;
  const proxy = spawnCli(['benchmark', 'link-proxy', '--target', `127.0.0.1:${port}`, '--rtt', '20ms', '--rate', '1G'], cleanEnv());
  try {
    const listening = await new Promise<number>((resolve, reject) => {
      createInterface({ input: proxy.child.stdout! }).on('line', (l) => {
        const m = /^link proxy listening on 127\.0\.0\.1:(\d+) → 127\.0\.0\.1:\d+, RTT \+20 ms, 1 Gbit\/s$/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      proxy.child.once('exit', () => reject(new Error('the proxy exited before listening')));
    });
    const c = net.connect({ host: '127.0.0.1', port: listening, allowHalfOpen: true });
    const parts: Buffer[] = [];
    c.on('data', (d: Buffer) => parts.push(d));
    c.end(data);
    await once(c, 'end');
    assert.ok(Buffer.concat(parts).equals(data), 'the echo came back intact');
    proxy.child.kill('SIGTERM');
    const r = await proxy.result;
    assert.equal(r.code, 0, describeCli(r));
  } finally {
    proxy.child.kill('SIGKILL');
    echo.close();
  }
});

test('benchmark link-proxy without --target, or with a bad --rtt, fails with INVALID_ARGUMENT', async () => {
  for (const args of [[], ['--target', '127.0.0.1:1', '--rtt', 'soon']]) {
    const r = await runCli(['benchmark', 'link-proxy', ...args], cleanEnv());
    assert.notEqual(r.code, 0, describeCli(r));
    assert.match(r.stderr, /INVALID_ARGUMENT|must be|is not a duration/, describeCli(r));
  }
});
