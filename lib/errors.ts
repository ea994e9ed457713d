/**
 * Named errors. Each carries the HTTP status a caller gets and a reason safe to show them;
 * nothing else (no stack, no internals) ever reaches a caller. Functions map them in
 * lib/runtime/http.ts (errorResponse; docs/design.md#errors).
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

/** An error whose code the thrower may name; without one, the class's `defaultCode`. */
abstract class CodedError extends HubError {
  static readonly defaultCode: string;
  readonly code: string;
  constructor(message: string, details?: unknown, code?: string) {
    super(message, details);
    this.code = code ?? (new.target as unknown as typeof CodedError).defaultCode;
  }
}

/** 400: the input is malformed or fails validation. */
export class BadRequestError extends CodedError {
  static override readonly defaultCode = 'bad_request';
  readonly status = 400;
}

/**
 * 400 that is also kept for review: `apply` writes a refusal row (lib/store/entities/refusal.ts)
 * with `review` before answering (e.g. a refund above the amount paid).
 */
export class RefusedForReviewError extends BadRequestError {
  constructor(
    message: string,
    code: string,
    readonly review: Record<string, unknown>,
  ) {
    super(message, undefined, code);
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

/** 403: the caller is known but may not do this (e.g. a WeChat snapshot-page virtual user). */
export class ForbiddenError extends CodedError {
  static override readonly defaultCode = 'forbidden';
  readonly status = 403;
}

/** 404 */
export class NotFoundError extends HubError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** 409: the request conflicts with the current state (e.g. a phone bound to another member). */
export class ConflictError extends CodedError {
  static override readonly defaultCode = 'conflict';
  readonly status = 409;
}

/** 409: another run saved the erasure job first (lib/privacy/erase.ts); that run carries on. */
export class ErasureBusy extends ConflictError {
  constructor() {
    super('another run is working on this erasure', undefined, 'erasure_busy');
    this.name = 'ErasureBusy';
  }
}

/**
 * 409 inside the registration planner: the phone belongs to another WeChat person. Carries the
 * other record's id for the review row only; lib/apply/register-member.ts answers a uniform 409.
 */
export class PhoneBoundElsewhereError extends ConflictError {
  constructor(readonly otherMemberId: string) {
    super('phone bound to another WeChat person', undefined, 'phone_unavailable');
  }
}

/** 413 */
export class PayloadTooLargeError extends HubError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/** 429: a rate limit was reached; `retryAfterSeconds` goes into the Retry-After header. */
export class TooManyRequestsError extends HubError {
  readonly status = 429;
  readonly code = 'too_many_requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** 503: a dependency failed in a way a retry may fix. The platform retries on any 5xx. */
export class TransientError extends HubError {
  readonly status = 503;
  readonly code = 'transient';
}

/**
 * 503: the platform's reply budget (WeChat: 5 s, of which the hub takes 3.5 s) ran out before
 * another apply attempt could start. Nothing was committed; the platform sends the push again.
 */
export class ReplyBudgetError extends HubError {
  readonly status = 503;
  readonly code = 'reply_budget';
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

/**
 * An archive write failed (lib/archive): never answered to a caller — the archive counts it in
 * ArchiveFailures by `reason` (disk_full, throttled, error) and the request goes on.
 */
export class ArchiveWriteError extends Error {
  constructor(
    message: string,
    readonly reason: 'disk_full' | 'throttled' | 'error',
  ) {
    super(message);
    this.name = 'ArchiveWriteError';
  }
}
