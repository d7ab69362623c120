/**
 * Small helpers over `core/names.ts` for the auth code, which handles user and token ids as plain
 * strings: validity as a boolean, the owning user of a token, building a token id. Validation
 * itself (VECTORS.md §14) lives in `core/names.ts` only.
 */
import { authIdParts, isTokenId as isTokenAuthId, parseAuthId, parseUserid } from '../../core/names.ts';

function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

export function isValidUserid(text: string): boolean {
  return passes(() => parseUserid(text));
}

export function isValidAuthId(text: string): boolean {
  return passes(() => parseAuthId(text));
}

/** `<userid>!<name>`, validated (INVALID_NAME for a bad token name). */
export function tokenId(userid: string, tokenName: string): string {
  return parseAuthId(`${userid}!${tokenName}`);
}

/** The user an auth id acts for: itself, or the owner of the token. */
export function userOf(authId: string): string {
  return authIdParts(parseAuthId(authId)).user;
}

export function isTokenId(authId: string): boolean {
  return isTokenAuthId(parseAuthId(authId));
}
