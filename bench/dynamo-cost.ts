/**
 * DynamoDB cost per event, on DynamoDB Local.
 *
 * Ours: `apply(event)` with `measure: true` for follow (channel QR), scan (QR, existing fan),
 * registration, paid order and refund, one member after the other (each member goes through all
 * five). Per event: items in the transaction (`writeItems`), WCU of the transaction
 * (`consumedWcu`), and every request the call made, counted by an SDK middleware on the client
 * (all command names; every request also asks for ReturnConsumedCapacity so the outbox update
 * after the commit and the reads are priced the same way).
 *
 * Baseline, the common way: a Powertools-style idempotency record (PutItem with the idempotency
 * condition → status INPROGRESS, then UpdateItem → COMPLETED with the result), and the same
 * logical work as separate requests without a transaction: the reads our planner made (a
 * BatchGetItem of identities becomes one GetItem per identity), then every write our transaction
 * carried (member, identities, order, points, counters, outbox, channel...) as its own
 * PutItem / UpdateItem / DeleteItem with the same key, attributes and conditions (our dedupe
 * marker is replaced by the idempotency record; condition checks have no single-item
 * equivalent and are dropped), then the same outbox drain (GetItem + UpdateItem). It runs on a
 * second table that mirrors the first, so item sizes, and therefore capacity units, are the same.
 * Requests and WCU are counted by the same middleware.
 *
 * The outbox drain sends nothing: a no-op drainer stands in for SQS (counted separately).
 *
 * Heavy member: a member with two years of history (a follow, a registration, 200 paid orders
 * and 500 code scans, written through writeMember), then a QR scan, a paid order and a follow of
 * that member through `apply`: WCU by the AWS rule and read units per event as stored now (the
 * profile + the month items of lib/store/entities/member-history.ts), and as the single profile
 * item the previous layout stored (its whole history inline and its credits map), sized by the
 * same rule from the same facts: the other items of the event are the same in both layouts.
 */
import { randomBytes, createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createTable, LOCAL_AWS } from '../local/emulators.ts';
import { apply, type ApplyDeps, type ApplyResult } from '../lib/apply/apply.ts';
import { channelKey, channelListIndex } from '../lib/store/entities/channel.ts';
import type { HubEvent } from '../lib/events/hub-event.ts';
import { itemSize, readUnits } from './lib/scale-model.ts';
import { members as memberItems, historyToStored } from '../lib/store/entities/member.ts';
import { writeMember, type StoredMember } from '../lib/members/record.ts';
import { computeCredits } from '../lib/attribution/credits.ts';
import { Tx } from '../lib/store/tx.ts';
import type { HubConfig } from '../lib/config/schema.ts';
import { countRequests, fmt, machine, READ_COMMANDS, round, useEmulators, WRITE_COMMANDS, type BenchResult, type RequestCounter } from './lib/common.ts';

export interface CostOptions {
  dynamoEndpoint: string;
  /** Members taken through all five events. */
  members?: number;
}

const EVENT_TYPES = ['follow', 'scan', 'registration', 'paid order', 'refund'] as const;
export type EventName = (typeof EVENT_TYPES)[number];

type Op =
  | { kind: 'read'; name: string; input: Record<string, unknown> }
  | { kind: 'tx'; input: TransactWriteCommandInput }
  | { kind: 'write'; name: string; input: Record<string, unknown> };

export function docClient(endpoint: string): DynamoDBDocumentClient {
  const base = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 3 });
  return DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false } });
}

/** A view of the client whose send() also records the command (the client itself is untouched). */
function recording(db: DynamoDBDocumentClient, ops: Op[]): DynamoDBDocumentClient {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => {
        const name = command.constructor.name;
        if (name === 'TransactWriteCommand') ops.push({ kind: 'tx', input: structuredClone(command.input) as TransactWriteCommandInput });
        else if (/^(Get|BatchGet|Query)Command$/.test(name)) ops.push({ kind: 'read', name, input: structuredClone(command.input) });
        else ops.push({ kind: 'write', name, input: structuredClone(command.input) });
        return (target.send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
      };
    },
  });
}

/** One member's five events (follow through channel `bench_qr_a`, QR scan of `bench_qr_b`, ...), an hour apart. */
export function eventsFor(i: number, appId: string, t0: number): Record<EventName, HubEvent> {
  const openid = `oCost${i}_${randomBytes(4).toString('hex')}`;
  const orderId = `E2026${String(i).padStart(6, '0')}${randomBytes(3).toString('hex')}`;
  const at = (h: number) => t0 + i * 60_000 + h * 3_600_000;
  const buyer = [
    { kind: 'youzan_open_id' as const, value: `yz_${openid}` },
    { kind: 'wechat_openid' as const, value: `${appId}:${openid}` },
  ];
  return {
    follow: { type: 'wechat.follow', source: 'wechat', eventId: `bench:f:${openid}`, occurredAt: at(0), appId, openid, scene: 'bench_qr_a', ticket: 'T' },
    scan: { type: 'wechat.scan', source: 'wechat', eventId: `bench:s:${openid}`, occurredAt: at(1), appId, openid, scene: 'bench_qr_b' },
    registration: {
      type: 'member.register',
      proof: { kind: 'wechat_phone_code' },
      source: 'members',
      eventId: `bench:r:${openid}`,
      occurredAt: at(2),
      appId,
      openid,
      phoneHash: createHash('sha256').update(openid).digest('hex'),
      phoneMasked: '138****0000',
      birthday: '1990-05-06',
    },
    'paid order': {
      type: 'order',
      source: 'youzan',
      platform: 'youzan',
      eventId: `bench:o:${orderId}`,
      occurredAt: at(3),
      shopId: '12345678',
      orderId,
      status: 'paid',
      platformStatus: 'WAIT_SELLER_SEND_GOODS',
      totalFen: 51_800,
      paidFen: 47_800,
      paidAt: at(3),
      lines: [
        { lineId: `${orderId}:1`, sku: 'SKU-0001-RED-M', title: '示例精华液 30ml', quantity: 1, paidFen: 27_692 },
        { lineId: `${orderId}:2`, sku: 'SKU-0002', title: '示例面霜 50g', quantity: 1, paidFen: 20_108 },
      ],
      topic: 'trade_TradePaid',
      buyer,
    },
    refund: {
      type: 'refund',
      source: 'youzan',
      platform: 'youzan',
      eventId: `bench:rf:${orderId}`,
      occurredAt: at(4),
      shopId: '12345678',
      orderId,
      refundId: `RF${orderId}`,
      status: 'succeeded',
      refundFen: 20_108,
      topic: 'trade_refund_RefundSuccess',
      buyer: [buyer[0]!],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// WCU by the AWS pricing rule, from the item images (DynamoDB Local's own ConsumedCapacity is
// reported too, but it does not always apply the transactional factor).

type Key = { pk: string; sk: string };
const keyOf = (k: Record<string, unknown>): Key => ({ pk: String(k.pk), sk: String(k.sk) });
const keyId = (k: Key) => `${k.pk}\u0000${k.sk}`;

interface WriteRef {
  key: Key;
  transactional: boolean;
}

/** The items an operation list writes (our dedupe marker included; condition checks priced as writes). */
function writesOf(ops: Op[]): WriteRef[] {
  const out: WriteRef[] = [];
  for (const op of ops) {
    if (op.kind === 'tx') {
      for (const item of op.input.TransactItems ?? []) {
        const k = item.Put?.Item ?? item.Update?.Key ?? item.Delete?.Key ?? item.ConditionCheck?.Key;
        if (k) out.push({ key: keyOf(k), transactional: true });
      }
    } else if (op.kind === 'write') {
      const k = (op.input.Key ?? op.input.Item) as Record<string, unknown> | undefined;
      if (k) out.push({ key: keyOf(k), transactional: false });
    }
  }
  return out;
}

/** AWS rule: per item max(before, after) rounded up to 1 KB; ×2 inside a transaction. */
function awsWcu(writes: WriteRef[], before: Map<string, number>, after: Map<string, number>): number {
  let wcu = 0;
  for (const w of writes) {
    const id = keyId(w.key);
    const kb = Math.max(1, Math.ceil(Math.max(before.get(id) ?? 0, after.get(id) ?? 0) / 1024));
    wcu += kb * (w.transactional ? 2 : 1);
  }
  return wcu;
}

async function sizes(db: DynamoDBDocumentClient, table: string, ks: Key[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const k of ks) {
    if (out.has(keyId(k))) continue;
    const res = await db.send(new GetCommand({ TableName: table, Key: k, ConsistentRead: true }));
    out.set(keyId(k), itemSize(res.Item as Record<string, unknown> | undefined));
  }
  return out;
}

interface Measure {
  writeItems: number;
  wcu: number;
  awsWcu?: number;
  rcu: number;
  readRequests: number;
  writeRequests: number;
  requests: number;
  byCommand: Record<string, number>;
}

function snapshot(c: RequestCounter, extra: { writeItems: number; wcu?: number }): Measure {
  const wcuFromCounter = WRITE_COMMANDS.reduce((s, k) => s + (c.capacity[k] ?? 0), 0);
  return {
    writeItems: extra.writeItems,
    wcu: extra.wcu ?? wcuFromCounter,
    rcu: READ_COMMANDS.reduce((s, k) => s + (c.capacity[k] ?? 0), 0),
    readRequests: c.of(...READ_COMMANDS),
    writeRequests: c.of(...WRITE_COMMANDS),
    requests: c.total(),
    byCommand: { ...c.counts },
  };
}

/** Replays one event's operations the common way (see the module comment). */
async function baseline(
  db: DynamoDBDocumentClient,
  table: string,
  ourTable: string,
  event: HubEvent,
  ops: Op[],
  result: ApplyResult,
  now: number,
): Promise<{ writeItems: number; idemKey: Key }> {
  const retarget = <T extends Record<string, unknown>>(input: T): T => ({ ...input, TableName: table });
  let writeItems = 0;
  const idemKey = { pk: `IDEMP#${createHash('sha256').update(event.eventId).digest('hex')}`, sk: '#' };
  const expiry = Math.floor(now / 1000) + 3600;
  // Powertools idempotency: claim the record.
  await db.send(
    new PutCommand({
      TableName: table,
      Item: { ...idemKey, status: 'INPROGRESS', expiration: expiry, in_progress_expiration: now + 60_000 },
      ConditionExpression: 'attribute_not_exists(pk) OR expiration < :now OR (#s = :inprogress AND attribute_exists(in_progress_expiration) AND in_progress_expiration < :nowms)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':now': Math.floor(now / 1000), ':inprogress': 'INPROGRESS', ':nowms': now },
    }),
  );
  writeItems++;
  for (const op of ops) {
    if (op.kind === 'read') {
      if (op.name === 'BatchGetCommand') {
        const req = (op.input.RequestItems as Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }>)[ourTable]!;
        for (const key of req.Keys) await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      } else if (op.name === 'GetCommand') {
        await db.send(new GetCommand(retarget(op.input) as never));
      } else {
        await db.send(new QueryCommand(retarget(op.input) as never));
      }
    } else if (op.kind === 'tx') {
      for (const item of op.input.TransactItems ?? []) {
        if (item.Put) {
          if (String(item.Put.Item?.pk ?? '').startsWith('DEDUPE#')) continue; // replaced by the idempotency record
          await db.send(new PutCommand({ ...item.Put, TableName: table }));
          writeItems++;
        } else if (item.Update) {
          await db.send(new UpdateCommand({ ...item.Update, TableName: table }));
          writeItems++;
        } else if (item.Delete) {
          await db.send(new DeleteCommand({ ...item.Delete, TableName: table }));
          writeItems++;
        }
      }
    } else if (op.name === 'UpdateCommand') {
      await db.send(new UpdateCommand(retarget(op.input) as never));
      writeItems++;
    } else if (op.name === 'PutCommand') {
      await db.send(new PutCommand(retarget(op.input) as never));
      writeItems++;
    } else if (op.name === 'DeleteCommand') {
      await db.send(new DeleteCommand(retarget(op.input) as never));
      writeItems++;
    } else {
      throw new Error(`baseline cannot replay ${op.name}`);
    }
  }
  // Powertools idempotency: record the result.
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: idemKey,
      UpdateExpression: 'SET #s = :done, #d = :data, expiration = :exp',
      ExpressionAttributeNames: { '#s': 'status', '#d': 'data' },
      ExpressionAttributeValues: { ':done': 'COMPLETED', ':data': JSON.stringify({ status: result.status, memberId: result.memberId }), ':exp': expiry },
    }),
  );
  writeItems++;
  return { writeItems, idemKey };
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

export async function run(opts: CostOptions): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const members = opts.members ?? 12;
  const id = randomBytes(4).toString('hex');
  const ourTable = `bench-cost-${id}`;
  const baseTable = `bench-cost-base-${id}`;
  const { cfg } = useEmulators({ dynamoEndpoint: opts.dynamoEndpoint, table: ourTable, extra: { ENGAGEMENT_QUEUE_URL: 'http://bench.invalid/engagement', STAFF_QUEUE_URL: 'http://bench.invalid/staff' } }).runtime;

  const ours = docClient(opts.dynamoEndpoint);
  const base = docClient(opts.dynamoEndpoint);
  // Uncounted client for the item images.
  const images = docClient(opts.dynamoEndpoint);
  let sqsSends = 0;
  let heavy: HeavyMember | undefined;
  const rows: Record<EventName, { ours: Measure[]; base: Measure[]; applyWcu: number[]; txItems: number[] }> = Object.fromEntries(
    EVENT_TYPES.map((t) => [t, { ours: [], base: [], applyWcu: [], txItems: [] }]),
  ) as never;
  try {
    await createTable(ours, ourTable);
    await createTable(ours, baseTable);
    // Marketing created the channels beforehand (the steady state).
    for (const table of [ourTable, baseTable]) {
      for (const ch of ['bench_qr_a', 'bench_qr_b']) {
        await ours.send(new PutCommand({ TableName: table, Item: { ...channelKey(ch), ...channelListIndex(ch), channelId: ch, name: ch, kind: 'wechat_qr', createdAt: Date.now() } }));
      }
    }

    const ourCounter = countRequests(ours, { askCapacity: true });
    const baseCounter = countRequests(base, { askCapacity: true });
    const t0 = Date.UTC(2026, 2, 2, 2, 0);

    for (let i = 0; i < members; i++) {
      const evs = eventsFor(i, cfg.WECHAT_APP_ID, t0);
      for (const name of EVENT_TYPES) {
        const ops: Op[] = [];
        const now = evs[name].occurredAt + 1_000;
        const deps: ApplyDeps = {
          db: recording(ours, ops),
          table: ourTable,
          cfg,
          now: () => now,
          measure: true,
          drainer: async () => {
            sqsSends++;
          },
        };
        ourCounter.reset();
        const res = await apply(evs[name], deps);
        if (res.status !== 'applied') throw new Error(`${name} was not applied: ${res.status}`);
        const mine = snapshot(ourCounter, { writeItems: res.writeItems + ops.filter((o) => o.kind === 'write').length });
        if (mine.requests !== ops.length) throw new Error(`${name}: ${mine.requests} requests counted but ${ops.length} recorded`);
        rows[name].ours.push(mine);
        rows[name].applyWcu.push(res.consumedWcu);
        rows[name].txItems.push(res.writeItems);

        // Before images: the baseline table still holds the state ours had before this event.
        const written = writesOf(ops);
        const before = await sizes(images, baseTable, written.map((w) => w.key));
        const after = await sizes(images, ourTable, written.map((w) => w.key));
        mine.awsWcu = awsWcu(written, before, after);

        baseCounter.reset();
        const b = await baseline(base, baseTable, ourTable, evs[name], ops, res, now);
        const baseMeasure = snapshot(baseCounter, { writeItems: b.writeItems });
        const baseWrites: WriteRef[] = [
          { key: b.idemKey, transactional: false },
          ...written.filter((w) => !w.key.pk.startsWith('DEDUPE#')).map((w) => ({ key: w.key, transactional: false })),
          { key: b.idemKey, transactional: false },
        ];
        const baseAfter = await sizes(images, baseTable, baseWrites.map((w) => w.key));
        baseMeasure.awsWcu = awsWcu(baseWrites, before, baseAfter);
        rows[name].base.push(baseMeasure);
      }
    }
    ourCounter.remove();
    baseCounter.remove();
    heavy = await heavyMember(ours, images, ourTable, cfg, t0);
  } finally {
    ours.destroy();
    base.destroy();
    images.destroy();
  }

  const numbers: Record<string, unknown> = {};
  const summary: [string, string][] = [];
  let totalOurs = { wcu: 0, awsRuleWcu: 0, req: 0 };
  let totalBase = { wcu: 0, awsRuleWcu: 0, req: 0 };
  for (const name of EVENT_TYPES) {
    const r = rows[name];
    const o = {
      writeItems: round(avg(r.ours.map((x) => x.writeItems)), 2),
      txItems: round(avg(r.txItems), 2),
      wcuTransaction: round(avg(r.applyWcu), 2),
      wcu: round(avg(r.ours.map((x) => x.wcu)), 2),
      awsRuleWcu: round(avg(r.ours.map((x) => x.awsWcu ?? 0)), 2),
      rcu: round(avg(r.ours.map((x) => x.rcu)), 2),
      readRequests: round(avg(r.ours.map((x) => x.readRequests)), 2),
      writeRequests: round(avg(r.ours.map((x) => x.writeRequests)), 2),
      requests: round(avg(r.ours.map((x) => x.requests)), 2),
      byCommand: r.ours[r.ours.length - 1]!.byCommand,
    };
    const b = {
      writeItems: round(avg(r.base.map((x) => x.writeItems)), 2),
      wcu: round(avg(r.base.map((x) => x.wcu)), 2),
      awsRuleWcu: round(avg(r.base.map((x) => x.awsWcu ?? 0)), 2),
      rcu: round(avg(r.base.map((x) => x.rcu)), 2),
      readRequests: round(avg(r.base.map((x) => x.readRequests)), 2),
      writeRequests: round(avg(r.base.map((x) => x.writeRequests)), 2),
      requests: round(avg(r.base.map((x) => x.requests)), 2),
      byCommand: r.base[r.base.length - 1]!.byCommand,
    };
    numbers[name] = { ours: o, baseline: b };
    totalOurs = { wcu: totalOurs.wcu + o.wcu, awsRuleWcu: totalOurs.awsRuleWcu + o.awsRuleWcu, req: totalOurs.req + o.requests };
    totalBase = { wcu: totalBase.wcu + b.wcu, awsRuleWcu: totalBase.awsRuleWcu + b.awsRuleWcu, req: totalBase.req + b.requests };
    summary.push([
      `${name}: items · WCU local (AWS rule) · reads · requests`,
      `ours ${o.writeItems} · ${o.wcu} (${o.awsRuleWcu}) · ${o.readRequests} · ${o.requests} | baseline ${b.writeItems} · ${b.wcu} (${b.awsRuleWcu}) · ${b.readRequests} · ${b.requests}`,
    ]);
  }
  numbers.totals = { ours: totalOurs, baseline: totalBase, sqsSends };
  if (heavy) {
    numbers.heavyMember = heavy;
    summary.push(['2-year member: profile bytes before → after (+ month items)', `${fmt(heavy.profileBytesBefore)} → ${fmt(heavy.profileBytesAfter)} (+ ${heavy.historyItems} items, largest ${fmt(heavy.largestHistoryItemBytes)} B)`]);
    for (const e of heavy.events) summary.push([`2-year member, ${e.event}: WCU (AWS rule) · RCU before → after`, `${e.wcuBefore} → ${e.wcuAfter} · ${e.rcuBefore} → ${e.rcuAfter}`]);
  }
  summary.push(['all five: WCU local ours / baseline', `${fmt(totalOurs.wcu, 1)} / ${fmt(totalBase.wcu, 1)}`]);
  summary.push(['all five: WCU by AWS rule ours / baseline', `${fmt(totalOurs.awsRuleWcu, 1)} / ${fmt(totalBase.awsRuleWcu, 1)}`]);
  summary.push(['all five: requests ours / baseline', `${fmt(totalOurs.req, 1)} / ${fmt(totalBase.req, 1)}`]);
  return {
    name: 'dynamo-cost',
    title: 'DynamoDB cost per event (DynamoDB Local, ReturnConsumedCapacity)',
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { members, eventsPerType: members },
    numbers,
    summary,
    notes: [
      'items = items written (transaction items + the outbox update after the commit); WCU = consumed write capacity of every write request; reads = GetItem/BatchGetItem/Query requests',
      'transactional writes cost 2 WCU per KB per item; the baseline pays 1 per item but needs the idempotency record (2 writes) and gives no atomicity',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// A member with two years of history (see the module comment).

interface HeavyMember {
  orders: number;
  codeScans: number;
  profileBytesBefore: number;
  profileBytesAfter: number;
  historyItems: number;
  historyBytes: number;
  largestHistoryItemBytes: number;
  events: { event: string; wcuBefore: number; wcuAfter: number; rcuBefore: number; rcuAfter: number; memberItemsWritten: number }[];
}

async function partitionOf(db: DynamoDBDocumentClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

async function heavyMember(db: DynamoDBDocumentClient, images: DynamoDBDocumentClient, table: string, cfg: HubConfig, t0: number): Promise<HeavyMember> {
  const DAY = 86_400_000;
  const evs = eventsFor(999, cfg.WECHAT_APP_ID, t0 - 730 * DAY);
  const start = evs.follow.occurredAt;
  const deps = (now: number, ops?: Op[]): ApplyDeps => ({ db: ops ? recording(db, ops) : db, table, cfg, now: () => now, drainer: async () => {} });
  await apply(evs.follow, deps(start + 1_000));
  const reg = await apply(evs.registration, deps(evs.registration.occurredAt + 1_000));
  const memberId = reg.memberId!;
  // Two years of facts, written as one member write (the real write path and stored layout).
  const m = (await memberItems.get<StoredMember>({ db, table }, memberId))!;
  for (let i = 0; i < 200; i++) {
    const paidAt = start + Math.floor((i + 0.5) * 3.65 * DAY);
    m.history.orders.push({ key: `youzan:12345678:H${String(i).padStart(6, '0')}`, paidAt, paidFen: 9_900 + ((i * 7_919) % 30_000), platform: 'youzan' });
  }
  for (let i = 0; i < 500; i++) m.history.codeScans.push({ at: start + Math.floor((i + 0.3) * 1.46 * DAY), channel: `bench_batch_${i % 5}` });
  const seedAt = start + 730 * DAY;
  const tx = new Tx(table);
  writeMember(tx, m, false, { tz: cfg.HUB_TIMEZONE, shards: cfg.HUB_COUNTER_SHARDS, rules: cfg.memberRules, now: seedAt });
  await tx.commit(db);

  const pk = `MEMBER#${memberId}`;
  const later = (e: HubEvent, at: number): HubEvent => ({ ...e, eventId: `${e.eventId}:late`, occurredAt: at, ...(e.type === 'order' ? { paidAt: at, orderId: `${e.orderId}L` } : {}) }) as HubEvent;
  const events: [string, HubEvent][] = [
    ['QR scan', later(evs.scan, seedAt + 3_600_000)],
    ['paid order', later(evs['paid order'], seedAt + 2 * 3_600_000)],
    ['follow', later(evs.follow, seedAt + 3 * 3_600_000)],
  ];
  const out: HeavyMember = { orders: 200, codeScans: 500, profileBytesBefore: 0, profileBytesAfter: 0, historyItems: 0, historyBytes: 0, largestHistoryItemBytes: 0, events: [] };
  for (const [name, e] of events) {
    const beforeItems = await partitionOf(images, table, pk);
    const ops: Op[] = [];
    const res = await apply(e, deps(e.occurredAt + 1_000, ops));
    if (res.status !== 'applied') throw new Error(`heavy member ${name} was not applied: ${res.status}`);
    const afterItems = await partitionOf(images, table, pk);
    const written = writesOf(ops);
    const sizeMap = (items: Record<string, unknown>[]) => new Map(items.map((i) => [keyId(keyOf(i)), itemSize(i)]));
    // Every other written item is new (0 bytes before) or not the member's: the member partition before the event.
    const before = sizeMap(beforeItems);
    const after = await sizes(images, table, written.map((w) => w.key));
    const wcuAfter = awsWcu(written, before, after);
    const memberWrites = written.filter((w) => w.key.pk === pk && (w.key.sk === '#PROFILE' || w.key.sk.startsWith('HIST#')));
    // The previous layout: one profile item with the whole history and the credits map, before and after the event.
    const legacy = async (items: Record<string, unknown>[]) => {
      const p = items.find((i) => i.sk === '#PROFILE')!;
      const full = (await memberItems.get<StoredMember>({ db: images, table }, memberId))!;
      const { hb: _hb, hd: _hd, ...rest } = p;
      return { bytes: itemSize({ ...rest, h: historyToStored(full.history), credits: computeCredits(full.history, cfg.HUB_TIMEZONE) }), full };
    };
    const oldAfter = await legacy(afterItems);
    // Before the event the previous profile held one fact less: its size differs by a few bytes; the larger (after) is what the rule charges.
    const oldProfileKb = Math.ceil(oldAfter.bytes / 1024);
    const wcuBefore = wcuAfter - awsWcu(memberWrites, before, after) + 2 * oldProfileKb;
    const hist = afterItems.filter((i) => String(i.sk).startsWith('HIST#'));
    const profileAfter = itemSize(afterItems.find((i) => i.sk === '#PROFILE'));
    // Reads of the member, strongly consistent: the profile GetItem, plus the Query of the month items now.
    const rcuAfter = readUnits(profileAfter, 'strong') + readUnits(hist.reduce((s, i) => s + itemSize(i), 0), 'strong');
    const rcuBefore = readUnits(oldAfter.bytes, 'strong');
    out.profileBytesBefore = oldAfter.bytes;
    out.profileBytesAfter = profileAfter;
    out.historyItems = hist.length;
    out.historyBytes = hist.reduce((s, i) => s + itemSize(i), 0);
    out.largestHistoryItemBytes = Math.max(...hist.map((i) => itemSize(i)));
    out.events.push({ event: name, wcuBefore, wcuAfter, rcuBefore, rcuAfter, memberItemsWritten: memberWrites.length });
  }
  return out;
}
