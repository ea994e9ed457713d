/**
 * Load: 200 concurrent webhook requests for 60 s through the local gateway of `startHub` —
 * signed WeChat follows of new fans (through 20 channel QR codes, or organic) and text messages
 * of fans already followed, sealed for the safe-mode account — with no fault injected.
 *
 * Asserted: no 5xx at all (nothing is injected) and every answer 200; every event applied
 * exactly once (its dedupe marker exists; every follower's member has exactly one follow in its
 * history; the channel counters hold exactly the follows sent).
 * Recorded, never asserted: throughput and latency percentiles, written to bench/results/load.json
 * with the machine and its load average.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { baseSettings, useLocalAws, type LocalAws, ddb, hubConfig, sqs } from '../support/env.ts';
import { configuredAccount, pushXml, signedPush, type PushSpec } from '../support/wechat-client.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';


import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { memberKey } from '../../lib/store/entities/member.ts';
import { parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { wechatEventId } from '../../lib/sources/wechat/normalise.ts';
import { counterTotals } from './lib/wechat-driver.ts';

const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 200);
const DURATION_MS = Number(process.env.LOAD_DURATION_MS ?? 60_000);
const CHANNELS = Array.from({ length: 20 }, (_, i) => `ld_ch_${i}`);
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

let aws: LocalAws;
let hub: RunningHub;

beforeAll(async () => {
  aws = await useLocalAws();
  hub = await startHub({ port: 0, standinPort: 0, env: baseSettings(aws), clients: { ddb: aws.db, sqs: aws.sqs }, queuePrefix: `ld${Date.now()}`, pollers: false, schedules: false, functions: ['wechat'] });
});
afterAll(async () => {
  await hub?.stop();
});

interface Sent {
  spec: PushSpec;
  request: { path: string; body: string };
  eventId: string;
  status: number;
  /** The error code of a non-200 answer (`{error}`), if it had one. */
  error?: string;
  ms: number;
  t0: number;
  t1: number;
  kind: 'follow' | 'message';
  channel: string | null;
}

interface StorageError {
  command: string;
  name: string;
  message: string;
  at: number;
}


/** Records every error a DynamoDB / SQS command hands to its caller (after the SDK's retries). */
function observeErrors(
  client: { middlewareStack: { add(mw: unknown, o: object): void; remove(n: string): boolean } },
  name: string,
  into: StorageError[],
): () => void {
  client.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        into.push({ command: context.commandName ?? '', name: (err as Error).name, message: (err as Error).message, at: Date.now() });
        throw err;
      }
    },
    { name, step: 'initialize', priority: 'high', override: true },
  );
  return () => client.middlewareStack.remove(name);
}

/** Items by pk (consistent reads, 100 keys per request, unprocessed keys retried). */
async function batchGet(wanted: { pk: string; sk: string }[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(wanted.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let left: Record<string, unknown>[] = unique.slice(i, i + 100);
    for (let attempt = 0; left.length && attempt < 10; attempt++) {
      const res = await ddb().send(new BatchGetCommand({ RequestItems: { [aws.table]: { Keys: left, ConsistentRead: true } } }));
      for (const it of res.Responses?.[aws.table] ?? []) out.set(String(it.pk), it);
      left = res.UnprocessedKeys?.[aws.table]?.Keys ?? [];
    }
  }
  return out;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
};

/** The hub's share of WeChat's 5 s reply budget (lib/sources/wechat/descriptor.ts `reply.budgetMs`). */
const REPLY_BUDGET_MS = 3_500;

/** The `error` code of a JSON error answer, else undefined. */
function errorCodeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: unknown }).error;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

describe(`${CONCURRENCY} concurrent webhook requests for ${DURATION_MS / 1000} s`, () => {
  it('answers every request 200 (no 5xx without injection but the reply-budget 503 WeChat resends) and applies every event once', async () => {
    const cfg = hubConfig();
    const account = configuredAccount();
    const run = Date.now().toString(36);
    const loadStart = loadavg();
    const sent: Sent[] = [];
    const followed: string[] = [];
    let seq = 0;

    const one = async () => {
      const n = seq++;
      // Stamped when sent, as WeChat does: well inside the default freshness window.
      const createTime = Math.floor(Date.now() / 1000);
      let spec: PushSpec;
      let kind: Sent['kind'];
      let channel: string | null = null;
      if (followed.length > 20 && n % 10 < 3) {
        const from = followed[n % followed.length]!;
        spec = { from, createTime, msgType: 'text', content: `你好 ${n}`, msgId: String(30_000_000_000_000_000n + BigInt(n)) };
        kind = 'message';
      } else {
        channel = n % 5 === 0 ? null : CHANNELS[n % CHANNELS.length]!;
        spec = { from: `oLoad${run}_${n}`, createTime, msgType: 'event', event: 'subscribe', eventKey: channel ? `qrscene_${channel}` : '' };
        kind = 'follow';
      }
      const req = signedPush(spec, account, undefined, String(n + 1_000));
      const wall0 = Date.now();
      const t0 = performance.now();
      let status: number;
      let error: string | undefined;
      try {
        const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } });
        const text = await res.text();
        status = res.status;
        if (status !== 200) error = errorCodeOf(text);
      } catch {
        status = 0;
      }
      const ms = performance.now() - t0;
      sent.push({ spec, request: req, eventId: wechatEventId(parseWechatXml(pushXml(spec))), status, ...(error ? { error } : {}), ms, t0: wall0, t1: Date.now(), kind, channel });
      if (kind === 'follow' && status === 200) followed.push(spec.from);
    };

    const storageErrors: StorageError[] = [];
    const unobserve = [observeErrors(ddb(), 'loadErrorObserver', storageErrors), observeErrors(sqs(), 'loadSqsErrorObserver', storageErrors)];
    const started = Date.now();
    const deadline = started + DURATION_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < deadline) await one();
      }),
    );
    const elapsedMs = Date.now() - started;
    const loadEnd = loadavg();
    for (const u of unobserve) u();
    const fiveXX = sent.filter((s) => s.status >= 500);
    // Cancelled transactions are the write path's normal concurrency control (a failed condition
    // re-plans, a conflict retries); the hub handles them itself.
    const otherErrors = storageErrors.filter((e) => e.name !== 'TransactionCanceledException');
    const byName: Record<string, number> = {};
    for (const e of storageErrors) byName[`${e.command}:${e.name}`] = (byName[`${e.command}:${e.name}`] ?? 0) + 1;

    const statusCounts: Record<string, number> = {};
    for (const s of sent) statusCounts[s.status] = (statusCounts[s.status] ?? 0) + 1;
    const ok = sent.filter((s) => s.status === 200);
    const latencies = sent.map((s) => s.ms);
    const record = {
      name: 'load',
      title: `${CONCURRENCY} concurrent signed WeChat webhook requests for ${DURATION_MS / 1000} s through the local gateway (recorded, not asserted)`,
      machine: {
        cpus: cpus().map((c) => c.model),
        cpuCount: cpus().length,
        node: process.version,
        date: new Date(started).toISOString(),
        loadAvgAtStart: loadStart.map((x) => Math.round(x * 100) / 100),
      },
      loadAvgAtEnd: loadEnd.map((x) => Math.round(x * 100) / 100),
      iterations: { requests: sent.length, follows: sent.filter((s) => s.kind === 'follow').length, messages: sent.filter((s) => s.kind === 'message').length, concurrency: CONCURRENCY, elapsedMs },
      numbers: {
        statusCounts,
        requestsPerSecond: Math.round((ok.length / (elapsedMs / 1000)) * 10) / 10,
        p50Ms: Math.round(percentile(latencies, 50)),
        p90Ms: Math.round(percentile(latencies, 90)),
        p99Ms: Math.round(percentile(latencies, 99)),
        maxMs: Math.round(Math.max(...latencies)),
        over5sShare: Math.round((latencies.filter((x) => x > 5_000).length / Math.max(1, latencies.length)) * 1000) / 1000,
        fiveXX: fiveXX.length,
        storageErrorsReachingTheHub: byName,
      },
      notes: [
        'load generator, gateway, handler and local SQS in one Node process, DynamoDB Local in a JVM, all on the same machine as other work',
        'WeChat gives up after 5 s and resends; over5sShare is the share of answers slower than that',
      ],
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'load.json'), JSON.stringify(record, null, 2) + '\n');
    console.log('load:', JSON.stringify(record.numbers), JSON.stringify(record.iterations), 'load average', loadStart.map((x) => x.toFixed(1)).join('/'));

    // No fault was injected: no storage error reached a caller, nothing but 200 — except the
    // answer WeChat's 5 s budget asks for when the machine cannot keep up: a 503 `reply_budget`
    // once the hub's share of it (3.5 s, lib/sources/wechat/descriptor.ts) has passed, instead of
    // a late 200 WeChat no longer waits for. Its resend below must then apply the event once.
    expect(otherErrors.slice(0, 5)).toEqual([]);
    const notBudget = fiveXX.filter((s) => s.error !== 'reply_budget' || s.ms < REPLY_BUDGET_MS);
    expect(notBudget.map((s) => `${s.status} ${s.error} ${Math.round(s.ms)} ms ${s.spec.from}`).slice(0, 5)).toEqual([]);
    expect(sent.filter((s) => s.status !== 200 && s.status < 500)).toHaveLength(0);
    expect(sent.length).toBeGreaterThan(CONCURRENCY);

    // WeChat sends a message again after a 5xx: the same signed request, up to 3 more times.
    for (const s of fiveXX) {
      for (let attempt = 0; attempt < 3 && s.status !== 200; attempt++) {
        const res = await fetch(hub.url + s.request.path, { method: 'POST', body: s.request.body, headers: { 'content-type': 'text/xml' } });
        await res.arrayBuffer();
        s.status = res.status;
      }
    }
    expect(sent.filter((s) => s.status !== 200).map((s) => s.eventId)).toEqual([]);

    // Applied: every event's dedupe marker exists.
    const ids = [...new Set(sent.map((s) => s.eventId))];
    expect(ids).toHaveLength(sent.length);
    const markers = await batchGet(ids.map((id) => dedupeKey(id)));
    const missing = ids.filter((id) => !markers.has(dedupeKey(id).pk));
    expect(missing.slice(0, 5), `${missing.length} events without a dedupe marker`).toEqual([]);

    // Once: one follow in each follower's history, and the counters count each follow once.
    const follows = sent.filter((s) => s.kind === 'follow');
    const identities = await batchGet(follows.map((s) => identityKey('wechat_openid', `${cfg.WECHAT_APP_ID}:${s.spec.from}`)));
    const members = await batchGet([...identities.values()].map((it) => memberKey(String(it.memberId))));
    const wrong: string[] = [];
    for (const s of follows) {
      const ident = identities.get(identityKey('wechat_openid', `${cfg.WECHAT_APP_ID}:${s.spec.from}`).pk);
      const m = ident ? members.get(memberKey(String(ident.memberId)).pk) : undefined;
      const f = (m?.h as { f?: unknown[] } | undefined)?.f;
      if (!m || !Array.isArray(f) || f.length !== 1) wrong.push(`${s.spec.from}: ${JSON.stringify(f)}`);
    }
    expect(wrong.slice(0, 5), `${wrong.length} followers without exactly one follow`).toEqual([]);
    const shards = cfg.HUB_COUNTER_SHARDS;
    for (const ch of [...CHANNELS, 'organic']) {
      const expected = follows.filter((s) => (s.channel ?? 'organic') === ch).length;
      const totals = await counterTotals(aws.table, ch, shards);
      const newFans = Object.entries(totals)
        .filter(([k]) => k.startsWith('first#') && k.endsWith(':newFans'))
        .reduce((n, [, v]) => n + v, 0);
      expect(newFans, ch).toBe(expected);
    }
  }, 280_000);
});
