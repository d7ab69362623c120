import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTokenId, isValidAuthId, isValidUserid, tokenId, userOf } from './auth-id.ts';

test('isValidUserid and isValidAuthId answer without throwing', () => {
  assert.equal(isValidUserid('xxx@y'), true);
  assert.equal(isValidUserid('x:xx@test'), false);
  assert.equal(isValidAuthId('backup@pbs!job-1'), true);
  assert.equal(isValidAuthId('backup@pbs!a b'), false);
});

test('tokenId builds and validates <userid>!<name>', () => {
  assert.equal(tokenId('a@pbs', 't'), 'a@pbs!t');
  assert.throws(() => tokenId('a@pbs', 'bad name'), { code: 'INVALID_NAME' });
});

test('userOf and isTokenId name the owning user of a token', () => {
  assert.equal(userOf('a@pbs!t'), 'a@pbs');
  assert.equal(userOf('a@pbs'), 'a@pbs');
  assert.equal(isTokenId('a@pbs!t'), true);
  assert.equal(isTokenId('a@pbs'), false);
});
