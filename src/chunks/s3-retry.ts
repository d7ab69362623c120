/**
 * Bounded retries for S3 requests: which failures are worth another attempt, and the loop.
 *
 * Transient: no HTTP answer at all (but not our own coded errors, such as an untrusted certificate) (connection refused or reset, our timeout), 5xx, 429, 408 and
 * S3's `RequestTimeout`/`SlowDown`. Everything else (403, 404, 400, …) is final at once, and 404 and
 * 412 never reach here as failures: the caller turns them into answers.
 *
 * Why retrying writes is safe: every write Holdfast makes is idempotent. A chunk PUT carries the
 * same content-addressed bytes each time, so after an attempt whose outcome is unknown (a timeout
 * after the body was sent) the retry answers either 2xx (it had not landed) or 412 (it had, or
 * another writer stored the same key); both are true final answers. The loop never turns an
 * unknown outcome into success: when the attempts run out, the caller gets OBJECT_STORE_ERROR and
 * must treat the write as not done.
 */
import { fail, HoldfastError } from '../core/errors.ts';

export interface RetryPolicy {
  /** further attempts after the first */
  readonly retries: number;
  /** the first backoff; each further one doubles, plus up to the same again at random */
  readonly backoffMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'sleep'> = { retries: 3, backoffMs: 250 };

/** What the SDK's errors carry that matters here. */
interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The HTTP status of an SDK error, or undefined when no answer came back. */
export function httpStatusOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  return (e as SdkErrorShape).$metadata?.httpStatusCode;
}

const TRANSIENT_NAMES = new Set(['RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'ServiceUnavailable', 'InternalError', 'TimeoutError', 'AbortError']);

export function isTransient(e: unknown): boolean {
  if (e instanceof HoldfastError) return false; // our own verdicts (an untrusted certificate) are final
  const status = httpStatusOf(e);
  if (status === undefined) return true; // no answer: network error or our own timeout
  if (status >= 500 || status === 429 || status === 408) return true;
  const name = (e as SdkErrorShape).name ?? '';
  return TRANSIENT_NAMES.has(name);
}

export function backoffFor(policy: Pick<RetryPolicy, 'backoffMs'>, attempt: number, random: () => number = Math.random): number {
  const base = policy.backoffMs * 2 ** attempt;
  return Math.round(base + random() * base);
}

/** A short description of a failure for messages: the status and the error's name and text. */
export function describeFailure(e: unknown): string {
  const status = httpStatusOf(e);
  const name = typeof e === 'object' && e !== null ? ((e as SdkErrorShape).name ?? '') : '';
  const message = e instanceof Error ? e.message : String(e);
  return `${status === undefined ? 'no answer' : `HTTP ${status}`}${name ? ` ${name}` : ''}: ${message}`;
}

/**
 * Runs `attempt` until it resolves, a failure is final, or the retries are used up. The error
 * thrown names the operation and key and says whether the last failure left the outcome unknown.
 */
export async function withRetries<T>(policy: RetryPolicy, op: string, key: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isTransient(e) || n >= policy.retries) throw finalError(op, key, e, n + 1);
      await policy.sleep(backoffFor(policy, n));
    }
  }
}

function finalError(op: string, key: string, e: unknown, attempts: number): HoldfastError {
  const status = httpStatusOf(e);
  return fail(
    'OBJECT_STORE_ERROR',
    `S3 ${op} ${key} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${describeFailure(e)})`,
    { op, key, attempts, ...(status === undefined ? { outcome: 'unknown' } : { status }) },
    e,
  );
}
