/**
 * The notification target contract (src/server/notifications/targets.ts), one suite for every
 * adapter, each against a real local receiver: `send` resolves only once the receiver holds the
 * notification, and rejects with NOTIFICATION_FAILED when the receiver refuses it or is not there.
 */
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { isHoldfastError } from '../../src/core/errors.ts';
import type { Notification, NotificationSender } from '../../src/server/notifications/targets.ts';

export interface TargetUnderTest {
  readonly sender: NotificationSender;
  /** A sender of the same kind pointed at a closed port. */
  readonly unreachable: NotificationSender;
  /** The text the receiver got for its `n`-th delivery (0-based). */
  delivered(n: number): Promise<string>;
  /** Deliveries so far. */
  count(): number;
  refuse(on: boolean): void;
  close(): Promise<void>;
}

const sample: Notification = { title: 'garbage_collection default: OK', message: 'Task garbage_collection default ended: OK', severity: 'info', fields: { type: 'garbage_collection', store: 'default' }, timestamp: 1_800_000_000 };

export function notificationTargetContract(name: string, make: () => Promise<TargetUnderTest>): void {
  suite(`NotificationSender contract: ${name}`, () => {
    test('send resolves once the receiver holds the notification, with its title, severity and fields', async () => {
      const t = await make();
      try {
        await t.sender.send(sample);
        assert.equal(t.count(), 1, 'delivered before send resolved');
        const text = await t.delivered(0);
        for (const part of [sample.title, 'info', 'garbage_collection', 'default']) assert.ok(text.includes(part), `${part} in ${text}`);
      } finally {
        await t.close();
      }
    });

    test('send rejects with NOTIFICATION_FAILED when the receiver refuses, and nothing counts as delivered', async () => {
      const t = await make();
      try {
        t.refuse(true);
        await assert.rejects(t.sender.send(sample), (e) => isHoldfastError(e, 'NOTIFICATION_FAILED'));
        assert.equal(t.count(), 0);
        t.refuse(false);
        await t.sender.send(sample);
        assert.equal(t.count(), 1);
      } finally {
        await t.close();
      }
    });

    test('send rejects with NOTIFICATION_FAILED when nothing listens', async () => {
      const t = await make();
      try {
        await assert.rejects(t.unreachable.send(sample), (e) => isHoldfastError(e, 'NOTIFICATION_FAILED'));
      } finally {
        await t.close();
      }
    });
  });
}
