/**
 * The partition model at AWS scale (`npm run bench -- scale`).
 *
 * 1. Capture, on DynamoDB Local: members go through a follow through a channel QR, a
 *    registration, a paid order (Youzan, two lines), a refund and a code scan, each applied with
 *    the real write path (`apply`). An SDK middleware on the client records every request: its
 *    operation and every item it touches — key, read or write, size by DynamoDB's rule (the larger
 *    of the before and after images for writes, read with a second, unrecorded client), inside a
 *    transaction or not — and the GSI copy of every written item that carries index keys. The
 *    last member's requests are the per-event mix (every member's are the same shape).
 * 2. Model (bench/lib/scale-model.ts): the mix × a traffic shape → WCU/s and RCU/s per item and
 *    per partition key value, against 1,000 WCU/s and 3,000 RCU/s, the transaction-conflict rate
 *    on shared items, and the on-demand bill.
 *
 * Two captures of the same events in the same run: the design before the fold (`creditWrites:
 * 'inline'`: the counters in each event's transaction, the channel item read on every follow)
 * and the write path as built (each event's credit delta, then the fold of that delta, whose
 * requests are marked `fold` and shared by BUILT.foldBatch deltas). Both are modelled under every
 * shape, with a shard sweep of the former.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTable } from '../local/emulators.ts';
import { docClient, eventsFor as costEvents } from './dynamo-cost.ts';
import { apply, type ApplyDeps } from '../lib/apply/apply.ts';
import { foldAll } from '../lib/attribution/fold.ts';
import { channels } from '../lib/store/entities/channel.ts';
import { DELTA_SHARDS } from '../lib/store/entities/credit-delta.ts';
import { OUTBOX_SHARDS } from '../lib/store/entities/outbox.ts';
import { DUE_SHARDS } from '../lib/store/entities/due.ts';
import { LOTEXP_SHARDS } from '../lib/store/entities/lot.ts';
import type { CreditWrites } from '../lib/port.ts';
import { batchKey, batchSerialIndex } from '../lib/store/entities/batch.ts';
import { channelKey, channelListIndex } from '../lib/store/entities/channel.ts';
import type { HubEvent } from '../lib/events/hub-event.ts';
import { fmt, machine, round, useEmulators, type BenchResult } from './lib/common.ts';
import {
  classify,
  itemSize,
  LIMITS,
  runShape,
  type CapturedRequest,
  type EventMix,
  type ModelParams,
  type Prices,
  type ShapeResult,
  type Touch,
  type TrafficShape,
} from './lib/scale-model.ts';

export interface ScaleOptions {
  dynamoEndpoint: string;
  members?: number;
}

const EVENT_TYPES = ['follow', 'registration', 'paid order', 'refund', 'code scan'] as const;
type EventName = (typeof EVENT_TYPES)[number];

/** The channel of bench/dynamo-cost.ts's follow: the one QR every shape's hot traffic goes through. */
const HOT_CHANNEL = 'bench_qr_a';
const BATCH_ID = 'bench_batch_1';

// ---------------------------------------------------------------------------------------------
// Prices (on-demand, DynamoDB Standard table class). Checked 2026-11-23.

export const PRICES: Prices[] = [
  {
    region: 'us-east-1',
    currency: 'USD',
    perMillionWru: 0.625,
    perMillionRru: 0.125,
    perGbMonth: 0.25,
    source:
      'https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand throughput halved from 2024-11-01: $0.625 per million WRU, $0.125 per million RRU, ' +
      'as quoted by secondary sources dated 2025; the AWS page text itself was not retrievable here). Storage $0.25 per GB-month (first 25 GB free, ignored) ' +
      'is the long-standing list price, not re-confirmed from an AWS page here.',
    asOf: '2024-11-01 price list, checked 2026-11-23',
  },
  {
    region: 'cn-north-1',
    currency: 'CNY',
    perMillionWru: 11.1538,
    perMillionRru: null,
    perGbMonth: null,
    source:
      'https://www.amazonaws.cn/en/dynamodb/pricing/ ("Write requests: ¥ 11.1538 for every million", China (Beijing) and China (Ningxia)); ' +
      'the read-request and storage prices could not be read from the page here, so they are left open (parameters) and the CNY totals are writes only.',
    asOf: 'page as stored, undated; checked 2026-11-23',
  },
];

// ---------------------------------------------------------------------------------------------
// Model parameters and traffic shapes

/** The design before the fold (captured with `creditWrites: 'inline'`, the channel read uncached). */
export const TODAY: ModelParams = {
  counterShards: 4, // HUB_COUNTER_SHARDS default (lib/config)
  countersInTransaction: true,
  foldBatch: 25,
  txDurationSeconds: 0.02,
  // OUTBOX_SHARDS was 4 then; lib/members/lifecycle.ts REVIEW_SHARDS = 8; the due-work index one partition a day.
  spread: { 'gsi1:OUTBOX': 4, 'gsi1:REVIEW': 8, 'gsi1:DUE': 1 },
};

/**
 * The write path as built: credit deltas folded by lib/attribution/fold.ts. A fold transaction
 * of one hot channel's follows holds 94 deltas (6 counter and rollup items beside them); 90 is
 * used. OUTBOX_SHARDS = 32, DELTA_SHARDS = 32, DUE_SHARDS = 8, LOTEXP_SHARDS = 8 (lib/store/entities/).
 */
export const BUILT: ModelParams = {
  ...TODAY,
  foldBatch: 90,
  spread: { 'gsi1:OUTBOX': OUTBOX_SHARDS, 'gsi1:REVIEW': 8, 'gsi1:DUE': DUE_SHARDS, 'gsi1:LOTEXP': LOTEXP_SHARDS, 'table:DELTA': DELTA_SHARDS },
};

/** Assumed events per member per day at steady state (shape c). */
export const DAILY_PER_MEMBER: Record<EventName, number> = {
  follow: 0.002, // 20,000 new follows a day on 10 M
  registration: 0.001,
  'paid order': 0.01, // 3.65 orders per member a year
  refund: 0.0005, // 5 % of orders
  'code scan': 0.02, // 7.3 scans per member a year
};
const MEMBERS_C = 10_000_000;

function shapes(storageGbC: number): TrafficShape[] {
  const ordersPerSecond = 50_000 / 60;
  return [
    {
      name: 'a: viral QR',
      description: '5,000 follows/s through ONE channel QR for 10 minutes',
      rates: { follow: 5_000 },
      windowSeconds: 600,
    },
    {
      name: 'b: 双11',
      description: '50,000 paid orders/min across 200 SKUs, 5 % refunded, for 1 hour; the hottest channel is credited with 20 % of the orders',
      rates: { 'paid order': ordersPerSecond, refund: ordersPerSecond * 0.05 },
      windowSeconds: 3_600,
      hotShare: { 'table:COUNT': 0.2, 'table:ROLLUP': 0.2, 'table:CHANNEL': 0.2 },
    },
    {
      name: 'c: 10 M members',
      description:
        `10 M members at steady state, per member per day: ${Object.entries(DAILY_PER_MEMBER).map(([e, n]) => `${e} ${n}`).join(', ')}; ` +
        'peak hour 3× the average; hottest channel 10 % of follows and orders, hottest code batch 20 % of scans; 30 days',
      rates: Object.fromEntries(EVENT_TYPES.map((e) => [e, (MEMBERS_C * DAILY_PER_MEMBER[e]) / 86_400])),
      windowSeconds: 30 * 86_400,
      peakFactor: 3,
      hotShare: { 'table:COUNT': 0.1, 'table:ROLLUP': 0.1, 'table:CHANNEL': 0.1, 'table:BATCH': 0.2 },
      storageGb: storageGbC,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Capture

type Item = Record<string, unknown>;
type KeyOnly = { pk: string; sk: string };
const keyOf = (k: Item): KeyOnly => ({ pk: String(k.pk), sk: String(k.sk) });

interface WriteRef {
  key: KeyOnly;
  op: string;
  tx: boolean;
}

/** The items a write request touches (condition checks included). */
function writesOf(op: string, input: Item, table: string): WriteRef[] {
  if (op === 'TransactWriteItems') {
    const items = (input.TransactItems ?? []) as Record<string, { Key?: Item; Item?: Item } | undefined>[];
    return items.flatMap((ti) =>
      Object.entries(ti)
        .filter(([, v]) => v)
        .map(([kind, v]) => ({ key: keyOf((v!.Key ?? v!.Item)!), op: kind === 'Put' ? 'PutItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Delete' ? 'DeleteItem' : kind, tx: true })),
    );
  }
  if (op === 'BatchWriteItem') {
    const reqs = ((input.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>)[table] ?? []);
    return reqs.map((r) => ({ key: keyOf((r.PutRequest?.Item ?? r.DeleteRequest?.Key)!), op: r.PutRequest ? 'PutItem' : 'DeleteItem', tx: false }));
  }
  if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem') return [{ key: keyOf((input.Key ?? input.Item) as Item), op, tx: false }];
  return [];
}

async function imagesOf(images: DynamoDBDocumentClient, table: string, ks: KeyOnly[]): Promise<Map<string, Item | undefined>> {
  const out = new Map<string, Item | undefined>();
  for (const k of ks) {
    const id = `${k.pk}\u0000${k.sk}`;
    if (out.has(id)) continue;
    const res = await images.send(new GetCommand({ TableName: table, Key: k, ConsistentRead: true }));
    out.set(id, res.Item as Item | undefined);
  }
  return out;
}

/** The GSI side of a base-table write: a put, an update, or a delete + put when the index key moved. */
function gsiTouches(before: Item | undefined, after: Item | undefined, op: string): Touch[] {
  if (op === 'ConditionCheck') return [];
  const b = before?.gsi1pk !== undefined ? { pk: String(before.gsi1pk), sk: String(before.gsi1sk), bytes: itemSize(before) } : undefined;
  const a = after?.gsi1pk !== undefined ? { pk: String(after.gsi1pk), sk: String(after.gsi1sk), bytes: itemSize(after) } : undefined;
  const t = (x: { pk: string; sk: string; bytes: number }, what: string): Touch => ({ index: 'gsi1', pk: x.pk, sk: x.sk, rw: 'write', op: what, bytes: x.bytes, tx: false, consistent: true });
  if (a && b && a.pk === b.pk && a.sk === b.sk) return [t({ ...a, bytes: Math.max(a.bytes, b.bytes) }, 'index update')];
  return [...(b ? [t(b, 'index delete')] : []), ...(a ? [t(a, 'index put')] : [])];
}

function readsOf(op: string, input: Item, output: Item, table: string): Touch[] {
  const read = (pk: string, sk: string, bytes: number, consistent: boolean, tx = false, index?: string): Touch => ({ ...(index ? { index } : {}), pk, sk, rw: 'read', op, bytes, tx, consistent });
  if (op === 'GetItem') {
    const k = keyOf(input.Key as Item);
    return [read(k.pk, k.sk, itemSize(output.Item as Item | undefined), input.ConsistentRead === true)];
  }
  if (op === 'BatchGetItem') {
    const req = (input.RequestItems as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>)[table]!;
    const got = ((output.Responses as Record<string, Item[]> | undefined)?.[table] ?? []).map((i) => ({ k: keyOf(i), size: itemSize(i) }));
    return req.Keys.map((key) => {
      const k = keyOf(key);
      return read(k.pk, k.sk, got.find((g) => g.k.pk === k.pk && g.k.sk === k.sk)?.size ?? 0, req.ConsistentRead === true);
    });
  }
  if (op === 'Query') {
    const found = (output.Items as Item[] | undefined) ?? [];
    const index = input.IndexName as string | undefined;
    const values = Object.values((input.ExpressionAttributeValues as Item | undefined) ?? {});
    const pk = found[0] ? String(index ? found[0].gsi1pk : found[0].pk) : String(values[0] ?? '?');
    return [read(pk, '(query)', found.reduce((s, i) => s + itemSize(i), 0), input.ConsistentRead === true, false, index)];
  }
  if (op === 'TransactGetItems') {
    const gets = (input.TransactItems as { Get: { Key: Item } }[]).map((g) => keyOf(g.Get.Key));
    const resp = (output.Responses as { Item?: Item }[] | undefined) ?? [];
    return gets.map((k, i) => read(k.pk, k.sk, itemSize(resp[i]?.Item), true, true));
  }
  return [];
}

type Next = (a: { input: Item }) => Promise<{ output?: Item }>;

/** Records every request sent through `db` into `sink` (see the module comment); `fold` marks the counter fold's requests. */
function capture(db: DynamoDBDocumentClient, images: DynamoDBDocumentClient, table: string, sink: CapturedRequest[], fold = false): () => void {
  const name = `scaleCapture${randomBytes(3).toString('hex')}`;
  const mw = (next: Next, context: { commandName?: string }) => async (args: { input: Item }) => {
    const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
    const writes = writesOf(op, args.input, table);
    const before = await imagesOf(images, table, writes.map((w) => w.key));
    const record = async (output: Item) => {
      const after = await imagesOf(images, table, writes.map((w) => w.key));
      const touches: Touch[] = [];
      for (const w of writes) {
        const id = `${w.key.pk}\u0000${w.key.sk}`;
        const b = before.get(id);
        const a = after.get(id);
        touches.push({ pk: w.key.pk, sk: w.key.sk, rw: 'write', op: w.op, bytes: Math.max(itemSize(b), itemSize(a)), tx: w.tx, consistent: true });
        touches.push(...gsiTouches(b, a, w.op));
      }
      touches.push(...readsOf(op, args.input, output, table));
      sink.push({ op, touches: fold ? touches.map((t) => ({ ...t, fold: true })) : touches });
    };
    try {
      const out = await next(args);
      await record(out.output ?? {});
      return out;
    } catch (err) {
      await record({});
      throw err;
    }
  };
  db.middlewareStack.add(mw as never, { name, step: 'initialize', priority: 'high', override: true });
  return () => void db.middlewareStack.remove(name);
}

/** The follow, registration, paid order and refund of bench/dynamo-cost.ts, and a code scan of the batch. */
function eventsFor(i: number, appId: string, t0: number): Record<EventName, HubEvent> {
  const evs = costEvents(i, appId, t0);
  const at = t0 + i * 60_000 + 5 * 3_600_000;
  const openid = evs.follow.type === 'wechat.follow' ? evs.follow.openid : `oScale${i}`;
  return {
    follow: evs.follow,
    registration: evs.registration,
    'paid order': evs['paid order'],
    refund: evs.refund,
    'code scan': { type: 'code.scan', source: 'codes', eventId: `scale:c:${openid}`, occurredAt: at, appId, openid, code: `SC${i}${randomBytes(4).toString('hex')}`, batchId: BATCH_ID, serial: 1_000 + i * 100 },
  };
}

interface Captured {
  mixes: EventMix[];
  /** Bytes per member of member-scoped items (+ GSI copies), and per event of event-scoped ones, with the 100-byte per-item storage overhead. */
  storage: { memberBytes: number; eventBytes: Record<string, number> };
  results: Record<string, unknown>;
}

/**
 * The per-event mixes of one design: `inline`, the design before the fold (the counters in the
 * event's transaction, the channel item read on every follow); `deltas`, as built (each event's
 * credit delta, then the fold of that delta, captured as the fold's requests).
 */
async function captureMixes(opts: ScaleOptions, creditWrites: CreditWrites): Promise<Captured> {
  const members = opts.members ?? 3;
  const table = `bench-scale-${randomBytes(4).toString('hex')}`;
  const { cfg } = useEmulators({ dynamoEndpoint: opts.dynamoEndpoint, table, extra: { ENGAGEMENT_QUEUE_URL: 'http://bench.invalid/engagement', STAFF_QUEUE_URL: 'http://bench.invalid/staff' } }).runtime;
  const db = docClient(opts.dynamoEndpoint);
  const images = docClient(opts.dynamoEndpoint);
  try {
    await createTable(db, table);
    // Marketing created the channel and the code batch beforehand (the steady state).
    await db.send(new PutCommand({ TableName: table, Item: { ...channelKey(HOT_CHANNEL), ...channelListIndex(HOT_CHANNEL), channelId: HOT_CHANNEL, name: HOT_CHANNEL, kind: 'wechat_qr', createdAt: Date.now() } }));
    await db.send(
      new PutCommand({
        TableName: table,
        Item: { ...batchKey(BATCH_ID), ...batchSerialIndex(1_000), batchId: BATCH_ID, sku: 'SKU-0001-RED-M', name: '示例精华液 30ml', points: 10, channel: HOT_CHANNEL, active: true, firstSerial: 1_000, count: 100_000, createdAt: Date.now() },
      }),
    );
    const t0 = Date.UTC(2026, 2, 2, 2, 0);
    let mixes: EventMix[] = [];
    const results: Record<string, unknown> = {};
    const eventBytes: Record<string, number> = {};
    let memberBytes = 0;
    for (let i = 0; i < members; i++) {
      const evs = eventsFor(i, cfg.WECHAT_APP_ID, t0);
      const round: EventMix[] = [];
      for (const name of EVENT_TYPES) {
        const sink: CapturedRequest[] = [];
        const now = evs[name].occurredAt + 1_000;
        const deps: ApplyDeps = { db, table, cfg, now: () => now, drainer: async () => {}, creditWrites };
        // Before the fold, every follow read its channel item; the cache came with it.
        if (creditWrites === 'inline') channels.forgetCached();
        const stop = capture(db, images, table, sink);
        try {
          const res = await apply(evs[name], deps);
          if (res.status !== 'applied') throw new Error(`${name} was not applied: ${res.status}`);
          results[name] = res.result ?? { memberId: res.memberId };
        } finally {
          stop();
        }
        if (creditWrites === 'deltas') {
          const stopFold = capture(db, images, table, sink, true);
          try {
            await foldAll({ store: { db, table }, cfg, now: () => now });
          } finally {
            stopFold();
          }
        }
        round.push({ event: name, requests: sink });
      }
      mixes = round;
    }
    // Storage footprint of the last member: every item of the table by scope (after all five events).
    const scan = await images.send(new ScanCommand({ TableName: table }));
    const lastMember = String((results.follow as { memberId?: string } | undefined)?.memberId ?? '');
    for (const item of (scan.Items ?? []) as Item[]) {
      const c = classify({ pk: String(item.pk) });
      const bytes = (itemSize(item) + 100) * (item.gsi1pk !== undefined ? 2 : 1);
      if (c.scope === 'member' && lastMember && String(item.pk).includes(lastMember)) memberBytes += bytes;
    }
    for (const mix of mixes) {
      const created = new Set<string>();
      let bytes = 0;
      for (const r of mix.requests) {
        for (const t of r.touches) {
          if (t.index || t.rw !== 'write' || classify(t).scope !== 'event' || created.has(`${t.pk}\u0000${t.sk}`)) continue;
          created.add(`${t.pk}\u0000${t.sk}`);
          bytes += t.bytes + 100;
        }
      }
      eventBytes[mix.event] = bytes;
    }
    return { mixes, storage: { memberBytes, eventBytes }, results };
  } finally {
    db.destroy();
    images.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface MixRow {
  event: string;
  requests: string[];
  items: { key: string; rw: string; op: string; bytes: number; tx: boolean; consistent: boolean; scope: string; what: string }[];
}

function describeMix(m: EventMix): MixRow {
  return {
    event: m.event,
    requests: m.requests.map((r) => r.op),
    items: m.requests.flatMap((r) =>
      r.touches.map((t) => {
        const c = classify(t);
        return { key: `${t.index ? `${t.index} ` : ''}${t.pk} | ${t.sk}`, rw: t.rw, op: t.op, bytes: t.bytes, tx: t.tx, consistent: t.consistent, scope: c.scope, what: c.what };
      }),
    ),
  };
}

const itemName = (x: { index?: string; pk: string; sk?: string }) => `${x.index ? `${x.index} ` : ''}${x.pk}${x.sk !== undefined ? ` | ${x.sk}` : ''}`;

function brief(r: ShapeResult) {
  const h = r.hottestItem;
  const p = r.hottestPartition;
  return {
    hottestItem: { key: itemName(h), what: h.what, instances: h.instances, utilisation: round(h.utilisation, 3), wcuPerSecond: round(h.wcuPerSecond, 1), rcuPerSecond: round(h.rcuPerSecond, 1), txPerSecond: round(h.txPerSecond, 1), conflictProbability: round(h.conflictProbability, 4) },
    hottestPartition: { key: itemName(p), items: p.items, utilisation: round(p.utilisation, 3), wcuPerSecond: round(p.wcuPerSecond, 1), rcuPerSecond: round(p.rcuPerSecond, 1) },
    limitCrossed: r.limitCrossed,
    overLimitFactor: round(r.overLimitFactor, 2),
    cancelledPerSecond: Object.fromEntries(Object.entries(r.cancelledPerSecond).map(([k, v]) => [k, round(v, 1)])),
    cancelledTotalPerSecond: round(r.cancelledTotalPerSecond, 1),
    wruPerSecond: round(r.wruPerSecond, 1),
    rruPerSecond: round(r.rruPerSecond, 1),
    cost: r.cost.map((c) => ({ ...c, writes: c.writes === null ? null : round(c.writes, 2), reads: c.reads === null ? null : round(c.reads, 2), storage: c.storage === null ? null : round(c.storage, 2), total: c.total === null ? null : round(c.total, 2) })),
    overLimitItems: r.items.filter((i) => i.utilisation > 1).map((i) => ({ key: itemName(i), level: i.level, what: i.what, wcuPerSecond: round(i.wcuPerSecond, 1), rcuPerSecond: round(i.rcuPerSecond, 1) })),
    top: r.items.slice(0, 8).map((i) => ({ key: itemName(i), level: i.level, instances: i.instances, scope: i.scope, what: i.what, wcuPerSecond: round(i.wcuPerSecond, 1), rcuPerSecond: round(i.rcuPerSecond, 1), txPerSecond: round(i.txPerSecond, 1), cancelledPerSecond: round(i.cancelledPerSecond, 1) })),
  };
}

function money(r: ShapeResult): string {
  return r.cost
    .map((c) => {
      const sym = c.currency === 'USD' ? '$' : '¥';
      return c.total !== null ? `${c.region} ${sym}${fmt(c.total, 2)}` : `${c.region} writes ${sym}${fmt(c.writes ?? NaN, 2)} (reads/storage price open)`;
    })
    .join('; ');
}

export async function run(opts: ScaleOptions): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const before = await captureMixes(opts, 'inline');
  const cap = await captureMixes(opts, 'deltas');

  // Storage at steady state (shape c): every member's items plus a year of event items.
  const yearlyEventBytes = EVENT_TYPES.reduce((s, e) => s + MEMBERS_C * DAILY_PER_MEMBER[e] * 365 * (cap.storage.eventBytes[e] ?? 0), 0);
  const storageGbC = (MEMBERS_C * cap.storage.memberBytes + yearlyEventBytes) / 1024 ** 3;

  const variants: { name: string; label: string; mixes: EventMix[]; params: ModelParams }[] = [
    { name: 'before the fold (counters in the transaction, as captured)', label: 'before', mixes: before.mixes, params: TODAY },
    { name: 'built (credit deltas + fold, as captured)', label: 'built', mixes: cap.mixes, params: BUILT },
  ];
  const numbers: Record<string, unknown> = {
    assumptions: {
      transactionDurationMs: TODAY.txDurationSeconds * 1000,
      transactionDurationRangeMs: [10, 30],
      limits: LIMITS,
      dailyEventsPerMember: DAILY_PER_MEMBER,
      members: MEMBERS_C,
      storageGbShapeC: round(storageGbC, 1),
      storageBytesPerMember: cap.storage.memberBytes,
      storageBytesPerEvent: cap.storage.eventBytes,
      prices: PRICES,
      params: { before: TODAY, built: BUILT },
    },
    mixesBefore: before.mixes.map(describeMix),
    mixes: cap.mixes.map(describeMix),
    captureResults: cap.results,
  };
  const summary: [string, string][] = [];
  const allShapes = shapes(storageGbC);
  for (const s of allShapes) {
    const out: Record<string, unknown> = { description: s.description, rates: s.rates, windowSeconds: s.windowSeconds, peakFactor: s.peakFactor ?? 1, hotShare: s.hotShare ?? {} };
    for (const v of variants) {
      const r = runShape(v.mixes, s, v.params, PRICES);
      out[v.name] = brief(r);
      const h = r.hottestItem;
      const label = v.label;
      const p = r.hottestPartition;
      const verdict = (u: number) => (u > 1 ? `LIMIT CROSSED ${fmt(u, 2)}×` : `${fmt(u * 100, 1)} % of the limit`);
      summary.push([
        `${s.name} (${label}): hottest item · WCU/s · RCU/s`,
        `${itemName(h)} (${h.what}) · ${fmt(h.wcuPerSecond)} · ${fmt(h.rcuPerSecond)} — ${verdict(h.utilisation)}`,
      ]);
      summary.push([`${s.name} (${label}): hottest partition key · WCU/s · RCU/s`, `${itemName(p)} (${p.items} item rows) · ${fmt(p.wcuPerSecond)} · ${fmt(p.rcuPerSecond)} — ${verdict(p.utilisation)}`]);
      summary.push([`${s.name} (${label}): cancelled tx/s · cost`, `${fmt(r.cancelledTotalPerSecond, 1)} · ${money(r)}`]);
    }
    // Shard sweep of the design before the fold: how many shards would it have taken?
    out.shardSweep = [1, 4, 16, 64].map((n) => {
      const r = runShape(before.mixes, s, { ...TODAY, counterShards: n }, PRICES);
      return { counterShards: n, hottestItem: itemName(r.hottestItem), overLimitFactor: round(r.overLimitFactor, 2), cancelledPerSecond: round(r.cancelledTotalPerSecond, 1) };
    });
    // Transaction duration sensitivity (10 and 30 ms).
    out.durationSensitivity = [0.01, 0.03].map((d) => {
      const r = runShape(cap.mixes, s, { ...BUILT, txDurationSeconds: d }, PRICES);
      return { durationMs: d * 1000, cancelledPerSecond: round(r.cancelledTotalPerSecond, 1) };
    });
    numbers[s.name] = out;
  }
  for (const mix of cap.mixes) {
    const t = mix.requests.flatMap((r) => r.touches);
    const shared = [...new Set(t.filter((x) => classify(x).scope === 'shared').map((x) => itemName(x)))];
    summary.push([`mix: ${mix.event}`, `${mix.requests.map((r) => r.op).join(', ')}; ${t.length} item touches; shared: ${shared.join(', ') || 'none'}`]);
  }
  return {
    name: 'scale',
    title: 'Partition model at AWS scale (captured request mix × traffic shapes)',
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { membersCaptured: opts.members ?? 3, eventTypes: EVENT_TYPES.length, shapes: allShapes.length },
    numbers,
    summary,
    notes: [
      'item-level limits are hard (one item lives in one partition); partition-key figures are before any split for heat',
      `conflict: P = 1 − e^(−λ·d), d = ${TODAY.txDurationSeconds * 1000} ms (sensitivity at 10 and 30 ms in the JSON); cancelled/s counts first attempts, not the retries they cause`,
      'costs are for the window of each shape (10 min, 1 h, 30 days); CNY figures are writes only where the read/storage price is open',
    ],
  };
}
