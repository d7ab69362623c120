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
 */
import type { ServerResponse } from 'node:http';
import { toHoldfastError, type HoldfastError } from '../core/errors.ts';

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

export function errorBody(err: HoldfastError): ErrorBody {
  const details = err.httpStatus >= 500 ? {} : err.details;
  const param = err.details['param'];
  const base = { data: null, message: err.message, code: err.code, details } as const;
  return typeof param === 'string' ? { ...base, errors: { [param]: err.message } } : base;
}

/** Status and JSON body for anything thrown. */
export function errorResponse(e: unknown): { status: number; body: ErrorBody; error: HoldfastError } {
  const error = toHoldfastError(e);
  return { status: error.httpStatus, body: errorBody(error), error };
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): HoldfastError {
  const { status, body, error } = errorResponse(e);
  if (res.headersSent) {
    res.destroy(error);
    return error;
  }
  res.setHeader(ERROR_CODE_HEADER, error.code);
  sendJson(res, status, body);
  return error;
}
