/**
 * HTTP plumbing shared by the API functions: API Gateway v2 events in, responses out. The
 * middlewares of middleware.ts apply `errorResponse` and the body limit to every HTTP handler.
 * Errors become `{error, message}` JSON with the named error's status; anything unexpected is
 * logged and answered 500 without details (no stack trace ever reaches a caller).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { timingSafeEqual } from 'node:crypto';
import { HubError, PayloadTooLargeError, BadRequestError, ForbiddenError, UnauthorizedError, TooManyRequestsError } from '../errors.ts';
import { logger } from '../log.ts';
import type { InboundRequest } from '../sources/types.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const DEFAULT_MAX_BODY = 64 * 1024;

/** The raw request body as bytes (API Gateway base64-encodes binary bodies). */
export function rawBody(event: HttpEvent, maxBytes = DEFAULT_MAX_BODY): Buffer {
  const buf = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (buf.length > maxBytes) throw new PayloadTooLargeError(`body exceeds ${maxBytes} bytes`);
  return buf;
}

export function header(event: HttpEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function query(event: HttpEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * A webhook request as a source reads it (lib/sources/types.ts): the account route parameter,
 * the query, lower-cased headers and the body within maxBytes (a GET handshake reads no body).
 */
export function inboundRequest(event: HttpEvent, accountParam: string, maxBytes: number, receivedAt: number): InboundRequest {
  const method = event.requestContext.http.method === 'GET' ? 'GET' : 'POST';
  return {
    method,
    account: event.pathParameters?.[accountParam] ?? '',
    query: query(event),
    headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    body: method === 'GET' ? Buffer.alloc(0) : rawBody(event, maxBytes),
    receivedAt,
  };
}

/** Parses a JSON body (objects only). */
export function jsonBody(event: HttpEvent, maxBytes = DEFAULT_MAX_BODY): unknown {
  const buf = rawBody(event, maxBytes);
  const type = header(event, 'content-type') ?? 'application/json';
  if (!/json/i.test(type)) throw new BadRequestError('expected a JSON body (content-type application/json)', undefined, 'unsupported_media_type');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new BadRequestError('body is not valid JSON', undefined, 'malformed_json');
  }
}

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export const text = (statusCode: number, body: string, contentType = 'text/plain; charset=utf-8'): HttpResult => ({
  statusCode,
  headers: { 'content-type': contentType },
  body,
});

/** Maps any thrown value to a response. */
export function errorResponse(err: unknown): HttpResult {
  if (err instanceof HubError) {
    const status = err.status === 502 ? 503 : err.status;
    if (status >= 500) logger.warn('transient failure', { error: err.name, message: err.message });
    return json(status, {
      error: err.code,
      message: err.message,
      ...(err instanceof BadRequestError && err.details ? { details: err.details } : {}),
    }, status === 503 ? { 'retry-after': '1' } : err instanceof TooManyRequestsError ? { 'retry-after': String(err.retryAfterSeconds) } : {});
  }
  logger.error('unhandled error', { error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
  return json(500, { error: 'internal', message: 'internal error' });
}

/**
 * Admin routes: bearer token locally; in AWS the JWT authorizer has already run (and checked the
 * route's scope). With `scope`, a JWT context must also carry it in its `scope` claim
 * (space-separated, RFC 8693 / OAuth 2.0), else 403.
 */
export function requireAdmin(event: HttpEvent, token: string, scope?: string): void {
  const jwt = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } | undefined)?.authorizer?.jwt;
  if (jwt) {
    if (scope && !grantedScopes(jwt.claims?.scope).includes(scope)) throw new ForbiddenError(`the token lacks the scope ${scope}`, undefined, 'insufficient_scope');
    return;
  }
  const auth = header(event, 'authorization') ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  const given = Buffer.from(m?.[1] ?? '');
  const want = Buffer.from(token);
  if (!m || given.length !== want.length || !timingSafeEqual(given, want)) throw new UnauthorizedError('admin bearer token required');
}

/**
 * Who called an admin route, for the audit (lib/store/entities/audit.ts): the JWT's `sub` in AWS
 * (an operator or client id, not a consumer), `admin-token` for the local bearer token.
 */
export function adminSubject(event: HttpEvent): string {
  const jwt = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } | undefined)?.authorizer?.jwt;
  const sub = jwt?.claims?.sub;
  return `admin:${typeof sub === 'string' && sub ? sub.slice(0, 128) : 'admin-token'}`;
}

/** The scopes of a `scope` claim: a space-separated string, or (API Gateway's rendering of an array) `[a b]`. */
function grantedScopes(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  return claim.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
}

