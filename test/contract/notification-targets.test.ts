/** Runs the notification target contract against the webhook and SMTP adapters, on real local receivers. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { smtpSender, webhookSender } from '../../src/server/notifications/targets.ts';
import { smtpSink, webhookSink } from '../helpers/notification-sinks.ts';
import { notificationTargetContract } from './notification-target.contract.ts';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

notificationTargetContract('webhook', async () => {
  const sink = await webhookSink();
  const dead = await closedPort();
  return {
    sender: webhookSender({ kind: 'webhook', name: 'hook', url: sink.url }, 'Bearer s3cret'),
    unreachable: webhookSender({ kind: 'webhook', name: 'dead', url: `http://127.0.0.1:${dead}/` }, undefined),
    delivered: async (n) => JSON.stringify(await sink.inbox.nth(n)),
    count: () => sink.inbox.items.length,
    refuse: (on) => (sink.refuse = on),
    close: () => sink.close(),
  };
});

notificationTargetContract('smtp', async () => {
  const sink = await smtpSink({ user: 'holdfast', pass: 'mail-secret' });
  const dead = await closedPort();
  const base = { kind: 'smtp', mode: 'insecure', fromAddress: 'holdfast@example.test', mailto: ['ops@example.test'], username: 'holdfast' } as const;
  return {
    sender: smtpSender({ ...base, name: 'mail', server: '127.0.0.1', port: sink.port }, 'mail-secret'),
    unreachable: smtpSender({ ...base, name: 'dead', server: '127.0.0.1', port: dead }, 'mail-secret', 5_000),
    delivered: async (n) => JSON.stringify(await sink.inbox.nth(n)),
    count: () => sink.inbox.items.length,
    refuse: (on) => (sink.refuse = on),
    close: () => sink.close(),
  };
});
