/**
 * WeChat-like delivery for the resilience tests: a scenario of pushes for a set of users,
 * duplicated and shuffled, sent through the gateway with WeChat's retry rule (the same signed
 * request again on any answer but 200, up to 4 attempts), and helpers to read back what the
 * pushes produced (members, counters, the engagement queue).
 */
import { ddb } from '../../support/env.ts';
import { foldCounters } from '../../support/table.ts';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

import { counterPartition } from '../../../lib/store/entities/counter.ts';
import { identityKey } from '../../../lib/store/entities/identity.ts';
import { memberKey } from '../../../lib/store/entities/member.ts';
import { signedPush, type PushSpec, type SignedRequest } from '../../support/wechat-client.ts';
import { seededRandom } from '../../support/faults.ts';

export type Rng = () => number;

/** One push of a scenario; delivered in the account's mode (sealed when it has an EncodingAESKey). */
export type ScenarioEvent = PushSpec;

/**
 * `n` distinct pushes for `users` users over 5 days: follows (through `channels` QR codes or
 * organic), QR scans, unfollows and text messages, with openids `u<k>` and channel ids as given
 * (a run prefixes both).
 */
export function scenario(n: number, users: number, channels: readonly string[], seed: number): ScenarioEvent[] {
  const rnd = seededRandom(seed);
  const out: ScenarioEvent[] = [];
  const t0 = 1_763_000_000;
  for (let i = 0; i < n; i++) {
    const from = `u${Math.floor(rnd() * users)}`;
    const createTime = t0 + Math.floor(rnd() * 86_400 * 5);
    const ch = channels[Math.floor(rnd() * channels.length)]!;
    const r = rnd();
    if (r < 0.35) out.push({ from, createTime, msgType: 'event', event: 'subscribe', eventKey: rnd() < 0.3 ? '' : `qrscene_${ch}` });
    else if (r < 0.55) out.push({ from, createTime, msgType: 'event', event: 'SCAN', eventKey: ch });
    else if (r < 0.7) out.push({ from, createTime, msgType: 'event', event: 'unsubscribe' });
    else out.push({ from, createTime, msgType: 'text', content: `你好 ${i}`, msgId: String(10_000_000_000_000_000n + BigInt(i)) });
  }
  return out;
}

/** Copies of `count` events picked at random (redeliveries), appended and all shuffled. */
export function withDuplicates<T>(events: T[], count: number, seed: number): T[] {
  const rnd = seededRandom(seed);
  const all = [...events, ...Array.from({ length: count }, () => events[Math.floor(rnd() * events.length)]!)];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

/** Prefixes openids and channel ids, so two runs of one scenario share no record. */
export function prefixed(events: ScenarioEvent[], prefix: string, channels: readonly string[]): ScenarioEvent[] {
  return events.map((e) => {
    let eventKey = e.eventKey;
    if (eventKey) for (const ch of channels) if (eventKey === ch || eventKey === `qrscene_${ch}`) eventKey = eventKey.replace(ch, `${prefix}${ch}`);
    return { ...e, from: `${prefix}${e.from}`, eventKey };
  });
}

export interface Account {
  appId: string;
  token: string;
  aesKey?: string | undefined;
}

export interface Delivery {
  request: SignedRequest;
  /** Answers, in order. */
  statuses: number[];
  done: boolean;
}

export interface DeliveryReport {
  deliveries: Delivery[];
  /** Status → count over every attempt. */
  statusCounts: Record<string, number>;
  attempts: number;
  failed: Delivery[];
  elapsedMs: number;
}

/**
 * Sends every event (one delivery each; a duplicate event is a second delivery of the SAME
 * signed request, as WeChat's redelivery is) with `concurrency` requests in flight. A delivery
 * answered anything but 200 is sent again in the next round, up to `maxAttempts` times, as
 * WeChat does; rounds keep a failed delivery's attempts apart in time.
 *
 * Deliveries of one request never overlap (`serialiseCopies`, default true): WeChat sends a
 * message again only after the previous attempt timed out (5 s) or failed, so copies of one
 * message normally arrive one after the other.
 */
export async function deliver(
  baseUrl: string,
  events: ScenarioEvent[],
  account: Account,
  opts: { concurrency?: number; maxAttempts?: number; pauseBetweenRoundsMs?: number; serialiseCopies?: boolean } = {},
): Promise<DeliveryReport> {
  const serialise = opts.serialiseCopies ?? true;
  const inFlight = new Map<SignedRequest, Promise<void>>();
  const started = Date.now();
  const concurrency = opts.concurrency ?? 8;
  const maxAttempts = opts.maxAttempts ?? 4;
  const signed = new Map<ScenarioEvent, SignedRequest>();
  const deliveries: Delivery[] = events.map((e) => {
    let request = signed.get(e);
    if (!request) {
      request = signedPush(e, account);
      signed.set(e, request);
    }
    return { request, statuses: [], done: false };
  });
  const statusCounts: Record<string, number> = {};
  let attempts = 0;
  let pending = deliveries;
  for (let round = 1; round <= maxAttempts && pending.length; round++) {
    let next = 0;
    const queue = pending;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        while (next < queue.length) {
          const d = queue[next++]!;
          const previous = serialise ? inFlight.get(d.request) : undefined;
          let finished = () => {};
          if (serialise) inFlight.set(d.request, new Promise<void>((r) => (finished = r)));
          if (previous) await previous;
          let status: number;
          try {
            const res = await fetch(baseUrl + d.request.path, { method: 'POST', body: d.request.body, headers: { 'content-type': 'text/xml' } });
            await res.arrayBuffer();
            status = res.status;
          } catch {
            status = 0; // connection error: WeChat retries too
          } finally {
            finished();
          }
          attempts++;
          d.statuses.push(status);
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          if (status === 200) d.done = true;
        }
      }),
    );
    pending = queue.filter((d) => !d.done);
    if (pending.length && opts.pauseBetweenRoundsMs) await new Promise((r) => setTimeout(r, opts.pauseBetweenRoundsMs));
  }
  return { deliveries, statusCounts, attempts, failed: deliveries.filter((d) => !d.done), elapsedMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Reading back

export async function memberByOpenid(table: string, appId: string, openid: string): Promise<Record<string, unknown> | undefined> {
  const ident = await ddb().send(new GetCommand({ TableName: table, Key: identityKey('wechat_openid', `${appId}:${openid}`), ConsistentRead: true }));
  if (!ident.Item) return undefined;
  return (await ddb().send(new GetCommand({ TableName: table, Key: memberKey(String(ident.Item.memberId)), ConsistentRead: true }))).Item;
}

/**
 * A member without what differs between two runs of the same facts: ids, versions, times of
 * processing, and the run's prefix in openids and channel ids.
 */
export function strip(m: Record<string, unknown> | undefined, prefixes: RegExp): unknown {
  if (!m) return m;
  const { memberId: _a, createdAt: _b, updatedAt: _c, version: _d, pk: _e, sk: _f, gsi1pk: _g, gsi1sk: _h, ...rest } = m;
  return JSON.parse(JSON.stringify(rest).replace(prefixes, ''));
}

/** Counter totals of one channel, all shards, keyed `<sk>:<attribute>`, after a fold of every pending credit delta; zeros dropped (equal to absent). */
export async function counterTotals(table: string, channel: string, shards: number): Promise<Record<string, number>> {
  await foldCounters(table);
  const out: Record<string, number> = {};
  for (let s = 0; s < shards; s++) {
    let start: Record<string, unknown> | undefined;
    do {
      const r = await ddb().send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': counterPartition(channel, s) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const it of r.Items ?? []) {
        for (const [k, v] of Object.entries(it)) if (typeof v === 'number') out[`${String(it.sk)}:${k}`] = (out[`${String(it.sk)}:${k}`] ?? 0) + v;
      }
      start = r.LastEvaluatedKey;
    } while (start);
  }
  for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
  return out;
}

export function subtractTotals(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export interface QueuedMessage {
  sqsMessageId: string;
  body: Record<string, unknown>;
}

/** Receives and deletes everything in the queue. */
export async function drainQueue(client: SQSClient, url: string): Promise<QueuedMessage[]> {
  const out: QueuedMessage[] = [];
  let empty = 0;
  while (empty < 2) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const ms = r.Messages ?? [];
    if (!ms.length) {
      empty++;
      continue;
    }
    empty = 0;
    out.push(...ms.map((m) => ({ sqsMessageId: m.MessageId!, body: JSON.parse(m.Body!) as Record<string, unknown> })));
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ms.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return out;
}
