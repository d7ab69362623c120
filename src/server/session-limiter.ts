/**
 * SessionLimiter: how many backup and reader sessions one user has open at once. A user's tokens
 * count as the user, so a user cannot multiply sessions by making tokens. Past the limit the
 * upgrade is refused with TOO_MANY_SESSIONS (429) before any session is created.
 *
 * Invariant: every `take` that returned is matched by exactly one call of its release function
 * (idempotent), so a user's count never leaks.
 */
import { fail } from '../core/errors.ts';
import { authIdParts, type AuthId } from '../core/names.ts';

export class SessionLimiter {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(maxPerUser: number) {
    this.#max = maxPerUser;
  }

  /** Sessions `authId`'s user has open. */
  openFor(authId: string): number {
    return this.#open.get(userOf(authId)) ?? 0;
  }

  /** Counts one more session for `authId`'s user; returns the release function. */
  take(authId: string): () => void {
    const user = userOf(authId);
    const n = this.#open.get(user) ?? 0;
    if (n >= this.#max) throw fail('TOO_MANY_SESSIONS', `${user} already has ${n} protocol sessions open (the limit is ${this.#max})`, { user, limit: this.#max });
    this.#open.set(user, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(user) ?? 1) - 1;
      if (left === 0) this.#open.delete(user);
      else this.#open.set(user, left);
    };
  }
}

function userOf(authId: string): string {
  return authIdParts(authId as AuthId).user;
}
