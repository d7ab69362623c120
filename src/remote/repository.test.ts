import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHoldfastError } from '../core/errors.ts';
import {
  formatRepository,
  makeRepository,
  parseRepository,
  repositoryAuthId,
  repositoryHost,
  repositoryPort,
  resolveRepository,
} from './repository.ts';

function assertRepoError(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHoldfastError(e, 'INVALID_REPOSITORY'), String(e));
    assert.ok(e.message.includes(mentions), `'${e.message}' should mention '${mentions}'`);
    return true;
  });
}

test('parseRepository reads the upstream table (VECTORS §11)', () => {
  const mystore = parseRepository('mystore');
  assert.deepEqual([repositoryAuthId(mystore), repositoryHost(mystore), repositoryPort(mystore), mystore.store], ['root@pam', 'localhost', 8007, 'mystore']);
  assert.deepEqual(parseRepository('myhost:mystore'), { authId: undefined, host: 'myhost', port: undefined, store: 'mystore' });
  assert.deepEqual(parseRepository('admin@pam@backuphost:8008:tank'), { authId: 'admin@pam', host: 'backuphost', port: 8008, store: 'tank' });
  assert.deepEqual(parseRepository('192.168.1.1:1234:mystore'), { authId: undefined, host: '192.168.1.1', port: 1234, store: 'mystore' });
  assert.deepEqual(parseRepository('[ff80::1]:9007:mystore'), { authId: undefined, host: '[ff80::1]', port: 9007, store: 'mystore' });
  assert.equal(parseRepository('user@pbs!token@myhost:mystore').authId, 'user@pbs!token');
  assert.deepEqual(parseRepository('[ff80::1]:mystore'), { authId: undefined, host: '[ff80::1]', port: undefined, store: 'mystore' });
});

test('parseRepository rejects bad repositories, naming them', () => {
  assertRepoError(() => parseRepository(''), "''");
  for (const bad of ['host:', 'host:0:store', 'host:99999:store', 'ff80::1:store', 'bad host:store', 'x@host:store', '[zz]:store', 'h:p:s']) {
    assertRepoError(() => parseRepository(bad), `'${bad}'`);
  }
});

test('formatRepository prints the upstream examples back unchanged (VECTORS §11)', () => {
  for (const text of ['mystore', 'myhost:mystore', 'admin@pam@backuphost:8008:tank', '[ff80::1]:9007:mystore']) {
    assert.equal(formatRepository(parseRepository(text)), text);
  }
  assert.equal(formatRepository(parseRepository('user@pbs@myhost:store')), 'user@pbs@myhost:8007:store');
});

test('makeRepository brackets a bare IPv6 host and keeps a bracketed one', () => {
  assert.equal(makeRepository({ host: 'ff80::1', store: 's1' }).host, '[ff80::1]');
  assert.equal(makeRepository({ host: '[ff80::1]', store: 's1' }).host, '[ff80::1]');
});

test('resolveRepository applies the upstream atom rules (VECTORS §11)', () => {
  assertRepoError(() => resolveRepository({ repository: 'store', server: 'x' }, {}), 'mutually exclusive');
  assertRepoError(() => resolveRepository({ server: 'x' }, {}), '--datastore is required');
  assertRepoError(() => resolveRepository({}, {}), 'no repository specified');
  assertRepoError(() => resolveRepository({}, {}), 'unable to get');
  const full = resolveRepository({ server: 'pbs.local', port: 9000, datastore: 'tank', authId: 'backup@pam' }, {});
  assert.deepEqual(full, { authId: 'backup@pam', host: 'pbs.local', port: 9000, store: 'tank' });
  const local = resolveRepository({ datastore: 'local' }, {});
  assert.deepEqual([repositoryHost(local), repositoryPort(local)], ['localhost', 8007]);
});

test('resolveRepository applies the environment precedence (VECTORS §11)', () => {
  const env = { PBS_SERVER: 'envhost', PBS_DATASTORE: 'envstore' };
  assert.deepEqual(resolveRepository({}, env), { authId: undefined, host: 'envhost', port: undefined, store: 'envstore' });
  const withRepo = { ...env, PBS_REPOSITORY: 'repohost:repostore' };
  assert.equal(resolveRepository({}, withRepo).host, 'repohost');
  assert.deepEqual(resolveRepository({ server: 'clihost', datastore: 'clistore' }, withRepo), {
    authId: undefined,
    host: 'clihost',
    port: undefined,
    store: 'clistore',
  });
  assert.deepEqual(resolveRepository({ authId: 'backup@pbs' }, env), { authId: 'backup@pbs', host: 'envhost', port: undefined, store: 'envstore' });
  assert.equal(resolveRepository({ server: 'clihost' }, env).host, 'clihost');
  assert.equal(resolveRepository({ server: 'clihost' }, env).store, 'envstore');
});

test('formatRepository output parses back to the same text (property)', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
  const host = fc.oneof(
    fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
    fc.ipV4(),
    fc.ipV6().map((h) => `[${h}]`),
  );
  const repo = fc.record({
    authId: fc.option(fc.constantFrom('root@pam', 'admin@pbs', 'user@pbs!tok'), { nil: undefined }),
    host: fc.option(host, { nil: undefined }),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    store: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{2,20}$/),
  });
  fc.assert(
    fc.property(repo, (r) => {
      const text = formatRepository(makeRepository(r));
      assert.equal(formatRepository(parseRepository(text)), text);
    }),
  );
});
