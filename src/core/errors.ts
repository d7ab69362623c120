/**
 * HoldfastError: the one error type the project raises on purpose. It carries a stable code from
 * the registry in `error-codes.ts`, the offending values in `details`, and the underlying cause.
 * Code paths that catch foreign errors (errno, JSON, zstd) wrap them here so callers never need to
 * inspect strings.
 */
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.ts';

export type ErrorDetails = Readonly<Record<string, unknown>>;

export class HoldfastError extends Error {
  override readonly name = 'HoldfastError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Shorthand used throughout: `throw fail('NOT_FOUND', 'no snapshot', { snapshot })`. */
export function fail(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown): HoldfastError {
  return new HoldfastError(code, message, details, cause);
}

export function isHoldfastError(e: unknown, code?: ErrorCode): e is HoldfastError {
  return e instanceof HoldfastError && (code === undefined || e.code === code);
}

/** Turns anything thrown into a HoldfastError, keeping coded errors as they are. */
export function toHoldfastError(e: unknown, fallback: ErrorCode = 'INTERNAL'): HoldfastError {
  if (e instanceof HoldfastError) return e;
  if (e instanceof Error) {
    const maybe = (e as { code?: unknown }).code;
    if (typeof maybe === 'string' && isErrorCode(maybe)) return new HoldfastError(maybe, e.message, {}, e);
    return new HoldfastError(fallback, e.message, {}, e);
  }
  return new HoldfastError(fallback, String(e));
}
