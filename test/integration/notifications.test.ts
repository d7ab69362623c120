/**
 * Notifications end to end (issue #15): targets and matchers made with the CLI, a real server
 * whose tasks end, and real local receivers: a finished GC reaches the webhook matcher for `gc`,
 * a failed verify reaches the mail matcher for errors (with SMTP auth, the password from the
 * environment), and neither reaches the other. `endpoint test` delivers or fails with its code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { chunkOf, fullBackup, openBackup } from '../helpers/raw-backup.ts';
import { smtpSink, webhookSink } from '../helpers/notification-sinks.ts';
import { fastRandom, startTestServer, type TestServer } from '../helpers/server-fixture.ts';

async function cli(srv: TestServer, args: readonly string[], extra: Readonly<Record<string, string>> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { env: srv.env('default', extra), out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('task outcomes reach the webhook and mail targets their matchers select, configured with the CLI', { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  const hook = await webhookSink();
  const mail = await smtpSink({ user: 'holdfast', pass: 'mail-secret' });
  try {
    const ok = async (args: readonly string[], extra: Readonly<Record<string, string>> = {}): Promise<string> => {
      const r = await cli(srv, args, extra);
      assert.equal(r.code, 0, `holdfast ${args.join(' ')}\n${r.out}\n${r.err}`);
      return r.out;
    };
    await ok(['notification', 'endpoint', 'create', 'ops', '--type', 'webhook', '--url', hook.url], { HOLDFAST_NOTIFY_SECRET: 'Bearer hook-token' });
    await ok(['notification', 'endpoint', 'create', 'mail', '--type', 'smtp', '--server', '127.0.0.1', '--port', String(mail.port), '--mode', 'insecure', '--from-address', 'holdfast@example.test', '--mailto', 'ops@example.test,oncall@example.test', '--username', 'holdfast'], {
      HOLDFAST_NOTIFY_SECRET: 'mail-secret',
    });
    await ok(['notification', 'matcher', 'create', 'gc-runs', '--match-type', 'gc', '--target', 'ops']);
    await ok(['notification', 'matcher', 'create', 'failures', '--match-severity', 'error', '--target', 'mail']);
    const typo = await cli(srv, ['notification', 'matcher', 'create', 'typo', '--match-type', 'gcc', '--target', 'ops']);
    assert.equal(typo.code, 2, 'an unknown task type is refused');
    assert.match(typo.err, /match-type 'gcc' is not a task type/);
    assert.match(await ok(['notification', 'endpoint', 'list']), /ops +webhook/);
    assert.match(await ok(['notification', 'matcher', 'list']), /failures +error +any +mail/);
    assert.equal(statSync(join(srv.configDir, 'notifications-secrets.json')).mode & 0o777, 0o600);
    assert.ok(!readFileSync(join(srv.configDir, 'notifications.cfg'), 'utf8').includes('mail-secret'));
    const refused = await cli(srv, ['notification', 'endpoint', 'delete', 'ops']);
    assert.notEqual(refused.code, 0, 'a target a matcher names cannot be deleted');

    // a GC that ends OK: the webhook gets it, the mail matcher (errors only) does not
    const admin = await srv.admin();
    const h2 = await openBackup(admin, 'n1', 1_800_000_000);
    const chunk = chunkOf(fastRandom(64_000, 7));
    await fullBackup(h2, 'n1', 1_800_000_000, [chunk]);
    await h2.close();
    await srv.hs.jobs.tasks.wait((await admin.post('admin/datastore/default/gc')) as string);
    const got = await hook.inbox.nth(0);
    const body = got.body as { severity: string; fields: Record<string, string>; title: string };
    assert.equal(body.severity, 'info');
    assert.equal(body.fields['type'], 'garbage_collection');
    assert.equal(body.fields['store'], 'default');
    assert.equal(got.authorization, 'Bearer hook-token');

    // a verify that fails (its chunk is gone): mail to both recipients, through SMTP auth
    rmSync(join(srv.datastorePath(), '.chunks', chunk.digest.slice(0, 4), chunk.digest));
    await srv.hs.jobs.tasks.wait((await admin.post('admin/datastore/default/verify')) as string);
    const m = await mail.inbox.nth(0);
    assert.deepEqual([...m.to].sort(), ['oncall@example.test', 'ops@example.test']);
    assert.equal(m.user, 'holdfast');
    assert.match(m.text, /Subject: \[holdfast error\] verify default/);
    assert.equal(hook.inbox.items.length, 1, 'the webhook matcher is for gc only');

    // endpoint test: delivered, or a failure with its code
    await ok(['notification', 'endpoint', 'test', 'ops']);
    assert.equal((await hook.inbox.nth(1)).authorization, 'Bearer hook-token');
    hook.refuse = true;
    const failed = await cli(srv, ['notification', 'endpoint', 'test', 'ops']);
    assert.notEqual(failed.code, 0);
    assert.match(failed.err, /NOTIFICATION_FAILED/);
  } finally {
    await srv.close();
    await hook.close();
    await mail.close();
  }
});
