/**
 * Planners against an in-memory Port (test/support/fake-port.ts): what each writes into the
 * event's transaction (item tags, in order) and which messages it emits. Expected values are
 * written out by hand from the rules and the write order the planners keep.
 */
import { describe, expect, it } from 'vitest';
import { PLANNERS } from '../../lib/apply/planners/index.ts';
import { CODE_SCAN_PLANNERS, planCodeScan } from '../../lib/apply/planners/code-scan.ts';
import { COMMERCE_PLANNERS, planOrder, planPlatformJoin, planRefund } from '../../lib/apply/planners/orders.ts';
import { planWechat, WECHAT_PLANNERS } from '../../lib/apply/planners/wechat.ts';
import { planWecom, WECOM_PLANNERS } from '../../lib/apply/planners/wecom.ts';
import { applyWith } from '../../lib/apply/apply-with.ts';
import type { ApplyDeps } from '../../lib/port.ts';
import { planRegister } from '../../lib/apply/planners/register.ts';
import { PhoneBoundElsewhereError } from '../../lib/errors.ts';
import type { HubEventOf } from '../../lib/events/hub-event.ts';
import { createStoredMember } from '../../lib/members/record.ts';
import type { Batch } from '../../lib/store/entities/batch.ts';
import { fakePort } from '../support/fake-port.ts';

// 2026-03-01 10:00 in Asia/Shanghai (the local configuration's HUB_TIMEZONE).
const NOW = Date.UTC(2026, 2, 1, 2, 0, 0);
const APP = 'wx0000000000000001';
const OPENID = 'oOpenid0001';
const PHONE_HASH = 'a'.repeat(64);
/** Tags of items, counters (`counter:…`, which Tx puts last) left out. */
/** The transaction's item tags less the credit bookkeeping (counter adds, the credit delta). */
const itemTags = (tags: string[]) => tags.filter((t) => !t.startsWith('counter:') && t !== 'credit-delta');

describe('PLANNERS', () => {
  it('has one planner for every event type', () => {
    expect(Object.keys(PLANNERS).sort()).toEqual(
      [
        'code.scan',
        'member.consent',
        'member.register',
        'order',
        'platform.member_join',
        'refund',
        'wechat.follow',
        'wechat.interaction',
        'wechat.mass_receipt',
        'wechat.scan',
        'wechat.subscription',
        'wechat.template_receipt',
        'wechat.unfollow',
        'wechat.unionid',
        'wechat.unknown',
        'wecom.contact',
        'wecom.unionid',
        'wecom.unknown',
      ].sort(),
    );
    expect(PLANNERS['code.scan']).toBe(planCodeScan);
    expect(PLANNERS['member.register']).toBe(planRegister);
  });

  it('splits into the maps of the webhook functions, each with its family only', () => {
    expect(Object.entries(WECHAT_PLANNERS).map(([t, p]) => [t, p === planWechat])).toEqual(
      ['follow', 'scan', 'unfollow', 'interaction', 'template_receipt', 'mass_receipt', 'subscription', 'unknown', 'unionid'].map((t) => [`wechat.${t}`, true]),
    );
    expect(WECOM_PLANNERS).toEqual({ 'wecom.contact': planWecom, 'wecom.unknown': planWecom, 'wecom.unionid': planWecom });
    expect(COMMERCE_PLANNERS).toEqual({ order: planOrder, refund: planRefund, 'platform.member_join': planPlatformJoin });
    expect(CODE_SCAN_PLANNERS).toEqual({ 'code.scan': planCodeScan });
  });

  it('applyWith refuses an event type its planners do not cover, before touching anything', async () => {
    // Any use of the dependencies (clock, table, queue) would throw on this empty object.
    const deps = new Proxy({} as ApplyDeps, {
      get: (_t, key) => {
        throw new Error(`dependency ${String(key)} used`);
      },
    });
    const follow: HubEventOf<'wechat.follow'> = { type: 'wechat.follow', source: 'wechat', eventId: 'wechat:follow:1', occurredAt: NOW, appId: APP, openid: OPENID, scene: null };
    await expect(applyWith(COMMERCE_PLANNERS as never, follow, deps)).rejects.toThrow('no planner for event type wechat.follow in this function');
  });
});

describe('code.scan planner', () => {
  const batch: Batch = {
    batchId: 'B1',
    sku: 'SKU-1',
    name: 'Green tea 500 ml',
    points: 10,
    channel: 'pack-2026',
    active: true,
    firstSerial: 100,
    count: 50,
    createdAt: NOW - 86_400_000,
  } as Batch;
  const scan: HubEventOf<'code.scan'> = {
    type: 'code.scan',
    source: 'codes',
    eventId: 'codes:scan:C1',
    occurredAt: NOW,
    appId: APP,
    openid: OPENID,
    code: 'A00000000100XXXXXXXX',
    batchId: 'B1',
    serial: 100,
  };

  it('redeems for a new fan: identity, code, scan limit, ledger, member; one points notice', async () => {
    const p = fakePort({ now: NOW, reads: { batch: async () => batch } });
    const out = await planCodeScan(scan, p);
    expect(out.result).toEqual({ result: 'redeemed', points: 10, balance: 10, product: { sku: 'SKU-1', name: 'Green tea 500 ml' } });
    const tags = itemTags(p.tags());
    expect(tags).toHaveLength(5);
    expect(tags.slice(0, 3)).toEqual(['identity', 'code', 'scanlimit']);
    expect(tags[3]).toMatch(/^ledger:/);
    expect(tags[4]).toBe('member');
    // The credits leave as one delta item: no shared counter item is in the event's transaction.
    expect(p.tags().filter((t) => t === 'credit-delta')).toHaveLength(1);
    expect(p.tags().filter((t) => t.startsWith('counter:COUNT#'))).toEqual([]);
    // The new lot is an insert-if-absent update, so it is among the counters (last).
    expect(p.tags().filter((t) => t.startsWith('counter:') && t.includes(':LOT#'))).toHaveLength(1);
    expect(p.emitted).toEqual([
      {
        memberId: out.memberId,
        ruleId: 'points_scan',
        step: scan.code,
        class: 'transactional',
        destination: 'member',
        appId: APP,
        openid: OPENID,
        triggeredAt: NOW,
        payload: { templateId: 'TPL_POINTS_CHANGE', points: 10, balance: 10 },
      },
    ]);
  });

  it('answers already_redeemed without a write when another person holds the code', async () => {
    const p = fakePort({
      now: NOW,
      reads: { batch: async () => batch, redemption: async () => ({ openid: `${APP}:someone-else`, at: NOW - 5_000 }) as never },
    });
    const out = await planCodeScan(scan, p);
    expect(out.result).toEqual({ result: 'already_redeemed', redeemedAt: NOW - 5_000, product: { sku: 'SKU-1', name: 'Green tea 500 ml' } });
    expect(p.tags()).toEqual([]);
    expect(p.emitted).toEqual([]);
  });

  it('refuses over the daily limit: only the refusal row is written', async () => {
    const p = fakePort({
      now: NOW,
      reads: { batch: async () => batch, scanLimit: async () => ({ count: 20, recent: [], version: 20 }) as never },
    });
    const out = await planCodeScan(scan, p);
    expect(out.result).toEqual({ result: 'limited', reason: 'daily_limit', product: { sku: 'SKU-1', name: 'Green tea 500 ml' } });
    expect(p.tags()).toEqual(['refusal']);
    expect(p.emitted).toEqual([]);
  });

  it('answers inactive for a switched-off batch', async () => {
    const p = fakePort({ now: NOW, reads: { batch: async () => ({ ...batch, active: false }) } });
    expect((await planCodeScan(scan, p)).result).toEqual({ result: 'inactive', product: { sku: 'SKU-1', name: 'Green tea 500 ml' } });
    expect(p.tags()).toEqual([]);
  });
});

describe('member.register planner', () => {
  const register: HubEventOf<'member.register'> = {
    type: 'member.register',
    source: 'members',
    eventId: 'members:register:1',
    occurredAt: NOW,
    appId: APP,
    openid: OPENID,
    phoneHash: PHONE_HASH,
    phoneMasked: '138****0000',
    proof: { kind: 'wechat_phone_code' },
    birthday: '1990-05-20',
  };

  it('a first registration binds both identities, schedules the birthday and welcomes', async () => {
    const p = fakePort({ now: NOW });
    const out = await planRegister(register, p);
    expect(out.result).toEqual({ memberId: out.memberId, alreadyRegistered: false });
    // 20 May 2026 10:00 in Shanghai = 02:00 UTC.
    expect(itemTags(p.tags())).toEqual(['identity', 'identity', 'due:birthday:2026', 'member']);
    const due = p.tx.build().items[2]!.Put!.Item as Record<string, unknown>;
    expect(due.dueAt).toBe(Date.UTC(2026, 4, 20, 2, 0, 0));
    expect(p.emitted).toEqual([
      {
        memberId: out.memberId,
        ruleId: 'welcome_register',
        step: 'once',
        class: 'transactional',
        destination: 'member',
        appId: APP,
        openid: OPENID,
        triggeredAt: NOW,
        payload: { templateId: 'TPL_MEMBER_WELCOME', text: '注册成功，欢迎成为会员！', points: 0 },
      },
    ]);
  });

  it('a repeated registration rewrites the member only and plans nothing', async () => {
    const m = createStoredMember('M1', NOW - 1_000_000, 'member');
    m.wechat = { appId: APP, openid: OPENID, followed: true };
    m.phoneHash = PHONE_HASH;
    m.history.registeredAt = NOW - 500_000;
    const p = fakePort({
      now: NOW,
      reads: {
        identities: async () => new Map([[`wechat_openid#${APP}:${OPENID}`, 'M1'], [`phone#${PHONE_HASH}`, 'M1']]),
        member: async () => m as never,
      },
    });
    const out = await planRegister({ ...register, occurredAt: NOW }, p);
    expect(out).toEqual({ memberId: 'M1', result: { memberId: 'M1', alreadyRegistered: true } });
    expect(itemTags(p.tags())).toEqual(['member']);
    expect(p.emitted).toEqual([]);
  });

  it('a phone held by another WeChat person is refused before any write', async () => {
    const other = createStoredMember('M2', NOW - 1_000_000, 'member');
    other.wechat = { appId: APP, openid: 'oSomeoneElse', followed: true };
    const p = fakePort({
      now: NOW,
      reads: { identities: async () => new Map([[`phone#${PHONE_HASH}`, 'M2']]), member: async () => other as never },
    });
    await expect(planRegister(register, p)).rejects.toBeInstanceOf(PhoneBoundElsewhereError);
    expect(p.tags()).toEqual([]);
  });
});
