/**
 * LinkProxy: a user-space TCP proxy that makes a short path (loopback, a veth pair) behave like a
 * long link for the protocols above it. Each direction holds every byte for a fixed one-way delay
 * (so RTT = 2 × delay + the path's own) and, when a rate is given, serialises the bytes at that
 * rate as a bottleneck router would. The kernel here has no netem; `tbf` in a namespace can shape
 * a rate but add no delay, so the sync benchmark and the tests that need a long link put this
 * proxy in the path.
 *
 * What it emulates and what not: every window and every request/response round trip above TCP
 * (HTTP/2 flow control, chunks in flight) sees the full RTT. TCP itself does not: each side of
 * the proxy is its own short connection, so slow start and loss recovery over a long path are
 * not reproduced.
 *
 * Invariants:
 * - Bytes leave in the order and with the content they arrived; a half-close (FIN) is delayed
 *   like data and passed on after the last byte. An error or reset on one side destroys both.
 * - The directions are independent: a full direction pauses only its own source.
 * - Buffering is bounded: per connection and direction, the bytes in the delay line plus those
 *   queued on the outgoing socket reach at most `bufferBytes` plus one read; then the source is
 *   paused (TCP backpressure to the sender) until they drain to 7/8 of it (so the line stays
 *   nearly full). The default is what a link of the rate holds in flight one way (rate × delay),
 *   times 1.5, plus 1 MiB: a fuller line than that is a queue the real link would not have.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fail } from '../../core/errors.ts';

const MIB = 1024 * 1024;
/** Pipe capacity assumed for sizing the buffer when no rate is given (and so none is shaped). */
const UNSHAPED_SIZING_RATE = 10e9;

export interface LinkShape {
  /** one-way delay in milliseconds, added in each direction */
  readonly delayMs: number;
  /** bits per second each direction is serialised at; undefined: no shaping (tbf may shape) */
  readonly rateBitsPerSec?: number | undefined;
  /** per connection and direction; default from rate (or `sizingRateBitsPerSec`) and delay */
  readonly bufferBytes?: number | undefined;
  /** the rate the default buffer is sized for when the proxy does not shape (e.g. tbf does) */
  readonly sizingRateBitsPerSec?: number | undefined;
}

export interface LinkProxyOptions extends LinkShape {
  readonly target: { readonly host: string; readonly port: number };
  /** default 127.0.0.1 */
  readonly listenHost?: string;
  /** default 0 (any free port) */
  readonly listenPort?: number;
}

/** The default per-direction buffer: 1.5 × the one-way bytes in flight, plus 1 MiB. */
export function defaultBufferBytes(shape: LinkShape): number {
  const rate = shape.rateBitsPerSec ?? shape.sizingRateBitsPerSec ?? UNSHAPED_SIZING_RATE;
  return Math.ceil(((rate / 8) * shape.delayMs * 1.5) / 1000) + MIB;
}

export function checkShape(shape: LinkShape): void {
  const bad = (what: string, value: unknown): never => {
    throw fail('INVALID_ARGUMENT', `link ${what} must be a positive number (got ${String(value)})`, { [what]: value });
  };
  if (!Number.isFinite(shape.delayMs) || shape.delayMs < 0) bad('delay', shape.delayMs);
  if (shape.rateBitsPerSec !== undefined && !(shape.rateBitsPerSec > 0)) bad('rate', shape.rateBitsPerSec);
  if (shape.bufferBytes !== undefined && !(Number.isSafeInteger(shape.bufferBytes) && shape.bufferBytes > 0)) bad('buffer', shape.bufferBytes);
}

/** What one direction of one connection did (for tests and the benchmark's report). */
export interface DirectionStats {
  readonly bytes: number;
  /** the most bytes held at once (delay line plus the outgoing socket's queue) */
  readonly maxHeld: number;
  /** the largest single read from the source */
  readonly maxRead: number;
  readonly pauses: number;
}

interface Slice {
  /** when the slice leaves, on performance.now()'s clock */
  readonly at: number;
  /** null: the source ended (FIN) */
  readonly data: Buffer | null;
}

/**
 * One direction: reads `from`, holds each read until its time, writes it to `to`. Emits 'pause'
 * when its buffer is full and it paused the source, 'resume' when it resumed it.
 */
export class DelayLine extends EventEmitter<{ pause: []; resume: [] }> {
  readonly #from: net.Socket;
  readonly #to: net.Socket;
  readonly #delayMs: number;
  readonly #rate: number | undefined;
  readonly #limit: number;
  readonly #queue: Slice[] = [];
  #queued = 0;
  /** when the emulated wire is free again (rate shaping) */
  #wireFree = 0;
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #stats = { bytes: 0, maxHeld: 0, maxRead: 0, pauses: 0 };

  constructor(from: net.Socket, to: net.Socket, shape: LinkShape) {
    super();
    this.#from = from;
    this.#to = to;
    this.#delayMs = shape.delayMs;
    this.#rate = shape.rateBitsPerSec;
    this.#limit = shape.bufferBytes ?? defaultBufferBytes(shape);
    from.on('data', (d: Buffer) => this.#take(d));
    from.once('end', () => this.#push(null));
    to.on('drain', () => this.#maybeResume());
  }

  get stats(): DirectionStats {
    return { ...this.#stats };
  }

  get held(): number {
    return this.#queued + this.#to.writableLength;
  }

  #take(d: Buffer): void {
    this.#stats.bytes += d.length;
    this.#stats.maxRead = Math.max(this.#stats.maxRead, d.length);
    this.#queued += d.length;
    this.#push(d);
    this.#stats.maxHeld = Math.max(this.#stats.maxHeld, this.held);
    if (!this.#paused && this.held > this.#limit) {
      this.#paused = true;
      this.#stats.pauses++;
      this.#from.pause();
      this.emit('pause');
    }
  }

  #push(data: Buffer | null): void {
    let sent = performance.now();
    if (this.#rate !== undefined && data !== null) {
      this.#wireFree = Math.max(sent, this.#wireFree) + (data.length * 8 * 1000) / this.#rate;
      sent = this.#wireFree;
    }
    this.#queue.push({ at: sent + this.#delayMs, data });
    this.#arm();
  }

  #arm(): void {
    const head = this.#queue[0];
    if (this.#timer !== undefined || head === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, Math.max(0, head.at - performance.now()));
  }

  /** Writes every slice whose time has come (timers fire late, never early enough to matter). */
  #release(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now + 0.5) {
      const { data } = this.#queue.shift()!;
      if (this.#to.destroyed) return;
      if (data === null) {
        this.#to.end();
        continue;
      }
      this.#queued -= data.length;
      this.#to.write(data);
    }
    this.#maybeResume();
    this.#arm();
  }

  #maybeResume(): void {
    if (this.#paused && this.held <= (this.#limit * 7) / 8 && !this.#from.destroyed) {
      this.#paused = false;
      this.#from.resume();
      this.emit('resume');
    }
  }

  /** Stops the timer; the sockets are the connection's to destroy. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}

export interface LinkConnection {
  /** client → target */
  readonly up: DelayLine;
  /** target → client */
  readonly down: DelayLine;
}

/** Emits 'connection' with each accepted connection's two delay lines. */
export class LinkProxy extends EventEmitter<{ connection: [LinkConnection] }> {
  readonly #server: net.Server;
  readonly #shape: LinkShape;
  readonly #options: LinkProxyOptions;
  readonly #sockets = new Set<net.Socket>();
  readonly connections: LinkConnection[] = [];

  private constructor(server: net.Server, options: LinkProxyOptions) {
    super();
    this.#server = server;
    this.#options = options;
    this.#shape = options;
  }

  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    checkShape(options);
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    const proxy = new LinkProxy(server, options);
    server.on('connection', (client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  get host(): string {
    return (this.#server.address() as net.AddressInfo).address;
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect({ host: this.#options.target.host, port: this.#options.target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.setNoDelay(true);
    }
    const up = new DelayLine(client, upstream, this.#shape);
    const down = new DelayLine(upstream, client, this.#shape);
    const connection = { up, down };
    this.connections.push(connection);
    this.emit('connection', connection);
    const teardown = (): void => {
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.once('error', teardown);
    upstream.once('error', teardown);
    // each side closes once both its directions ended; the pair is done when both closed
    let closed = 0;
    const onClose = (): void => {
      if (++closed === 2) teardown();
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
    upstream.once('connect', () => client.resume());
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
