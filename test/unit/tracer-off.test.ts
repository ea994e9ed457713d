/**
 * lib/runtime/tracer-off.ts stands for the Powertools tracer in a function bundled without X-Ray
 * (stacks/bundling.ts UNTRACED_ALIASES). It must do what the real tracer does with
 * POWERTOOLS_TRACE_ENABLED=false (what the stack sets on such a stage), and middy must accept its
 * middleware: a handler behind it answers exactly as behind the real one.
 */
import middy from '@middy/core';
import { Tracer as PowertoolsTracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler as powertoolsCapture } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLambdaHandler, Tracer } from '../../lib/runtime/tracer-off.ts';

const context = { functionName: 'wechat', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 3_000 } as unknown as Context;

describe('tracer-off', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is off, like the Powertools tracer with POWERTOOLS_TRACE_ENABLED=false', () => {
    const real = new PowertoolsTracer({ serviceName: 'scrm-hub' });
    const off = new Tracer({ serviceName: 'scrm-hub' });
    expect(real.isTracingEnabled()).toBe(false);
    expect(off.isTracingEnabled()).toBe(real.isTracingEnabled());
  });

  it('returns a client uninstrumented: the same object, as the disabled Powertools tracer does', () => {
    const client = { send: () => Promise.resolve('sent'), middlewareStack: { add: () => undefined } };
    expect(new PowertoolsTracer({ serviceName: 'scrm-hub' }).captureAWSv3Client(client)).toBe(client);
    expect(new Tracer().captureAWSv3Client(client)).toBe(client);
  });

  it('gives middy a middleware that changes neither the answer nor the error', async () => {
    const run = (mw: ReturnType<typeof captureLambdaHandler> | ReturnType<typeof powertoolsCapture>, fail: boolean) =>
      middy(async (event: { n: number }) => {
        if (fail) throw new Error(`bad ${event.n}`);
        return { doubled: event.n * 2 };
      })
        .use(mw)({ n: 21 }, context);
    const off = captureLambdaHandler(new Tracer(), { captureResponse: false });
    const real = powertoolsCapture(new PowertoolsTracer({ serviceName: 'scrm-hub' }), { captureResponse: false });
    expect(await run(off, false)).toEqual({ doubled: 42 });
    expect(await run(off, false)).toEqual(await run(real, false));
    await expect(run(off, true)).rejects.toThrow('bad 21');
    await expect(run(real, true)).rejects.toThrow('bad 21');
  });
});
