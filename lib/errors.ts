/**
 * Named errors. Each carries the HTTP status a caller gets and a reason safe to show them;
 * nothing else (no stack, no internals) ever reaches a caller. Functions map them in
 * lib/http/index.ts (errorResponse; docs/design.md#errors).
 */
export abstract class HubError extends Error {
  abstract readonly status: number;
  /** A short machine-readable code, e.g. `bad_signature`. */
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the input is malformed or fails validation. */
export class BadRequestError extends HubError {
  readonly status = 400;
  readonly code: string;
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(message, details);
    this.code = code;
  }
}

/** 401: a signature, token or credential does not verify. */
export class SignatureError extends HubError {
  readonly status = 401;
  readonly code = 'bad_signature';
}

/** 401: the admin bearer token is missing or wrong. */
export class UnauthorizedError extends HubError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

/** 404 */
export class NotFoundError extends HubError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** 409: the request conflicts with the current state (e.g. a phone bound to another member). */
export class ConflictError extends HubError {
  readonly status = 409;
  readonly code: string;
  constructor(message: string, details?: unknown, code = 'conflict') {
    super(message, details);
    this.code = code;
  }
}

/** 413 */
export class PayloadTooLargeError extends HubError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/** 503: a dependency failed in a way a retry may fix. The platform retries on any 5xx. */
export class TransientError extends HubError {
  readonly status = 503;
  readonly code = 'transient';
}

/** An outbound API (WeChat, TOP) answered with an error. `retryable` decides retry vs DLQ. */
export class UpstreamApiError extends HubError {
  readonly status = 502;
  readonly code = 'upstream_error';
  constructor(
    message: string,
    readonly api: string,
    readonly errcode: number | string,
    readonly retryable: boolean,
  ) {
    super(message, { api, errcode });
  }
}
