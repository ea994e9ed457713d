/**
 * The business metrics of a webhook request, through the real wechat webhook handler on
 * DynamoDB Local: a push applied counts EventsApplied by source, its redelivery Duplicates, a
 * push with a wrong signature Refused (bad_signature) and nothing else; and with the process's
 * Powertools sink the invocation writes one EMF line per metric to stdout, in namespace
 * ScrmHub with dimensions service and source (what the dashboard's SEARCH expects). Also a code
 * scan counts CodeScans by its result, and a message the sender suppresses MessagesSuppressed
 * by its reason.
 */
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler } from '../../lib/sources/wechat/handler.ts';
import { scan } from '../../lib/apply/scan-code.ts';
import { sendRecord } from '../../lib/engagement/send/batch.ts';
import type { OutboxRow } from '../../lib/events/messages.ts';
import type { WechatApi } from '../../lib/wechat/wire.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';
import { processMetrics } from '../../lib/runtime/metrics.ts';
import { useLocalAws } from '../support/env.ts';
import { MemoryMetrics } from '../support/metrics.ts';
import { signedPush, type PushSpec, type SignedRequest } from '../support/wechat-client.ts';

let base: Runtime;
beforeAll(async () => {
  base = (await useLocalAws()).runtime;
});

function apiEvent(req: SignedRequest, appId: string): APIGatewayProxyEventV2 {
  const url = new URL(req.path, 'http://hub.local');
  return {
    version: '2.0',
    routeKey: 'POST /wechat/{appId}',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    queryStringParameters: Object.fromEntries(url.searchParams),
    pathParameters: { appId },
    headers: { 'content-type': 'text/xml' },
    requestContext: { requestId: `r-${Math.random()}`, http: { method: 'POST', path: url.pathname, sourceIp: '127.0.0.1' } },
    isBase64Encoded: false,
    body: req.body,
  } as unknown as APIGatewayProxyEventV2;
}

/** A subscribe push dated now, signed (and in safe mode sealed) for the runtime's official account. */
function push(rt: Runtime, from: string, tamper = false): APIGatewayProxyEventV2 {
  const cfg = rt.cfg;
  const spec: PushSpec = { from, createTime: Math.floor(Date.now() / 1000), msgType: 'event', event: 'subscribe' };
  const req = signedPush(spec, { appId: cfg.WECHAT_APP_ID, token: cfg.WECHAT_TOKEN, aesKey: cfg.WECHAT_MESSAGE_MODE === 'safe' ? cfg.WECHAT_AES_KEY : undefined });
  // Tampered: the first hex digit of every signature (plain and safe mode) changed.
  const forged = req.path.replace(/signature=[0-9a-f]/g, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0'));
  return apiEvent(tamper ? { ...req, path: forged } : req, cfg.WECHAT_APP_ID);
}

describe('webhook metrics (in-memory sink)', () => {
  it('a push counts EventsApplied by source; its redelivery counts Duplicates', async () => {
    const sink = new MemoryMetrics();
    const rt = base.with({ metrics: sink });
    const event = push(rt, `o-metrics-${Date.now()}`);
    expect((await handler(event, { hub: rt })).statusCode).toBe(200);
    expect((await handler(event, { hub: rt })).statusCode).toBe(200);
    expect(sink.records.filter((r) => r.name !== 'FoldLagSeconds')).toEqual([
      { name: 'EventsApplied', dims: { source: 'wechat' }, value: 1 },
      { name: 'Duplicates', dims: { source: 'wechat' }, value: 1 },
    ]);
    // One fold lag per commit (none for the duplicate), non-negative seconds.
    expect(sink.of('FoldLagSeconds')).toHaveLength(1);
    expect(sink.of('FoldLagSeconds')[0]!.value).toBeGreaterThanOrEqual(0);
  });

  it('a push with a wrong signature counts Refused (wechat, bad_signature) and nothing else', async () => {
    const sink = new MemoryMetrics();
    const rt = base.with({ metrics: sink });
    const res = await handler(push(rt, `o-forged-${Date.now()}`, true), { hub: rt });
    expect(res.statusCode).toBe(401);
    expect(sink.records).toEqual([{ name: 'Refused', dims: { source: 'wechat', reason: 'bad_signature' }, value: 1 }]);
  });
});

describe('webhook metrics (Powertools EMF on stdout)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('one invocation writes EventsApplied in namespace ScrmHub with dimensions service and source', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (text.includes('"_aws"')) {
        lines.push(...text.split('\n').filter((l) => l.includes('"_aws"')));
        return true;
      }
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    const rt = base.with({ metrics: processMetrics });
    expect((await handler(push(rt, `o-emf-${Date.now()}`), { hub: rt })).statusCode).toBe(200);
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } });
    const applied = emf.filter((e) => e._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === 'EventsApplied'));
    expect(applied).toHaveLength(1);
    const [line] = applied;
    expect(line!._aws.CloudWatchMetrics).toEqual([{ Namespace: 'ScrmHub', Dimensions: [['service', 'source']], Metrics: [{ Name: 'EventsApplied', Unit: 'Count' }] }]);
    expect(line).toMatchObject({ service: 'scrm-hub', source: 'wechat', EventsApplied: 1 });
    // The fold lag goes out with the shared instance: dimension service only.
    const lag = emf.filter((e) => e._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === 'FoldLagSeconds'));
    expect(lag).toHaveLength(1);
    expect(lag[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ScrmHub', Dimensions: [['service']], Metrics: [{ Name: 'FoldLagSeconds', Unit: 'Seconds' }] });
  });
});

describe('code scan and sender metrics (in-memory sink)', () => {
  it('a scan of a forged code counts CodeScans with result invalid', async () => {
    const sink = new MemoryMetrics();
    const rt = base.with({ metrics: sink });
    // WeChat's OAuth exchange is the one call made before the code is checked: answered by the official account's stand-in shape.
    const api = { appId: rt.cfg.WECHAT_APP_ID, oauthExchange: async () => ({ openid: `o-scan-${Date.now()}` }) } as unknown as WechatApi;
    const out = await scan({ appId: rt.cfg.WECHAT_APP_ID, oauthCode: 'oauth-1', code: 'NOT-A-REAL-CODE' }, { cfg: rt.cfg, api, requestId: 'r-scan', sourceIp: '203.0.113.7', apply: rt });
    expect(out).toEqual({ result: 'invalid' });
    expect(sink.records).toEqual([{ name: 'CodeScans', dims: { result: 'invalid' }, value: 1 }]);
  });

  it('a message for a member that does not exist counts MessagesSuppressed with reason member_not_found', async () => {
    const sink = new MemoryMetrics();
    const rt = base.with({ metrics: sink });
    const row: OutboxRow = {
      messageId: `msg-${Date.now()}`,
      memberId: `m-missing-${Date.now()}`,
      ruleId: 'welcome',
      step: 'welcome',
      class: 'transactional',
      destination: 'member',
      payload: {},
      triggeredAt: Date.now(),
      createdAt: Date.now(),
    };
    const record = { messageId: 'sqs-1', body: JSON.stringify(row), attributes: { ApproximateReceiveCount: '1' } } as unknown as SQSRecord;
    const out = await sendRecord(row, rt, record);
    expect(out).toEqual({ kind: 'done', outcome: { status: 'suppressed', reason: 'member_not_found' } });
    expect(sink.records).toEqual([{ name: 'MessagesSuppressed', dims: { reason: 'member_not_found' }, value: 1 }]);
  });
});
