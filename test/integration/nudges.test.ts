/**
 * Scheduled engagement on DynamoDB Local + local SQS: the repurchase ladder after a first order
 * (cancelled by a repeat purchase), birthdays, points-expiry reminders and lapse alerts, all
 * found through the due-day index by the nudge sweep.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalAws, type LocalAws, hubConfig } from '../support/env.ts';
import { drainQueue } from '../support/queues.ts';
import { paidYouzanOrder } from '../support/orders.ts';
import { apply, type ApplyDeps } from '../../lib/apply/apply.ts';


import { sweepDue } from '../../lib/engagement/due.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../support/env.ts';
import { scanAll } from '../support/table.ts';
import { DUE_SHARDS } from '../../lib/store/entities/due.ts';
import { LOTEXP_SHARDS } from '../../lib/store/entities/lot.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';
import { DAY_MS } from '../../lib/time.ts';
import { coupons } from '../../lib/store/entities/coupon.ts';

let aws: LocalAws;
let clock = Date.UTC(2026, 0, 10, 2, 0); // 10:00 Asia/Shanghai
const deps = (): ApplyDeps => aws.runtime.with({ now: () => clock });
/** A member's coupons, read through the member index (lib/store/entities/coupon.ts). */
const couponsOf = (memberId: string) => coupons.listForMember({ db: aws.db, table: aws.table }, memberId, 50);

beforeAll(async () => {
  aws = await useLocalAws();
});

const order = (buyer: string, orderId: string, at: number, fen: number): HubEvent =>
  paidYouzanOrder({
    eventId: `test:order:${orderId}`,
    shopId: 'shop1',
    orderId,
    at,
    fen,
    buyer: [
      { kind: 'youzan_open_id', value: `yz_${buyer}` },
      { kind: 'wechat_openid', value: `${hubConfig().WECHAT_APP_ID}:${buyer}` },
    ],
  });

describe('nudge sweep', () => {
  it('plans the day-30 steps of the ladder once, and a repeat purchase cancels the rest', async () => {
    const t0 = clock;
    await apply(order('oNudge1', 'N1', t0, 12_800), deps());
    await drainQueue(aws.queues.engagement.url); // the points notice
    clock = t0 + 31 * DAY_MS;
    const first = await sweepDue(deps());
    expect(first.planned).toBe(2);
    const again = await sweepDue(deps());
    expect(again.planned).toBe(0);
    const msgs = await drainQueue(aws.queues.engagement.url);
    expect(msgs.map((m) => (m.payload as { kind: string; percentOff: number }).percentOff).sort()).toEqual([0, 10]);
    expect(msgs.every((m) => m.ruleId === 'repurchase' && m.class === 'marketing' && m.openid === 'oNudge1')).toBe(true);
    // The 10 % step issued a real coupon, named in its message; the recommendation step none.
    const memberId = String(msgs[0]!.memberId);
    const issued = await couponsOf(memberId);
    expect(issued).toEqual([
      expect.objectContaining({ memberId, percentOff: 10, thresholdFen: 0, source: 'repurchase', ref: 'youzan:shop1:N1#1', status: 'issued', issuedAt: t0 + 31 * DAY_MS, validUntil: t0 + 31 * DAY_MS + 14 * DAY_MS }),
    ]);
    const couponMsg = msgs.find((m) => (m.payload as { percentOff: number }).percentOff === 10)!;
    expect(couponMsg.payload).toMatchObject({ couponCodes: [issued[0]!.code], couponValidUntil: t0 + 45 * DAY_MS });
    expect((msgs.find((m) => (m.payload as { percentOff: number }).percentOff === 0)!.payload as Record<string, unknown>).couponCodes).toBeUndefined();
    clock = t0 + 40 * DAY_MS;
    await apply(order('oNudge1', 'N2', clock, 5_000), deps());
    await drainQueue(aws.queues.engagement.url);
    clock = t0 + 61 * DAY_MS;
    const later = await sweepDue(deps(), { lookbackDays: 30 });
    expect(later.planned).toBe(0);
    expect(later.cancelled).toBeGreaterThanOrEqual(2); // day 45 and day 60 coupons
    expect(await drainQueue(aws.queues.engagement.url)).toEqual([]);
    // The cancelled steps issued nothing: still the one coupon of day 30.
    expect(await couponsOf(memberId)).toHaveLength(1);
  });

  it('files due rows under the shards of their day, and sweeps every shard and the unsharded partition of rows filed before the sharding', async () => {
    clock = Date.UTC(2026, 3, 1, 2, 0);
    const openids = Array.from({ length: 10 }, (_, i) => `oShardBday${i}`);
    for (const [i, openid] of openids.entries()) {
      await apply(
        {
          type: 'member.register',
          proof: { kind: 'wechat_phone_code' },
          source: 'members',
          eventId: `test:reg:shard:${i}`,
          occurredAt: clock,
          appId: hubConfig().WECHAT_APP_ID,
          openid,
          phoneHash: String(i).repeat(64).slice(0, 64),
          phoneMasked: '138****0000',
          birthday: '1991-04-09',
        },
        deps(),
      );
    }
    await drainQueue(aws.queues.engagement.url);
    const rows = (await scanAll(aws.table)).filter((i) => String(i.sk) === 'DUE#birthday#2026' && String(i.gsi1pk ?? '').startsWith('DUE#2026-04-09'));
    expect(rows).toHaveLength(10);
    const shards = new Set(rows.map((r) => String(r.gsi1pk)));
    expect([...shards].every((pk) => new RegExp(`^DUE#2026-04-09#[0-${DUE_SHARDS - 1}]$`).test(pk))).toBe(true);
    expect(shards.size).toBeGreaterThan(1);
    // Two rows as the unsharded index filed them.
    for (const r of rows.slice(0, 2)) {
      await ddb().send(new UpdateCommand({ TableName: aws.table, Key: { pk: r.pk, sk: r.sk }, UpdateExpression: 'SET gsi1pk = :p', ExpressionAttributeValues: { ':p': 'DUE#2026-04-09' } }));
    }
    clock = Date.UTC(2026, 3, 9, 3, 0);
    expect((await sweepDue(deps())).planned).toBe(10);
    expect((await sweepDue(deps())).planned).toBe(0);
    const msgs = await drainQueue(aws.queues.engagement.url);
    expect(msgs.map((m) => m.openid).sort()).toEqual([...openids].sort());
  });

  it('plans a birthday greeting on the day, once', async () => {
    clock = Date.UTC(2026, 2, 1, 2, 0);
    await apply(
      {
        type: 'member.register',
        proof: { kind: 'wechat_phone_code' },
        source: 'members',
        eventId: 'test:reg:bday',
        occurredAt: clock,
        appId: hubConfig().WECHAT_APP_ID,
        openid: 'oBirthday',
        phoneHash: 'a'.repeat(64),
        phoneMasked: '138****0000',
        birthday: '1990-03-05',
      },
      deps(),
    );
    await drainQueue(aws.queues.engagement.url);
    clock = Date.UTC(2026, 2, 4, 2, 0);
    expect((await sweepDue(deps())).planned).toBe(0);
    clock = Date.UTC(2026, 2, 5, 3, 0); // 11:00 local on the day
    expect((await sweepDue(deps())).planned).toBe(1);
    expect((await sweepDue(deps())).planned).toBe(0);
    const msgs = await drainQueue(aws.queues.engagement.url);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ ruleId: 'birthday', step: '2026', openid: 'oBirthday' });
  });

  it('reminds of points expiring in 14 days, once per expiry day', async () => {
    // Earned 2025-01-20 → the lot expires at the end of 2026-01 (local).
    clock = Date.UTC(2025, 0, 20, 2, 0);
    await apply(order('oExpiry', 'E1', clock, 30_000), deps());
    await drainQueue(aws.queues.engagement.url);
    clock = Date.UTC(2026, 0, 17, 2, 0); // 14 days before 2026-01-31
    const out = await sweepDue(deps());
    expect(out.expiryReminders).toBe(1);
    expect((await sweepDue(deps())).expiryReminders).toBe(0);
    const msgs = (await drainQueue(aws.queues.engagement.url)).filter((m) => m.ruleId === 'points_expiry');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ openid: 'oExpiry', step: '2026-01-31' });
  });

  it('files lots under the expiry shards of their day, and reminds from every shard and the unsharded partition of lots written before the sharding', async () => {
    // Earned 2025-02-20 → the lots expire at the end of 2026-02 (local), reminded 14 days before.
    clock = Date.UTC(2025, 1, 20, 2, 0);
    const buyers = Array.from({ length: 10 }, (_, i) => `oLotShard${i}`);
    for (const [i, b] of buyers.entries()) await apply(order(b, `LS${i}`, clock, 20_000), deps());
    await drainQueue(aws.queues.engagement.url);
    const lotsOfDay = (await scanAll(aws.table)).filter((i) => String(i.sk).startsWith('LOT#') && String(i.gsi1pk ?? '').startsWith('LOTEXP#2026-02-28'));
    expect(lotsOfDay).toHaveLength(10);
    const shards = new Set(lotsOfDay.map((r) => String(r.gsi1pk)));
    expect([...shards].every((pk) => new RegExp(`^LOTEXP#2026-02-28#[0-${LOTEXP_SHARDS - 1}]$`).test(pk))).toBe(true);
    expect(shards.size).toBeGreaterThan(1);
    // Two lots as the unsharded index filed them.
    for (const r of lotsOfDay.slice(0, 2)) {
      await ddb().send(new UpdateCommand({ TableName: aws.table, Key: { pk: r.pk, sk: r.sk }, UpdateExpression: 'SET gsi1pk = :p', ExpressionAttributeValues: { ':p': 'LOTEXP#2026-02-28' } }));
    }
    clock = Date.UTC(2026, 1, 14, 2, 0); // 14 days before 2026-02-28
    expect((await sweepDue(deps())).expiryReminders).toBe(10);
    expect((await sweepDue(deps())).expiryReminders).toBe(0);
    const msgs = (await drainQueue(aws.queues.engagement.url)).filter((m) => m.ruleId === 'points_expiry');
    expect(msgs.map((m) => m.openid).sort()).toEqual([...buyers].sort());
  });

  it('a lapse of a member below the alert tier is recorded as cancelled, not sent to staff', async () => {
    clock = Date.UTC(2025, 5, 1, 2, 0);
    await apply(order('oLapse', 'L1', clock, 1_000), deps());
    await drainQueue(aws.queues.engagement.url);
    clock += 181 * DAY_MS;
    const out = await sweepDue(deps());
    expect(out.cancelled).toBeGreaterThanOrEqual(1);
    expect(await drainQueue(aws.queues['staff-alerts'].url)).toEqual([]);
  });
});
