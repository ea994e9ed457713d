/**
 * The engagement rule registry (lib/engagement/rules/): pure functions of a trigger, the member
 * and the rule set. Expected messages and due rows are written out by hand from the default rule
 * set (lib/config/rules.ts) and the calendar.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, RulesSchema, type RulesConfig } from '../../lib/config/rules.ts';
import { RULES, runRules } from '../../lib/engagement/rules/registry.ts';
import type { DueRow, RuleEnv, RuleMember } from '../../lib/engagement/rules/types.ts';
import { createStoredMember } from '../../lib/members/record.ts';

const DAY = 86_400_000;
const ENV: RuleEnv = { tz: 'Asia/Shanghai', memberCentreUrl: 'https://brand.example/member' };
// 2026-03-01 10:00 in Shanghai.
const T = Date.UTC(2026, 2, 1, 2, 0, 0);

function member(o: { wechat?: boolean; tier?: string; points?: number; orders?: number[]; birthday?: string } = {}): RuleMember {
  const m = createStoredMember('M1', T - 100 * DAY, 'member');
  if (o.wechat !== false) m.wechat = { appId: 'wxA', openid: 'oA', followed: true };
  m.tier = (o.tier ?? 'normal') as never;
  m.points = o.points ?? 0;
  m.gmvFen = 12_300;
  m.history.orders = (o.orders ?? []).map((paidAt, i) => ({ key: `tmall#S#${i}`, paidAt, paidFen: 100, platform: 'tmall' }));
  if (o.birthday) m.birthday = o.birthday;
  return m;
}

const withRules = (patch: Partial<RulesConfig>): RulesConfig => ({ ...DEFAULT_RULES, ...patch });

describe('the registry', () => {
  it('lists every rule once, with its slice of the rule file as its config schema', () => {
    expect(RULES.map((r) => r.id)).toEqual(['welcome_follow', 'welcome_register', 'points_scan', 'points_order', 'repurchase', 'lapse_alert', 'birthday', 'points_expiry']);
    expect(RULES.map((r) => r.trigger)).toEqual(['first_follow', 'first_registration', 'points_earned', 'points_earned', 'paid_order', 'paid_order', 'first_registration', 'lots_expiring']);
    expect(RULES.map((r) => r.class)).toEqual(['transactional', 'transactional', 'transactional', 'transactional', 'marketing', 'transactional', 'marketing', 'marketing']);
    for (const r of RULES) expect(r.configSchema).toBe(RulesSchema.shape[r.configKey]);
  });
});

describe('first_follow', () => {
  const follow = { kind: 'first_follow' as const, appId: 'wxA', openid: 'oA', at: T };

  it("welcomes with the channel's own text and names the channel", () => {
    const out = runRules({ ...follow, scene: 'poster-7', channelText: 'Hello from the poster' }, member(), DEFAULT_RULES, ENV);
    expect(out).toEqual({
      messages: [
        {
          memberId: 'M1',
          ruleId: 'welcome_follow',
          step: 'once',
          class: 'transactional',
          destination: 'member',
          appId: 'wxA',
          openid: 'oA',
          triggeredAt: T,
          payload: { text: 'Hello from the poster', link: 'https://brand.example/member', channel: 'poster-7' },
        },
      ],
      due: [],
    });
  });

  it("an organic follow gets the rule's text; a disabled rule plans nothing", () => {
    const out = runRules(follow, member(), DEFAULT_RULES, ENV);
    expect(out.messages[0]!.payload).toEqual({ text: '欢迎关注！点击成为会员，扫码积分兑好礼。', link: 'https://brand.example/member', channel: 'organic' });
    expect(runRules(follow, member(), withRules({ welcomeOnFollow: { enabled: false, text: 'x', passiveReply: false } }), ENV)).toEqual({ messages: [], due: [] });
  });

  it('with passiveReply the welcome is the reply to the push (text, then the link), and no message is planned', () => {
    const out = runRules(follow, member(), withRules({ welcomeOnFollow: { enabled: true, text: '欢迎！', passiveReply: true } }), ENV);
    expect(out).toEqual({ messages: [], due: [], reply: '欢迎！\nhttps://brand.example/member' });
  });
});

describe('points_earned', () => {
  const earned = { kind: 'points_earned' as const, cause: 'order' as const, ref: 'tmall#S#9', points: 25, at: T };

  it('notifies the order rule only, with the balance', () => {
    const out = runRules(earned, member({ points: 125 }), DEFAULT_RULES, ENV);
    expect(out.messages).toEqual([
      {
        memberId: 'M1',
        ruleId: 'points_order',
        step: 'tmall#S#9',
        class: 'transactional',
        destination: 'member',
        appId: 'wxA',
        openid: 'oA',
        triggeredAt: T,
        payload: { templateId: 'TPL_POINTS_CHANGE', points: 25, balance: 125 },
      },
    ]);
  });

  it('nothing without a WeChat address or for 0 points', () => {
    expect(runRules(earned, member({ wechat: false }), DEFAULT_RULES, ENV).messages).toEqual([]);
    expect(runRules({ ...earned, points: 0 }, member(), DEFAULT_RULES, ENV).messages).toEqual([]);
  });
});

describe('paid_order', () => {
  it('a first order schedules the whole repurchase ladder, then the lapse alert', () => {
    const paidAt = T;
    const out = runRules({ kind: 'paid_order', orderRef: 'tmall#S#0', paidAt }, member({ orders: [paidAt] }), DEFAULT_RULES, ENV);
    expect(out.messages).toEqual([]);
    expect(out.due).toEqual([
      { memberId: 'M1', kind: 'repurchase', key: '0', dueAt: paidAt + 30 * DAY, data: { step: 0, orderRef: 'tmall#S#0', day: 30, kind: 'recommendation', percentOff: 0 } },
      { memberId: 'M1', kind: 'repurchase', key: '1', dueAt: paidAt + 30 * DAY, data: { step: 1, orderRef: 'tmall#S#0', day: 30, kind: 'coupon', percentOff: 10 } },
      { memberId: 'M1', kind: 'repurchase', key: '2', dueAt: paidAt + 45 * DAY, data: { step: 2, orderRef: 'tmall#S#0', day: 45, kind: 'coupon', percentOff: 20 } },
      { memberId: 'M1', kind: 'repurchase', key: '3', dueAt: paidAt + 60 * DAY, data: { step: 3, orderRef: 'tmall#S#0', day: 60, kind: 'coupon', percentOff: 30 } },
      { memberId: 'M1', kind: 'lapse', key: 'current', dueAt: paidAt + 180 * DAY, data: { lastOrderAt: paidAt } },
    ]);
  });

  it('a repeat order only moves the lapse alert, from the latest paid order', () => {
    const later = T + 10 * DAY;
    const out = runRules({ kind: 'paid_order', orderRef: 'tmall#S#0', paidAt: T }, member({ orders: [T, later] }), DEFAULT_RULES, ENV);
    expect(out.due).toEqual([{ memberId: 'M1', kind: 'lapse', key: 'current', dueAt: later + 180 * DAY, data: { lastOrderAt: later } }]);
  });
});

describe('due rows', () => {
  const repurchaseRow: DueRow = { memberId: 'M1', kind: 'repurchase', key: '1', dueAt: T, data: { step: 1, orderRef: 'tmall#S#0' } };
  const lapseRow: DueRow = { memberId: 'M1', kind: 'lapse', key: 'current', dueAt: T, data: { lastOrderAt: T - 200 * DAY } };

  it('a repurchase step is sent while the member has one order, cancelled after a repeat', () => {
    const sent = runRules({ kind: 'due', row: repurchaseRow }, member({ orders: [T - 30 * DAY] }), DEFAULT_RULES, ENV);
    expect(sent.messages).toEqual([
      {
        memberId: 'M1',
        triggeredAt: T,
        appId: 'wxA',
        openid: 'oA',
        ruleId: 'repurchase',
        step: 'tmall#S#0#1',
        class: 'marketing',
        destination: 'member',
        payload: { templateId: 'TPL_REPURCHASE', kind: 'coupon', percentOff: 10, day: 30 },
      },
    ]);
    expect(runRules({ kind: 'due', row: repurchaseRow }, member({ orders: [T - 30 * DAY, T - DAY] }), DEFAULT_RULES, ENV)).toEqual({ messages: [], due: [], cancelled: 'repeat_purchase' });
  });

  it('a coupon step of the ladder grants a real coupon of its percent; a recommendation step and a cancelled step grant none', () => {
    const one = member({ orders: [T - 30 * DAY] });
    // Step 1 of the default ladder: day 30, 10 % off, valid 14 days (no validDays given).
    expect(runRules({ kind: 'due', row: repurchaseRow }, one, DEFAULT_RULES, ENV).coupons).toEqual([{ source: 'repurchase', ref: 'tmall#S#0#1', percentOff: 10, validDays: 14 }]);
    const custom = withRules({ repurchase: { enabled: true, templateId: 'T', ladder: [{ day: 30, kind: 'coupon', percentOff: 25, validDays: 7, thresholdFen: 9900 }] } });
    const row0: DueRow = { ...repurchaseRow, key: '0', data: { step: 0, orderRef: 'jd#S#9' } };
    expect(runRules({ kind: 'due', row: row0 }, one, custom, ENV).coupons).toEqual([{ source: 'repurchase', ref: 'jd#S#9#0', percentOff: 25, thresholdFen: 9900, validDays: 7 }]);
    expect(runRules({ kind: 'due', row: { ...repurchaseRow, key: '0', data: { step: 0, orderRef: 'tmall#S#0' } } }, one, DEFAULT_RULES, ENV).coupons).toBeUndefined();
    expect(runRules({ kind: 'due', row: repurchaseRow }, member({ orders: [T - 30 * DAY, T - DAY] }), DEFAULT_RULES, ENV).coupons).toBeUndefined();
  });

  it('a birthday coupon is granted with the greeting only when configured', () => {
    const row: DueRow = { memberId: 'M1', kind: 'birthday', key: '2026', dueAt: T, data: { year: 2026, birthday: '03-01' } };
    expect(runRules({ kind: 'due', row }, member({ birthday: '1990-03-01' }), DEFAULT_RULES, ENV).coupons).toBeUndefined();
    const rules = withRules({ birthday: { enabled: true, templateId: 'TPL_BIRTHDAY', coupon: { valueFen: 1500, validDays: 10 } } });
    expect(runRules({ kind: 'due', row }, member({ birthday: '1990-03-01' }), rules, ENV).coupons).toEqual([{ source: 'birthday', ref: 'birthday#2026', valueFen: 1500, validDays: 10 }]);
  });

  it('the lapse alert goes to staff for gold and above, and is cancelled by a later order or a low tier', () => {
    const last = T - 200 * DAY;
    expect(runRules({ kind: 'due', row: lapseRow }, member({ tier: 'gold', orders: [last] }), DEFAULT_RULES, ENV).messages).toEqual([
      {
        memberId: 'M1',
        triggeredAt: T,
        appId: 'wxA',
        openid: 'oA',
        ruleId: 'lapse_alert',
        step: String(last),
        class: 'transactional',
        destination: 'staff',
        payload: { tier: 'gold', lastOrderAt: last, gmvFen: 12_300, days: 180 },
      },
    ]);
    expect(runRules({ kind: 'due', row: lapseRow }, member({ tier: 'silver', orders: [last] }), DEFAULT_RULES, ENV).cancelled).toBe('tier_below_threshold');
    expect(runRules({ kind: 'due', row: lapseRow }, member({ tier: 'gold', orders: [last, T - DAY] }), DEFAULT_RULES, ENV).cancelled).toBe('ordered_since');
  });

  it("a birthday greets and arms next year's row; 29 February falls on the 28th in a common year", () => {
    // The 2026 row fires on 2026-02-28 10:00 local (02:00 UTC); the next is 2027-02-28 10:00.
    const row: DueRow = { memberId: 'M1', kind: 'birthday', key: '2026', dueAt: Date.UTC(2026, 1, 28, 2, 0, 0), data: { year: 2026, birthday: '02-29' } };
    const out = runRules({ kind: 'due', row }, member({ birthday: '2000-02-29' }), DEFAULT_RULES, ENV);
    expect(out.messages.map((m) => [m.ruleId, m.step, m.payload])).toEqual([['birthday', '2026', { templateId: 'TPL_BIRTHDAY' }]]);
    expect(out.due).toEqual([{ memberId: 'M1', kind: 'birthday', key: '2027', dueAt: Date.UTC(2027, 1, 28, 2, 0, 0), data: { year: 2027, birthday: '02-29' } }]);
  });
});

describe('first_registration and lots_expiring', () => {
  it('registration with a birthday: the welcome, and the row of the next birthday (next year once this one passed)', () => {
    // 2026-03-01: 15 January has passed this year → 2027-01-15 10:00 local.
    const out = runRules({ kind: 'first_registration', appId: 'wxA', openid: 'oA', at: T, birthday: '01-15' }, member({ points: 5 }), DEFAULT_RULES, ENV);
    expect(out.messages.map((m) => [m.ruleId, m.payload])).toEqual([['welcome_register', { templateId: 'TPL_MEMBER_WELCOME', text: '注册成功，欢迎成为会员！', points: 5 }]]);
    expect(out.due).toEqual([{ memberId: 'M1', kind: 'birthday', key: '2027', dueAt: Date.UTC(2027, 0, 15, 2, 0, 0), data: { year: 2027, birthday: '01-15' } }]);
  });

  it('an expiry reminder needs a WeChat address', () => {
    const t = { kind: 'lots_expiring' as const, expiryDay: '2026-03-15', now: T };
    expect(runRules(t, member({ points: 40 }), DEFAULT_RULES, ENV).messages).toEqual([
      {
        memberId: 'M1',
        ruleId: 'points_expiry',
        step: '2026-03-15',
        class: 'marketing',
        destination: 'member',
        appId: 'wxA',
        openid: 'oA',
        triggeredAt: T,
        payload: { templateId: 'TPL_POINTS_EXPIRY', expiryDay: '2026-03-15', balance: 40 },
      },
    ]);
    expect(runRules(t, member({ wechat: false }), DEFAULT_RULES, ENV).messages).toEqual([]);
  });
});
