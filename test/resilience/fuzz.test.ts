/**
 * Fuzz: 10,000 mutated payloads per webhook — WeChat XML in plain and in safe mode, Tmall (TMC),
 * JD and Youzan JSON — with bit flips, truncation, duplicated / removed elements and keys, huge
 * values, wrong types, entity payloads, odd bytes and random bytes; half of them with a signature
 * that is valid for the mutated request (lib: test/resilience/lib/cases.ts, mutate.ts).
 *
 * Expectations for every request: never a 5xx, never an unhandled error (the process keeps
 * serving: a valid follow gets 200 at the end), and nothing written for a request answered 4xx.
 *
 * How: the first FUZZ_HTTP cases of each webhook go through the real local gateway one at a time
 * (writes between request and answer are that request's); the rest call the handlers directly,
 * five webhooks concurrently, with the API Gateway v2 event local/gateway.ts `toEvent` builds for
 * the same request (10,000 × 5 requests through HTTP do not fit the time budget). Writes are
 * attributed to a request by an SDK middleware reading an AsyncLocalStorage set around the
 * handler call. Then every request answered 4xx (but 409, which depends on state) is replayed on
 * a separate, empty table, and that table must still hold no item afterwards.
 *
 * Signed commerce bodies nested thousands of levels deep are among the cases, held to the same
 * rules (they once overflowed the stack and were answered 500; the regression test "a deeply
 * nested JSON body with a valid signature is answered 4xx by every commerce webhook" in
 * test/resilience/regressions.test.ts sweeps those depths on its own).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { baseSettings, useLocalAws, type LocalAws, ddb, sqs } from '../support/env.ts';
import { seededRandom } from '../support/faults.ts';
import { signedPush } from '../support/wechat-client.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { createTable } from '../../local/emulators.ts';
import { LOCAL_MAX_SKEW_SECONDS, type HubConfig } from '../../lib/config/index.ts';

import { handler as wechatHandler } from '../../lib/sources/wechat/handler.ts';
import { handler as tmallHandler } from '../../lib/sources/tmall/handler.ts';
import { handler as jdHandler } from '../../lib/sources/jd/handler.ts';
import { handler as youzanHandler } from '../../lib/sources/youzan/handler.ts';
import { fuzzCase, WEBHOOKS, type FuzzCase, type Webhook } from './lib/cases.ts';
import { invokeDirect } from './lib/direct.ts';

const PER_WEBHOOK = Number(process.env.FUZZ_N ?? 10_000);
const HTTP_PER_WEBHOOK = Math.min(PER_WEBHOOK, Number(process.env.FUZZ_HTTP ?? 150));
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_302);

const FUNCTION_OF: Record<Webhook, { fn: string; handler: (e: unknown, c: unknown) => Promise<unknown> }> = {
  'wechat-plain': { fn: 'wechat', handler: wechatHandler as never },
  'wechat-safe': { fn: 'wechat', handler: wechatHandler as never },
  tmall: { fn: 'tmall', handler: tmallHandler as never },
  jd: { fn: 'jd', handler: jdHandler as never },
  youzan: { fn: 'youzan', handler: youzanHandler as never },
};

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'SendMessageCommand',
  'SendMessageBatchCommand',
]);

interface Outcome {
  webhook: Webhook;
  index: number;
  op: string;
  path: string;
  bodyHead: string;
  status: number;
  writes: number;
  via: 'http' | 'direct';
  answer: string;
}

function outcome(c: FuzzCase, status: number, writes: number, via: 'http' | 'direct', answer: string): Outcome {
  return {
    webhook: c.webhook,
    index: c.index,
    op: c.op,
    path: c.path.slice(0, 200),
    bodyHead: c.body.subarray(0, 200).toString('utf8'),
    status,
    writes,
    via,
    answer: answer.slice(0, 200),
  };
}

/** The cases of one webhook, generated lazily (some bodies are large) and reproducibly. */
function* casesOf(w: Webhook, cfg: HubConfig, now: number): Generator<FuzzCase> {
  const rnd = seededRandom(SEED + WEBHOOKS.indexOf(w) * 7919);
  for (let k = 0; k < PER_WEBHOOK; k++) yield fuzzCase(w, cfg, rnd, k, now);
}

const als = new AsyncLocalStorage<{ writes: number }>();
let unattributedWrites = 0;

let aws: LocalAws;
let hub: RunningHub;
const removers: (() => void)[] = [];
const processErrors: unknown[] = [];
const onProcessError = (err: unknown) => processErrors.push(err);

function trackWrites(client: { middlewareStack: { add(mw: unknown, o: object): void; remove(n: string): boolean } }, name: string) {
  client.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const out = await next(args);
      if (WRITE_COMMANDS.has(context.commandName ?? '')) {
        const store = als.getStore();
        if (store) store.writes++;
        else unattributedWrites++;
      }
      return out;
    },
    { name, step: 'initialize', priority: 'high', override: true },
  );
  removers.push(() => client.middlewareStack.remove(name));
}

async function countItems(table: string): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }));
    n += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return n;
}

async function viaHttp(c: FuzzCase): Promise<Outcome> {
  const before = unattributedWrites;
  let res: Response;
  try {
    res = await fetch(hub.url + c.path, { method: c.method, headers: c.headers, body: Uint8Array.from(c.body) });
  } catch (err) {
    // Headers a client cannot send (control characters): the platform could not send them either.
    if (err instanceof TypeError && /header|ByteString|invalid/i.test(String((err as Error & { cause?: unknown }).cause ?? err.message))) return viaDirect(c);
    throw err;
  }
  const answer = await res.text();
  return outcome(c, res.status, unattributedWrites - before, 'http', answer);
}

async function viaDirect(c: FuzzCase): Promise<Outcome> {
  const { fn, handler } = FUNCTION_OF[c.webhook];
  const store = { writes: 0 };
  const res = await als.run(store, () => invokeDirect(fn, handler as never, c, hub.runtime));
  return outcome(c, res.statusCode ?? 200, store.writes, 'direct', String(res.body ?? ''));
}

/**
 * The configured account has an EncodingAESKey, so it takes only sealed pushes (plain ones get
 * 401 before parsing). The plain lane runs on its own, with the account in plain mode
 * (WECHAT_MESSAGE_MODE=plain), so its valid-signature half reaches the parser; the other lanes
 * run together under the file's configuration.
 */
const PLAIN: Webhook = 'wechat-plain';
const TOGETHER = WEBHOOKS.filter((w) => w !== PLAIN);

async function inPlainMode<T>(fn: (cfg: HubConfig) => Promise<T>): Promise<T> {
  const saved = hub.runtime;
  hub.reconfigure({ settings: { WECHAT_MESSAGE_MODE: 'plain' } });
  try {
    return await fn(hub.runtime.cfg);
  } finally {
    hub.restore(saved);
  }
}

const describeCase = (o: Outcome) =>
  `${o.webhook}#${o.index} (${o.op}, ${o.via}) → ${o.status} ${o.answer} | path ${o.path} | body ${JSON.stringify(o.bodyHead)}`;

beforeAll(async () => {
  process.on('uncaughtException', onProcessError);
  process.on('unhandledRejection', onProcessError);
  aws = await useLocalAws();
  // The mutated pushes carry timestamps up to a day old: the fuzz is of what lies behind the
  // signature and freshness checks (test/security covers the window itself), so this hub runs
  // with the widest window the local runtime allows.
  hub = await startHub({
    port: 0,
    standinPort: 0,
    env: { ...baseSettings(aws), HUB_WEBHOOK_MAX_SKEW_SECONDS: String(LOCAL_MAX_SKEW_SECONDS) },
    clients: { ddb: aws.db, sqs: aws.sqs },
    queuePrefix: `fz${Date.now()}`,
    pollers: false,
    schedules: false,
    functions: ['wechat', 'tmall', 'jd', 'youzan'],
  });
  trackWrites(ddb(), 'fuzzWriteTracker');
  trackWrites(sqs(), 'fuzzSendTracker');
});

afterAll(async () => {
  for (const r of removers) r();
  await hub?.stop();
  process.off('uncaughtException', onProcessError);
  process.off('unhandledRejection', onProcessError);
});

describe(`fuzz: ${PER_WEBHOOK} mutated payloads per webhook`, () => {
  const outcomes: Outcome[] = [];
  let now = Date.now();

  it('never answers 5xx, writes nothing for a 4xx, and keeps serving', async () => {
    const cfg = hub.runtime.cfg;
    now = Date.now();
    const t0 = Date.now();
    const lanes = new Map(TOGETHER.map((w) => [w, casesOf(w, cfg, now)]));
    // Through the real gateway, one at a time.
    for (const w of TOGETHER) {
      const lane = lanes.get(w)!;
      for (let k = 0; k < HTTP_PER_WEBHOOK; k++) outcomes.push(await viaHttp(lane.next().value as FuzzCase));
    }
    const tHttp = Date.now();
    // Directly, one lane per webhook.
    const laneMs: Record<string, number> = {};
    await Promise.all(
      TOGETHER.map(async (w) => {
        const l0 = Date.now();
        for (const c of lanes.get(w)!) outcomes.push(await viaDirect(c));
        laneMs[w] = Date.now() - l0;
      }),
    );
    // The plain lane: through the gateway, then directly, with the account in plain mode.
    const p0 = Date.now();
    await inPlainMode(async (plainCfg) => {
      const lane = casesOf(PLAIN, plainCfg, now);
      for (let k = 0; k < HTTP_PER_WEBHOOK; k++) outcomes.push(await viaHttp(lane.next().value as FuzzCase));
      for (const c of lane) outcomes.push(await viaDirect(c));
    });
    laneMs[PLAIN] = Date.now() - p0;
    console.log(`fuzz timing: http ${tHttp - t0} ms, direct lanes ${JSON.stringify(laneMs)}`);

    const byWebhook: Record<string, Record<string, number>> = {};
    for (const o of outcomes) {
      const k = `${Math.floor(o.status / 100)}xx`;
      byWebhook[o.webhook] ??= {};
      byWebhook[o.webhook]![k] = (byWebhook[o.webhook]![k] ?? 0) + 1;
      byWebhook[o.webhook]![o.status] = (byWebhook[o.webhook]![o.status] ?? 0) + 1;
    }
    console.log('fuzz answers per webhook:', JSON.stringify(byWebhook));

    const fiveXX = outcomes.filter((o) => o.status >= 500);
    expect(fiveXX.map(describeCase).slice(0, 10), `${fiveXX.length} requests answered 5xx`).toEqual([]);
    const wroteOnReject = outcomes.filter((o) => o.status >= 400 && o.status < 500 && o.writes > 0);
    expect(wroteOnReject.map(describeCase).slice(0, 10), `${wroteOnReject.length} rejected requests wrote`).toEqual([]);
    expect(outcomes).toHaveLength(PER_WEBHOOK * WEBHOOKS.length);
    // Every valid-signature half reached parsing: some were accepted, so the fuzz is not just noise.
    for (const w of WEBHOOKS) expect(byWebhook[w]!['2xx'] ?? 0, `${w}: nothing was accepted`).toBeGreaterThan(0);
    expect(processErrors).toEqual([]);

    // Still serving: a valid follow through the gateway.
    const spec = { from: `oFuzzAfter${Date.now()}`, createTime: Math.floor(Date.now() / 1000), msgType: 'event' as const, event: 'subscribe', eventKey: '' };
    const req = signedPush(spec, { appId: cfg.WECHAT_APP_ID, token: cfg.WECHAT_TOKEN, aesKey: cfg.WECHAT_AES_KEY }, 'safe');
    const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('success');
  });

  it('the rejected requests, replayed on an empty table, leave it empty', async () => {
    const rejected = outcomes.filter((o) => o.status >= 400 && o.status < 500 && o.status !== 409);
    expect(rejected.length).toBeGreaterThan(PER_WEBHOOK);
    const emptyTable = `${aws.table}-empty`;
    await createTable(ddb(), emptyTable);
    const previous = hub.runtime;
    hub.reconfigure({ settings: { HUB_TABLE: emptyTable } });
    try {
      expect(await countItems(emptyTable)).toBe(0);
      const replays: Outcome[] = [];
      const cfg = hub.runtime.cfg;
      const replayLane = async (w: Webhook, laneCfg: HubConfig) => {
        const wanted = new Set(rejected.filter((o) => o.webhook === w).map((o) => o.index));
        for (const c of casesOf(w, laneCfg, now)) if (wanted.has(c.index)) replays.push(await viaDirect(c));
      };
      await Promise.all(TOGETHER.map((w) => replayLane(w, cfg)));
      await inPlainMode((plainCfg) => replayLane(PLAIN, plainCfg));
      expect(replays).toHaveLength(rejected.length);
      const changed = replays.filter((r) => r.status < 400 || r.status >= 500);
      if (changed.length) {
        const first = new Map(rejected.map((o) => [`${o.webhook}#${o.index}`, o]));
        for (const r of changed.slice(0, 15)) {
          const o = first.get(`${r.webhook}#${r.index}`)!;
          console.log(`replay changed: ${r.webhook}#${r.index} ${o.status} ${o.answer} → ${r.status} ${r.answer} | ${r.op}`);
        }
      }
      expect(changed.map(describeCase).slice(0, 10), `${changed.length} replays were not rejected again`).toEqual([]);
      expect(replays.filter((r) => r.writes > 0).map(describeCase).slice(0, 10)).toEqual([]);
      expect(await countItems(emptyTable)).toBe(0);
    } finally {
      hub.restore(previous);
    }
  });
});
