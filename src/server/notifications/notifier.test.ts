import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../../core/log.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { makeTempDir } from '../../../test/helpers/tmp.ts';
import { NotificationConfigFile, parseNotificationConfig, formatNotificationConfig } from './notification-config.ts';
import { matches, Notifier, severityOf } from './notifier.ts';
import type { Notification, NotificationSender } from './targets.ts';

const n = (severity: Notification['severity'], type: string): Notification => ({ title: 't', message: 'm', severity, fields: { type }, timestamp: 0 });

test('severityOf maps OK to info, warnings to warning, an error or a lost task to error', () => {
  assert.equal(severityOf({ kind: 'ok' }), 'info');
  assert.equal(severityOf({ kind: 'warnings', count: 2 }), 'warning');
  assert.equal(severityOf({ kind: 'error', message: 'x' }), 'error');
  assert.equal(severityOf({ kind: 'unknown' }), 'error');
});

test('matches: empty lists match everything, gc stands for garbage_collection', () => {
  const m = { name: 'm', severities: [], types: [], targets: [] };
  assert.ok(matches(m, n('info', 'backup')));
  assert.ok(matches({ ...m, types: ['gc'] }, n('info', 'garbage_collection')));
  assert.ok(!matches({ ...m, types: ['verify'] }, n('info', 'garbage_collection')));
  assert.ok(matches({ ...m, severities: ['warning', 'error'] }, n('error', 'verify')));
  assert.ok(!matches({ ...m, severities: ['error'] }, n('info', 'verify')));
});

test('parseNotificationConfig checks values and references, and reads back what it writes', () => {
  const text = 'webhook: ops\n\turl https://hooks.example/x\n\nsmtp: mail\n\tserver mail.example\n\tport 587\n\tmode starttls\n\tfrom-address a@example\n\tmailto b@example,c@example\n\nmatcher: m\n\tmatch-severity error\n\ttarget ops,mail\n';
  const c = parseNotificationConfig(text, 'n.cfg');
  assert.deepEqual(parseNotificationConfig(formatNotificationConfig(c), 'n.cfg'), c);
  assert.throws(() => parseNotificationConfig('matcher: m\n\ttarget nope\n', 'n.cfg'), /target 'nope'/);
  assert.throws(() => parseNotificationConfig('webhook: w\n\turl file:///etc/passwd\n', 'n.cfg'), /webhook url/);
  assert.throws(() => parseNotificationConfig('smtp: s\n\tserver x\n\tfrom-address a@b\n\tmailto not-an-address\n', 'n.cfg'), /mailto/);
  assert.throws(() => parseNotificationConfig('matcher: m\n\tmatch-severity fatal\n', 'n.cfg'), /match-severity/);
});

test('Notifier sends once per target however many matchers select it, and a failing target only logs', async () => {
  const dir = makeTempDir('notify-');
  const config = new NotificationConfigFile(new NodeFs(), dir);
  await config.update(() => ({
    targets: [
      { kind: 'webhook', name: 'a', url: 'http://127.0.0.1:1/a' },
      { kind: 'webhook', name: 'broken', url: 'http://127.0.0.1:1/b' },
    ],
    matchers: [
      { name: 'm1', severities: ['error'], types: [], targets: ['a', 'broken'] },
      { name: 'm2', severities: [], types: ['verify'], targets: ['a'] },
    ],
  }));
  const sent: string[] = [];
  const log = memoryLogger();
  const sender = (t: { name: string }): NotificationSender => ({
    send: async () => {
      if (t.name === 'broken') throw new Error('receiver down');
      sent.push(t.name);
    },
  });
  const notifier = new Notifier({ config, log, sender });
  await notifier.notify(n('error', 'verify'));
  assert.deepEqual(sent, ['a']);
  assert.ok(log.lines.some((l) => l.includes("target 'broken' failed: receiver down")), log.lines.join('\n'));
  await notifier.notify(n('info', 'backup'));
  assert.deepEqual(sent, ['a'], 'no matcher selects an OK backup');
});
