/**
 * Bounded member items (lib/store/entities/member-history.ts): a member with two years of
 * history — a follow, a registration, an unfollow and a follow back, 150 QR scans, 100 paid
 * orders — applied with the real write path on DynamoDB Local, once in time order and once
 * shuffled with 30 % duplicates, each on its own table.
 *
 * Asserted: the profile item stays under PROFILE_BOUND bytes and every history item under
 * BUCKET_BOUND (sizes by DynamoDB's rule, bench/lib/scale-model.ts itemSize); the stored facts
 * are exactly the events' facts; tier, lifecycle and RFM equal the independent models
 * (test/support/models.ts) of the full history, and the counters after the fold equal the
 * model's credits; both arrival orders end in the same profile, history items and counters.
 * Also: a profile stored before history buckets existed (its history inline and its `credits`
 * map) moves to buckets on its next write and credits only the new event.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { useLocalAws, ddb } from '../support/env.ts';
import { foldCounters, joinHistory, queryAll, scanAll } from '../support/table.ts';
import { modelCredits, modelLifecycle, modelRfm, modelTier } from '../support/models.ts';
import { paidYouzanOrder } from '../support/orders.ts';
import { shuffle, seededRandom } from '../support/random.ts';
import { createTable } from '../../local/emulators.ts';
import { apply, type ApplyDeps } from '../../lib/apply/apply.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { historyFromStored, memberKey, type StoredHistory } from '../../lib/store/entities/member.ts';
import { HISTORY_INLINE_FACTS } from '../../lib/store/entities/member-history.ts';
import type { Credits } from '../../lib/attribution/credits.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';
import { itemSize } from '../../bench/lib/scale-model.ts';

const aws = await useLocalAws();
const cfg = aws.runtime.cfg;
const APP = cfg.WECHAT_APP_ID;
const TZ = cfg.HUB_TIMEZONE;
const DAY = 86_400_000;
/** 2024-12-02 10:00 Shanghai: two years before CLOCK. */
const T0 = Date.UTC(2024, 11, 2, 2, 0, 0);
const CLOCK = T0 + 730 * DAY;
/** The stated bounds: the profile of a two-year member, and one month of its history. */
const PROFILE_BOUND = 2_048;
const BUCKET_BOUND = 2_048;
const CHANNELS = ['long_qr_a', 'long_qr_b', 'long_qr_c'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- table items are checked field by field
type Loose = any;

function eventsOf(openid: string): HubEvent[] {
  const base = { source: 'wechat' as const, appId: APP, openid };
  const buyer = [
    { kind: 'youzan_open_id' as const, value: `yz_${openid}` },
    { kind: 'wechat_openid' as const, value: `${APP}:${openid}` },
  ];
  const out: HubEvent[] = [
    { ...base, type: 'wechat.follow', eventId: `long:${openid}:f0`, occurredAt: T0, scene: 'long_qr_a' },
    {
      type: 'member.register',
      proof: { kind: 'wechat_phone_code' },
      source: 'members',
      eventId: `long:${openid}:r`,
      occurredAt: T0 + 3 * DAY,
      appId: APP,
      openid,
      phoneHash: createHash('sha256').update(openid).digest('hex'),
      phoneMasked: '138****0000',
    },
    { ...base, type: 'wechat.unfollow', eventId: `long:${openid}:u`, occurredAt: T0 + 300 * DAY },
    { ...base, type: 'wechat.follow', eventId: `long:${openid}:f1`, occurredAt: T0 + 310 * DAY, scene: 'long_qr_b' },
  ];
  for (let i = 0; i < 150; i++) {
    out.push({ ...base, type: 'wechat.scan', eventId: `long:${openid}:s${i}`, occurredAt: T0 + 4 * DAY + Math.floor(i * 4.8 * DAY), scene: CHANNELS[i % 3]! });
  }
  for (let i = 0; i < 100; i++) {
    const orderId = `L${openid}${String(i).padStart(4, '0')}`;
    const paidAt = T0 + 5 * DAY + i * 7 * DAY + 3_600_000;
    const fen = 5_000 + ((i * 7_919) % 40_000);
    out.push(paidYouzanOrder({ eventId: `long:${orderId}`, shopId: '12345678', orderId, at: paidAt, fen, buyer }));
  }
  return out;
}

/** The member partition of `openid` (profile with its joined history, and every item), and the counters summed over shards. */
async function stateOf(table: string, openid: string) {
  const owner = await queryAll(table, identityKey('wechat_openid', `${APP}:${openid}`).pk);
  const memberId = String(owner[0]!.memberId);
  const partition = await queryAll(table, memberKey(memberId).pk);
  const profile = joinHistory(partition).find((i) => i.sk === '#PROFILE') as Loose;
  const counters: Record<string, number> = {};
  for (const c of (await scanAll(table)).filter((i) => String(i.pk).startsWith('COUNT#'))) {
    for (const [k, v] of Object.entries(c)) if (typeof v === 'number') counters[`${String(c.channel)}|${String(c.sk)}|${k}`] = (counters[`${String(c.channel)}|${String(c.sk)}|${k}`] ?? 0) + v;
  }
  // A credit given and taken back (a touch arriving later moves it) leaves a 0.
  for (const [k, v] of Object.entries(counters)) if (v === 0) delete counters[k];
  return { memberId, partition, profile, counters };
}

function expectedCounters(credits: Credits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, metrics] of Object.entries(credits)) {
    const [channel, model, day] = JSON.parse(key) as [string, string, string];
    for (const [metric, n] of Object.entries(metrics)) if (n !== 0) out[`${channel}|${model}#${day}|${metric}`] = (out[`${channel}|${model}#${day}|${metric}`] ?? 0) + n;
  }
  return out;
}

/** An item with the member's own id (generated per table) replaced, and its write bookkeeping left out. */
function normalised(item: Loose, memberId: string): Loose {
  const { version: _v, createdAt: _c, updatedAt: _u, ...rest } = item;
  return JSON.parse(JSON.stringify(rest).replaceAll(memberId, '<member>'));
}

async function applyAll(events: HubEvent[], table: string): Promise<void> {
  await createTable(ddb(), table);
  // The outbox rows stay in the table: no queue in this test.
  const deps: ApplyDeps = { db: ddb(), table, cfg, now: () => CLOCK, drainer: async () => {} };
  for (const e of events) await apply(e, deps);
  await foldCounters(table);
}

describe('a member with two years of history', () => {
  it('stays under the stated size bounds; derived facts and counters equal the models; any arrival order ends the same', async () => {
    const openid = 'oLongHistory';
    const events = eventsOf(openid);
    const inOrder = `${aws.table}-long-a`;
    const shuffled = `${aws.table}-long-b`;
    const rnd = seededRandom(18);
    const mixed = [...events, ...events.filter(() => rnd() < 0.3)];
    shuffle(mixed, 42);
    await applyAll(events, inOrder);
    await applyAll(mixed, shuffled);

    const a = await stateOf(inOrder, openid);
    const b = await stateOf(shuffled, openid);

    // Bounds: the profile, and every month of history, by DynamoDB's size rule.
    const profileItem = a.partition.find((i) => i.sk === '#PROFILE')!;
    const buckets = a.partition.filter((i) => String(i.sk).startsWith('HIST#'));
    expect(itemSize(profileItem)).toBeLessThanOrEqual(PROFILE_BOUND);
    expect(buckets.length).toBeGreaterThanOrEqual(24);
    for (const bucket of buckets) expect(itemSize(bucket), String(bucket.sk)).toBeLessThanOrEqual(BUCKET_BOUND);
    expect(profileItem).not.toHaveProperty('credits');
    expect(profileItem.hb).toEqual(buckets.map((x) => String(x.sk).slice('HIST#'.length)));

    // The stored facts are the events' facts.
    const h = a.profile.h as StoredHistory;
    const times = (type: string) => events.filter((e) => e.type === type).map((e) => e.occurredAt);
    expect(h.f.map((f) => f[0])).toEqual(times('wechat.follow'));
    expect(h.q.map((q) => q[0])).toEqual(times('wechat.scan'));
    expect(h.u).toEqual(times('wechat.unfollow'));
    expect(h.r).toBe(T0 + 3 * DAY);
    expect(h.o.map((o) => [o[1], o[2]])).toEqual(events.flatMap((e) => (e.type === 'order' ? [[e.paidAt, e.paidFen]] : [])));
    expect(h.f.length + h.u.length + h.q.length + h.c.length + h.o.length).toBeGreaterThan(HISTORY_INLINE_FACTS);

    // Derived facts against the independent models of the full history.
    const history = historyFromStored(h);
    const rules = cfg.memberRules;
    expect(a.profile.tier).toBe(modelTier(history, CLOCK, rules));
    expect(a.profile.lifecycle).toBe(modelLifecycle(history, CLOCK, rules));
    expect(a.profile.rfm).toEqual(modelRfm(history, CLOCK, rules));
    expect(a.profile.orderCount).toBe(100);
    expect(a.profile.gmvFen).toBe(events.reduce((s, e) => s + (e.type === 'order' ? e.paidFen : 0), 0));
    expect(a.counters).toEqual(expectedCounters(modelCredits(history, TZ)));
    // A non-trivial case: a tier above normal, and counters on every channel.
    expect(a.profile.tier).not.toBe('normal');
    for (const ch of CHANNELS) expect(Object.keys(a.counters).some((k) => k.startsWith(`${ch}|`))).toBe(true);

    // Shuffled with duplicates: the same profile and history items, and the same counters. (The
    // review-index shard follows the generated member id: only its day is compared.)
    const byKey = (s: { partition: Loose[]; memberId: string }) =>
      new Map(
        s.partition
          .filter((i) => i.sk === '#PROFILE' || String(i.sk).startsWith('HIST#'))
          .map((i) => [String(i.sk), normalised({ ...i, ...(i.gsi1pk ? { gsi1pk: String(i.gsi1pk).replace(/#\d+$/, '') } : {}) }, s.memberId)]),
      );
    expect(byKey(b).size).toBe(buckets.length + 1);
    expect(byKey(b)).toEqual(byKey(a));
    expect(b.counters).toEqual(a.counters);
  }, 300_000);

  it('a profile stored with its history inline and a credits map moves to history items on its next write and credits only the new event', async () => {
    const table = `${aws.table}-long-legacy`;
    const openid = 'oLongLegacy';
    const events = eventsOf(openid);
    // The same member as the previous code stored it: one item, the history in `h`, the credits in `credits`.
    const ref = `${aws.table}-long-ref`;
    await applyAll(events.slice(0, -1), ref);
    const before = await stateOf(ref, openid);
    await createTable(ddb(), table);
    const legacyHistory = historyFromStored(before.profile.h);
    const { hb: _hb, hd: _hd, ...profile } = before.profile;
    await ddb().send(new PutCommand({ TableName: table, Item: { ...profile, credits: modelCredits(legacyHistory, TZ) } }));
    for (const i of before.partition.filter((x) => !String(x.sk).startsWith('HIST#') && x.sk !== '#PROFILE')) await ddb().send(new PutCommand({ TableName: table, Item: i }));
    for (const i of await queryAll(ref, identityKey('wechat_openid', `${APP}:${openid}`).pk)) await ddb().send(new PutCommand({ TableName: table, Item: i }));
    for (const i of await queryAll(ref, identityKey('youzan_open_id', `yz_${openid}`).pk)) await ddb().send(new PutCommand({ TableName: table, Item: i }));
    expect(itemSize({ ...profile, credits: modelCredits(legacyHistory, TZ) })).toBeGreaterThan(10 * PROFILE_BOUND);

    const last = events.at(-1)!;
    await apply(last, { db: ddb(), table, cfg, now: () => CLOCK, drainer: async () => {} });
    await foldCounters(table);
    const after = await stateOf(table, openid);
    expect(after.partition.find((i) => i.sk === '#PROFILE')).not.toHaveProperty('credits');
    expect(itemSize(after.partition.find((i) => i.sk === '#PROFILE')!)).toBeLessThanOrEqual(PROFILE_BOUND);
    const full = historyFromStored(after.profile.h);
    expect(full.orders).toHaveLength(100);
    // Counters: exactly what the last order adds to what the legacy record had already given.
    const added: Record<string, number> = {};
    const was = expectedCounters(modelCredits(legacyHistory, TZ));
    for (const [k, n] of Object.entries(expectedCounters(modelCredits(full, TZ)))) if (n !== (was[k] ?? 0)) added[k] = n - (was[k] ?? 0);
    expect(Object.keys(added).length).toBeGreaterThan(0);
    expect(after.counters).toEqual(added);
  }, 300_000);
});
