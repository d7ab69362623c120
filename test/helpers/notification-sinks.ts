/**
 * Real local receivers for notification tests: an HTTP server that records webhook POSTs and an
 * SMTP server (smtp-server, plain on loopback) that records mails. Each can be told to refuse
 * (HTTP 500 / SMTP 550), and each hands out the next message as a promise, so a test waits on
 * delivery itself, never on time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export class Inbox<T> {
  readonly items: T[] = [];
  readonly #waiters: ((t: T) => void)[] = [];

  push(t: T): void {
    this.items.push(t);
    for (const w of this.#waiters.splice(0)) w(t); // each re-checks its own index
  }

  /** The `n`-th item (0-based) once it arrived. */
  nth(n: number): Promise<T> {
    if (n < this.items.length) return Promise.resolve(this.items[n]!);
    return new Promise((resolve) => {
      const wait = (): void => {
        if (n < this.items.length) resolve(this.items[n]!);
        else this.#waiters.push(wait);
      };
      wait();
    });
  }
}

export interface Hook {
  readonly body: unknown;
  readonly authorization: string | undefined;
}

export interface WebhookSink {
  readonly url: string;
  readonly inbox: Inbox<Hook>;
  refuse: boolean;
  close(): Promise<void>;
}

export async function webhookSink(): Promise<WebhookSink> {
  const inbox = new Inbox<Hook>();
  const sink = { refuse: false };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (sink.refuse) {
        res.writeHead(500).end('refused');
        return;
      }
      inbox.push({ body: JSON.parse(Buffer.concat(parts).toString()) as unknown, authorization: req.headers.authorization });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(sink, {
    url: `http://127.0.0.1:${port}/hook`,
    inbox,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  readonly text: string;
  readonly user: string | undefined;
}

export interface SmtpSink {
  readonly port: number;
  readonly inbox: Inbox<Mail>;
  refuse: boolean;
  close(): Promise<void>;
}

export async function smtpSink(credentials?: { user: string; pass: string }): Promise<SmtpSink> {
  const inbox = new Inbox<Mail>();
  const sink = { refuse: false };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: credentials === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        if (sink.refuse) {
          cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
          return;
        }
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const user = typeof session.user === 'string' ? session.user : undefined;
        inbox.push({ from, to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(parts).toString(), user });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(sink, { port, inbox, close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}
