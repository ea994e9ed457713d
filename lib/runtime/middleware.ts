/**
 * The middlewares every handler factory of lambda.ts is built from (@middy/core 6):
 *
 *   hubRuntime()       before: `context.hub ??= await processRuntime()` (the local gateway, the
 *                      pollers and tests put their own runtime there); never writes process.env
 *   httpErrors()       onError: the error becomes its response (http.ts errorResponse: the named
 *                      error's status and `{error, message}`, 503 + retry-after for a transient
 *                      fault, 500 without details for anything else)
 *   bodyLimit(max)     before: a body longer than `max` bytes (after base64 decoding) is 413
 *                      before the handler runs
 *   adminAuth()        before: the admin bearer token locally, the JWT authorizer's claims in AWS,
 *                      with the route's scope from the manifest (http.ts requireAdmin)
 *
 * The Lambda context reaches the logger through Powertools' own `injectLambdaContext`.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { routeScope } from '../manifest.ts';
import { errorResponse, rawBody, requireAdmin, type HttpEvent, type HttpResult } from './http.ts';
import { processRuntime, type Runtime } from './runtime.ts';

/** The Lambda context, with the runtime the handler uses (set by hubRuntime, or by the caller). */
export interface HubContext extends Context {
  hub?: Runtime;
}

/** The runtime of a request whose hubRuntime middleware has run. */
export function runtimeOf(context: HubContext): Runtime {
  if (!context.hub) throw new Error('no runtime in the context: the hubRuntime middleware did not run');
  return context.hub;
}

export function hubRuntime<E, R>(): MiddlewareObj<E, R, Error, HubContext> {
  return {
    before: async (request) => {
      request.context.hub ??= await processRuntime();
    },
  };
}

export function httpErrors(): MiddlewareObj<HttpEvent, HttpResult, unknown, HubContext> {
  return {
    onError: (request) => {
      request.response = errorResponse(request.error);
    },
  };
}

export function bodyLimit(maxBytes: number): MiddlewareObj<HttpEvent, HttpResult, Error, HubContext> {
  return {
    before: (request) => {
      rawBody(request.event, maxBytes);
    },
  };
}

export function adminAuth(): MiddlewareObj<HttpEvent, HttpResult, Error, HubContext> {
  return {
    before: (request) => {
      requireAdmin(request.event, runtimeOf(request.context).cfg.HUB_ADMIN_TOKEN, routeScope(request.event.routeKey));
    },
  };
}
