/**
 * The one place an error becomes an HTTP answer. Any thrown value is turned into a HoldfastError;
 * its code picks the status from the registry (`core/error-codes.ts`).
 *
 * Body (JSON, see docs/protocol.md "HTTP API and errors"):
 *   `{ "data": null, "message": "...", "code": "NOT_FOUND", "details": {...}, "errors"?: {param: msg} }`
 * PBS sends the bare message as text; Holdfast keeps the message in `message` so PBS-style clients
 * that print the body still show it, and adds the stable code. `errors` appears when the error
 * names the offending parameter (`details.param`), like PBS's per-parameter errors.
 * Internal errors keep their details out of the body: they may hold paths or stack-like text.
 * No answer names an absolute server path: filesystem errors (the fs adapter's, and a datastore's
 * missing directory) show only the last component of the path, in the message and in `details`.
 */
import type { ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { fail, toHoldfastError, type HoldfastError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';

export interface ErrorBody {
  readonly data: null;
  readonly message: string;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly errors?: Readonly<Record<string, string>>;
}

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
/** Lets Holdfast clients recover the code from answers whose body is plain text (h2 sessions). */
export const ERROR_CODE_HEADER = 'x-holdfast-error-code';

/** Codes whose `details.path` is a server filesystem path (API paths start with `/api2/`). */
const FS_CODES: readonly ErrorCode[] = ['NOT_FOUND', 'IO_ERROR', 'SYNC_FAILED', 'ALREADY_EXISTS', 'DIRECTORY_NOT_EMPTY', 'ATIME_UNSUPPORTED', 'LOCKED'];

function serverPath(err: HoldfastError): string | undefined {
  const p = err.details['path'];
  if (typeof p !== 'string' || !p.startsWith('/') || p.startsWith('/api2/')) return undefined;
  return FS_CODES.includes(err.code) || typeof err.details['op'] === 'string' ? p : undefined;
}

/** The error as a client may see it: a server path in it is cut to its last component. */
export function publicError(e: unknown): HoldfastError {
  const err = toHoldfastError(e);
  const path = serverPath(err);
  if (path === undefined) return err;
  const short = basename(path);
  return fail(err.code, err.message.replaceAll(path, short), { ...err.details, path: short }, err);
}

export function errorBody(err: HoldfastError): ErrorBody {
  const details = err.httpStatus >= 500 ? {} : err.details;
  const param = err.details['param'];
  const base = { data: null, message: err.message, code: err.code, details } as const;
  return typeof param === 'string' ? { ...base, errors: { [param]: err.message } } : base;
}

/** Status and JSON body for anything thrown. */
export function errorResponse(e: unknown): { status: number; body: ErrorBody; error: HoldfastError } {
  const error = publicError(e);
  return { status: error.httpStatus, body: errorBody(error), error };
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers with the public form of `e`; returns the error as thrown, for the server log. */
export function sendError(res: ServerResponse, e: unknown): HoldfastError {
  const { status, body, error } = errorResponse(e);
  if (res.headersSent) res.destroy(error);
  else {
    res.setHeader(ERROR_CODE_HEADER, error.code);
    sendJson(res, status, body);
  }
  return toHoldfastError(e);
}
