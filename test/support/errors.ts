/** Assertions on the errors the hub throws. */
import { expect } from 'vitest';
import { SignatureError, type HubError } from '../../lib/errors.ts';

/** `fn` throws an instance of `cls` (with `code`, when given); returns what it threw. */
export function expectHubError(fn: () => unknown, cls: new (...args: never[]) => HubError, code?: string): HubError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  if (code !== undefined) expect((caught as HubError).code).toBe(code);
  return caught as HubError;
}

/** `fn` refuses a request as unsigned or wrongly signed: a SignatureError, status 401, its message matching `reason`. */
export function expectSignatureError(fn: () => unknown, reason: RegExp): void {
  const err = expectHubError(fn, SignatureError);
  expect(err.status).toBe(401);
  expect(err.message).toMatch(reason);
}
