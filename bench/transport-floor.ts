/**
 * What moving a restore's bytes costs before anything is decoded: a server process sends `--size`
 * MiB over loopback in 4 MiB answers and the client copies each piece into a reused buffer, as a
 * restore's receive does, once over a raw TLS socket and once over HTTP/2 on TLS (Node's http2,
 * which the PBS reader protocol rides on; 8 answers in flight, the client's windows and frame size
 * as a restore asks for them). It prints the CPU seconds per GiB on each side and how many pieces
 * the client's JavaScript was handed. docs/benchmarks.md uses it to say how much of a restore's
 * CPU is the transport's. A third row receives the same answers from the same server through
 * Holdfast's lean reader client (src/remote/lean-h2-session.ts), which a restore uses.
 *
 *     node --import tsx bench/transport-floor.ts [--size 1024] [--runs 3]
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { LeanH2Session, ReceiveSwitch } from '../src/remote/lean-h2-session.ts';

const MIB = 1024 * 1024;
const ANSWER = 4 * MIB;
const IN_FLIGHT = 8;

type Kind = 'tls' | 'h2' | 'lean';
interface ServerMessage {
  readonly port?: number;
  readonly cpu?: NodeJS.CpuUsage;
}

/**
 * The certificate is made in a process of its own: loading its generator (a large CommonJS
 * package graph) through tsx made the measuring process's HTTP/2 receive ~40% dearer (measured:
 * 1.68 against 1.21 CPU-s per GiB), which the built CLI never pays.
 */
async function makeCertificate(dir: string): Promise<void> {
  const { loadOrCreateCertificate } = await import('../src/server/tls.ts');
  await loadOrCreateCertificate(dir);
}

/** The child: serves `count` answers of 4 MiB per connection (raw TLS) or per request (h2). */
function serve(kind: Kind, count: number, dir: string): void {
  const key = readFileSync(join(dir, 'proxy.key'));
  const cert = readFileSync(join(dir, 'proxy.pem'));
  const body = Buffer.alloc(ANSWER, 7);
  const send = (m: ServerMessage): void => void process.send?.(m);
  process.on('message', (m) => {
    if (m === 'cpu') send({ cpu: process.cpuUsage() });
  });
  if (kind === 'tls') {
    const srv = tls.createServer({ key, cert }, (sock) => {
      let left = count;
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!sock.write(body)) return void sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    });
    srv.listen(0, '127.0.0.1', () => send({ port: (srv.address() as { port: number }).port }));
  } else {
    // h2 and lean: the same server (Node's http2, as Holdfast's); only the client differs
    const srv = http2.createSecureServer({ key, cert, maxSessionMemory: 512 });
    srv.on('stream', (s) => {
      s.respond({ ':status': 200, 'content-length': body.length });
      s.end(body);
    });
    srv.listen(0, '127.0.0.1', () => send({ port: (srv.address() as { port: number }).port }));
  }
}

interface Measured {
  readonly seconds: number;
  readonly clientCpu: number;
  readonly serverCpu: number;
  readonly pieces: number;
}

const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

async function measure(kind: Kind, sizeMiB: number, dir: string): Promise<Measured> {
  const count = Math.max(1, Math.round(sizeMiB / 4));
  const child = fork(new URL(import.meta.url).pathname, ['--serve', kind, '--count', String(count), '--dir', dir], { execArgv: process.execArgv });
  const next = (): Promise<ServerMessage> => new Promise((resolve) => child.once('message', (m) => resolve(m as ServerMessage)));
  try {
    const { port } = await next();
    child.send('cpu');
    const s0 = (await next()).cpu!;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const bufs = Array.from({ length: IN_FLIGHT }, () => Buffer.allocUnsafeSlow(ANSWER));
    let pieces = 0;
    if (kind === 'tls') {
      await new Promise<void>((resolve, reject) => {
        let fill = 0;
        const buf = bufs[0]!;
        const sock = tls.connect({ port: port!, host: '127.0.0.1', rejectUnauthorized: false });
        sock.on('data', (c: Buffer) => {
          pieces++;
          if (fill + c.length > buf.length) fill = 0;
          c.copy(buf, fill);
          fill += c.length;
        });
        sock.on('end', () => resolve());
        sock.on('error', reject);
      });
    } else if (kind === 'lean') {
      const receive = new ReceiveSwitch();
      const counted = { buffer: receive.onread.buffer, callback: (n: number, b: Uint8Array): boolean => (pieces++, receive.onread.callback(n, b)) };
      const sock = tls.connect({ port: port!, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'], onread: counted } as tls.ConnectionOptions);
      await new Promise<void>((resolve, reject) => sock.once('secureConnect', () => resolve()).once('error', reject));
      const session = LeanH2Session.start(sock, receive, Buffer.alloc(0), `127.0.0.1:${port!}`, { stream: 32 * MIB, connection: 64 * MIB });
      let left = count;
      await Promise.all(
        bufs.map(async (b) => {
          while (left > 0) {
            left--;
            const r = await session.request('GET', '/', {}, undefined, b);
            if (r.kind !== 'bytes' || r.bytes.length !== ANSWER) throw new Error('short answer');
          }
        }),
      );
      await session.close();
    } else {
      const session = http2.connect(`https://127.0.0.1:${port!}`, { rejectUnauthorized: false, settings: { initialWindowSize: 32 * MIB, maxFrameSize: 4 * MIB }, maxSessionMemory: 512 });
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
      session.setLocalWindowSize(64 * MIB);
      const get = (buf: Buffer): Promise<void> =>
        new Promise((resolve, reject) => {
          let fill = 0;
          const st = session.request({ ':path': '/' });
          st.on('data', (c: Buffer) => {
            pieces++;
            c.copy(buf, fill);
            fill += c.length;
          });
          st.on('end', () => resolve());
          st.on('error', reject);
          st.end();
        });
      let left = count;
      await Promise.all(
        bufs.map(async (b) => {
          while (left > 0) {
            left--;
            await get(b);
          }
        }),
      );
      session.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = cpuSeconds(process.cpuUsage(c0));
    child.send('cpu');
    const s1 = (await next()).cpu!;
    return { seconds, clientCpu, serverCpu: cpuSeconds(s1) - cpuSeconds(s0), pieces };
  } finally {
    child.kill();
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' }, serve: { type: 'string' }, count: { type: 'string' }, dir: { type: 'string' }, 'make-cert': { type: 'string' } } });
  if (values['make-cert'] !== undefined) return makeCertificate(values['make-cert']);
  if (values.serve !== undefined) return serve(values.serve as Kind, Number(values.count), values.dir!);
  const size = Number(values.size);
  const runs = Number(values.runs);
  if (!(size >= 4) || !(runs >= 1)) throw new Error('--size is MiB (at least 4), --runs at least 1');
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-transport-'));
  try {
    execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--make-cert', dir], { stdio: 'inherit' });
    const perGiB = 1024 / size;
    console.log(`${size} MiB over loopback in 4 MiB answers, median of ${runs}; CPU seconds per GiB`);
    console.log('| transport | client CPU | server CPU | pieces handed to JavaScript (average) | wall |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const kind of ['tls', 'h2', 'lean'] as const) {
      const r: Measured[] = [];
      for (let i = 0; i < runs; i++) r.push(await measure(kind, size, dir));
      const pieces = median(r.map((x) => x.pieces));
      const name = kind === 'tls' ? 'raw TLS socket' : kind === 'h2' ? "HTTP/2 over TLS, Node's http2 client" : "HTTP/2 over TLS, Holdfast's lean reader client";
      console.log(`| ${name} | ${(median(r.map((x) => x.clientCpu)) * perGiB).toFixed(2)} s | ${(median(r.map((x) => x.serverCpu)) * perGiB).toFixed(2)} s | ${pieces} (${((size * MIB) / pieces / 1024).toFixed(1)} KiB) | ${median(r.map((x) => x.seconds)).toFixed(2)} s |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
