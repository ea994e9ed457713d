/**
 * Regressions found by the resilience suite, each reproduced on its own: hostile but
 * well-signed bodies and malformed paths are bad input (4xx), never a 500.
 * (Concurrent redeliveries and throttled reads live in faults.test.ts, next to the hub they need.)
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';

import { signJdParams } from '../../lib/sources/jd/sign.ts';
import { signTopParams } from '../../lib/sources/tmall/sign.ts';
import { youzanEventSign } from '../../lib/sources/youzan/sign.ts';
import { handler as tmallHandler } from '../../lib/sources/tmall/handler.ts';
import { handler as jdHandler } from '../../lib/sources/jd/handler.ts';
import { handler as youzanHandler } from '../../lib/sources/youzan/handler.ts';
import { chinaTime } from './lib/cases.ts';
import { invokeDirect } from './lib/direct.ts';
import { loadFunctions, startGateway } from '../../local/gateway.ts';

describe('bad input found by the resilience suite', () => {
  // lib/sources/commerce/json.ts parseJsonLossless catches what the lossless parse throws, but not what
  // `convert` throws: `convert` recurses once per nesting level (through Array.prototype.map for
  // arrays) and runs outside the try. A well-formed body nested a few thousand levels deep — tens
  // of KB, far under the 512 KB limit — with a valid signature can pass the parse and overflow
  // the stack in `convert`; the RangeError is no HubError, so the answer is 500 `internal`
  // instead of 400, and the platform retries a message that can never succeed. Where exactly the
  // parse still succeeds but `convert` overflows depends on the stack in use and on the JIT
  // (a cold `convert` has the bigger frames), so a range of depths and shapes is swept in this
  // file's own fresh process.
  it('a deeply nested JSON body with a valid signature is answered 4xx by every commerce webhook', async () => {
    const cfg = hubConfig();
    const statuses: number[] = [];
    const bodies: Buffer[] = [];
    for (let depth = 2_000; depth <= 3_000; depth += 100) bodies.push(Buffer.from(`${'['.repeat(depth)}1${']'.repeat(depth)}`));
    for (let depth = 3_000; depth <= 6_000; depth += 250) bodies.push(Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));
    for (const body of bodies) {
      const ts = chinaTime(Date.now());
      const top = { app_key: cfg.TMALL_APP_KEY, timestamp: ts, sign_method: 'md5' };
      const jd = { app_key: cfg.JD_APP_KEY, timestamp: ts };
      const json = { 'content-type': 'application/json' };
      const t = await invokeDirect('tmall', tmallHandler as never, {
        method: 'POST',
        path: `/tmall/${cfg.TMALL_APP_KEY}?${new URLSearchParams({ ...top, sign: signTopParams(top, cfg.TMALL_APP_SECRET, 'md5', body) })}`,
        headers: json,
        body,
      });
      const j = await invokeDirect('jd', jdHandler as never, {
        method: 'POST',
        path: `/jd/${cfg.JD_APP_KEY}?${new URLSearchParams({ ...jd, sign: signJdParams(jd, cfg.JD_APP_SECRET, body) })}`,
        headers: json,
        body,
      });
      const y = await invokeDirect('youzan', youzanHandler as never, {
        method: 'POST',
        path: `/youzan/${cfg.YOUZAN_CLIENT_ID}`,
        headers: { ...json, 'event-sign': youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, cfg.YOUZAN_CLIENT_SECRET) },
        body,
      });
      statuses.push(t.statusCode ?? 200, j.statusCode ?? 200, y.statusCode ?? 200);
    }
    const fiveXX = statuses.filter((s) => s >= 500).length;
    expect(fiveXX).toBe(0);
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
  });

  // local/gateway.ts toEvent decodes path parameters with decodeURIComponent; a malformed
  // percent-escape in the path (`/tmall/%E0%A4%A`) throws URIError, which the gateway answers as a
  // handler crash: 500. It is bad input and should be a 4xx (API Gateway answers 400). Local
  // runtime only.
  it('a malformed percent-escape in a path parameter is answered 4xx by the local gateway', async () => {
    const gateway = await startGateway({ port: 0, functions: await loadFunctions(['tmall', 'wechat']) });
    const quiet = console.error;
    console.error = () => undefined;
    try {
      const statuses: number[] = [];
      for (const path of ['/tmall/%E0%A4%A', '/wechat/%ZZ?signature=x', '/tmall/%C3%28']) {
        const res = await fetch(gateway.url + path, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    } finally {
      console.error = quiet;
      await gateway.close();
    }
  });
});
