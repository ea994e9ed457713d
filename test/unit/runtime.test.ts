/**
 * The handler runtime (lib/runtime): every manifest function is a middy handler; the HTTP
 * factories answer 413 before the handler, map errors to `{error, message}` responses and check
 * the admin token first; the runtime is built once and handed to every call.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { entryOf, FUNCTIONS } from '../../lib/manifest.ts';
import { NotFoundError, TransientError } from '../../lib/errors.ts';
import { http, routes, schedule } from '../../lib/runtime/lambda.ts';
import { json } from '../../lib/runtime/http.ts';
import { createRuntime, processRuntime, type Runtime } from '../../lib/runtime/runtime.ts';

const event = (o: { body?: string; base64?: boolean; routeKey?: string; bearer?: string } = {}): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: o.routeKey ?? 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}) },
    requestContext: { requestId: 'r-1', http: { method: 'POST', path: '/x', sourceIp: '127.0.0.1' } },
    isBase64Encoded: o.base64 ?? false,
    ...(o.body !== undefined ? { body: o.body } : {}),
  }) as unknown as APIGatewayProxyEventV2;

const runtime = (env: Record<string, string> = {}): Runtime => createRuntime({ env, local: true });
const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? 'null') as Record<string, unknown>;

// Imported while the file loads, not inside a test: module-level code belongs to no test (the
// mutation lane treats it as static, docs/testing.md).
const entries = await Promise.all(
  FUNCTIONS.map(async (f) => ({ name: f.name, entry: entryOf(f), mod: (await import(/* @vite-ignore */ `../../${entryOf(f)}`)) as { handler: { use?: unknown } } })),
);

describe('every function of the manifest', () => {
  it.each(entries.map((e) => [e.name, e.entry, e.mod] as const))('%s (%s) exports a middy handler', (_name, _entry, mod) => {
    expect(typeof mod.handler.use).toBe('function');
  });
});

describe('http()', () => {
  it('a body over the limit is 413 before the handler runs (base64 counted decoded)', async () => {
    let calls = 0;
    const h = http({ name: 't', maxBodyBytes: 8 }, async () => {
      calls++;
      return json(200, {});
    });
    const hub = runtime();
    const tooLong = await h(event({ body: '123456789' }), { hub });
    expect(tooLong.statusCode).toBe(413);
    expect(bodyOf(tooLong)).toEqual({ error: 'payload_too_large', message: 'body exceeds 8 bytes' });
    // 9 bytes base64-encoded is 12 characters, 8 bytes is 12 too: only the decoded size counts.
    expect((await h(event({ body: Buffer.from('12345678').toString('base64'), base64: true }), { hub })).statusCode).toBe(200);
    expect((await h(event({ body: Buffer.from('123456789').toString('base64'), base64: true }), { hub })).statusCode).toBe(413);
    expect(calls).toBe(1);
  });

  it('maps named errors to their status, transient faults to 503 with retry-after, anything else to a bare 500', async () => {
    const hub = runtime();
    const answer = (err: Error) => http({ name: 't' }, async () => Promise.reject(err))(event(), { hub });
    const nf = await answer(new NotFoundError('no such thing'));
    expect([nf.statusCode, bodyOf(nf)]).toEqual([404, { error: 'not_found', message: 'no such thing' }]);
    const tr = await answer(new TransientError('table busy'));
    expect([tr.statusCode, tr.headers?.['retry-after'], bodyOf(tr).error]).toEqual([503, '1', 'transient']);
    const boom = await answer(new Error('secret detail at line 3'));
    expect([boom.statusCode, bodyOf(boom)]).toEqual([500, { error: 'internal', message: 'internal error' }]);
  });

  it('admin: the token is checked before the body limit and the handler', async () => {
    const hub = runtime({ HUB_ADMIN_TOKEN: 'a-token-for-this-test-0123456789' });
    const h = http({ name: 't', admin: true, maxBodyBytes: 4 }, async () => json(200, { ok: true }));
    expect((await h(event({ body: 'far too long' }), { hub })).statusCode).toBe(401);
    expect((await h(event({ body: 'far too long', bearer: 'a-token-for-this-test-0123456789' }), { hub })).statusCode).toBe(413);
    expect((await h(event({ body: '{}', bearer: 'a-token-for-this-test-0123456789' }), { hub })).statusCode).toBe(200);
  });

  it('routes() dispatches on the route key and 404s the rest', async () => {
    const h = routes({ name: 't' }, { 'GET /a': async () => json(200, { route: 'a' }) });
    const hub = runtime();
    expect(bodyOf(await h(event({ routeKey: 'GET /a' }), { hub }))).toEqual({ route: 'a' });
    expect((await h(event({ routeKey: 'GET /b' }), { hub })).statusCode).toBe(404);
  });
});

describe('the runtime', () => {
  it('outside Lambda the process runtime is built once and reused by every call without one', async () => {
    const seen: Runtime[] = [];
    const h = schedule({ name: 't' }, async (rt) => {
      seen.push(rt);
      return seen.length;
    });
    expect(await h(undefined)).toBe(1);
    expect(await h(undefined)).toBe(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toBe(await processRuntime());
  });

  it('a runtime in the context is used as given; with() re-parses only what it changes', async () => {
    const base = runtime({ HUB_COUNTER_SHARDS: '8' });
    const changed = base.with({ settings: { HUB_COUNTER_SHARDS: '3' }, now: () => 42 });
    expect([base.cfg.HUB_COUNTER_SHARDS, changed.cfg.HUB_COUNTER_SHARDS, changed.now()]).toEqual([8, 3, 42]);
    const h = schedule({ name: 't' }, async (rt, ctx) => [rt.cfg.HUB_COUNTER_SHARDS, ctx.remainingMs?.()]);
    expect(await h(undefined, { hub: changed, getRemainingTimeInMillis: () => 1234 })).toEqual([3, 1234]);
  });

  it('an invalid setting fails the build with the configuration error, not later', () => {
    expect(() => runtime({ HUB_COUNTER_SHARDS: '' })).toThrow(/HUB_COUNTER_SHARDS is set but empty/);
  });
});
