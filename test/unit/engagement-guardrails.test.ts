/**
 * The engagement guardrails as pure decisions: every branch of `decide`, the quiet-hours
 * arithmetic across midnight in Asia/Shanghai, the holdout's stability and size, the WeChat
 * customer-service windows, the policy schema and the retry backoff.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, EngagementPolicySchema, HOLDOUT_BUCKETS, MAX_VISIBILITY_SECONDS, policyFrom } from '../../lib/config/engagement.ts';
import { loadConfig } from '../../lib/config/load.ts';
import {
  canSubscribe,
  decide,
  deferDelaySeconds,
  insideCustomWindow,
  isHoldout,
  quietHoursEnd,
  retryDelaySeconds,
  type DecisionInput,
  type DecisionMember,
} from '../../lib/engagement/guardrails.ts';
import { bucketOf } from '../../lib/ids.ts';

const TZ = 'Asia/Shanghai';
/** Shanghai is UTC+8 all year: local wall-clock time → epoch ms. */
const sh = (y: number, mo: number, d: number, h: number, mi = 0, s = 0) => Date.UTC(y, mo - 1, d, h - 8, mi, s);
const NOON = sh(2025, 3, 10, 12);
const HOUR = 3_600_000;

/** A member id outside (or inside) the default 5 % holdout. */
function memberIdWhere(inHoldout: boolean): string {
  for (let i = 0; ; i++) {
    const id = `m-unit-${i}`;
    if ((bucketOf(id, HOLDOUT_BUCKETS) < DEFAULT_POLICY.holdout) === inHoldout) return id;
  }
}
const REGULAR = memberIdWhere(false);
const HELD_OUT = memberIdWhere(true);

function input(over: Partial<Omit<DecisionInput, 'row' | 'member'>> & { row?: Partial<DecisionInput['row']>; member?: Partial<DecisionMember> } = {}): DecisionInput {
  const { row, member, ...rest } = over;
  return {
    row: {
      ruleId: 'repurchase',
      class: 'marketing',
      destination: 'member',
      payload: { templateId: 'TPL_REPURCHASE', text: 'Come back for 10 % off' },
      triggeredAt: NOON - 30 * 86_400_000,
      ...row,
    },
    member: { memberId: REGULAR, wechat: { followed: true }, lastInteractionAt: NOON - HOUR, ...member },
    now: NOON,
    sentMarketingToday: 0,
    sentMarketingWeek: 0,
    policy: DEFAULT_POLICY,
    tz: TZ,
    ...rest,
  };
}

describe('policy', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_POLICY).toEqual({
      dailyCap: 1,
      weeklyCap: 3,
      quietHours: { start: '22:00', end: '08:00' },
      holdout: 500,
      interactionWindowHours: 48,
      followWindowSeconds: 60,
      followRuleIds: ['welcome_follow'],
      retryBaseSeconds: 30,
      retryMaxSeconds: 3600,
    });
  });

  it('fills partial settings with defaults and rejects invalid ones', () => {
    expect(policyFrom({ dailyCap: 2 })).toMatchObject({ dailyCap: 2, weeklyCap: 3, holdout: 500 });
    expect(policyFrom({ quietHours: null }).quietHours).toBeNull();
    expect(() => policyFrom({ quietHours: { start: '25:00', end: '08:00' } })).toThrow(/quietHours.start/);
    expect(() => policyFrom({ holdout: 10_001 })).toThrow(/holdout/);
    // WeChat's windows are upper bounds: configuring a longer one would only produce 45015.
    expect(EngagementPolicySchema.safeParse({ interactionWindowHours: 72 }).success).toBe(false);
    expect(EngagementPolicySchema.safeParse({ followWindowSeconds: 120 }).success).toBe(false);
  });

  it('loads from HUB_ENGAGEMENT_POLICY with the configuration; an invalid one fails the load naming the variable', () => {
    const policyOf = (env: Record<string, string>) => loadConfig({ env, local: true }).policy;
    expect(policyOf({})).toEqual(DEFAULT_POLICY);
    expect(policyOf({ HUB_ENGAGEMENT_POLICY: '{"weeklyCap":5,"holdout":0}' })).toMatchObject({ weeklyCap: 5, holdout: 0, dailyCap: 1 });
    expect(() => policyOf({ HUB_ENGAGEMENT_POLICY: '{nope' })).toThrow(/^invalid configuration: invalid engagement policy: HUB_ENGAGEMENT_POLICY is not JSON$/);
    expect(() => policyOf({ HUB_ENGAGEMENT_POLICY: '{"dailyCap":-1}' })).toThrow(/^invalid configuration: invalid engagement policy: HUB_ENGAGEMENT_POLICY: dailyCap: /);
    expect(() => policyOf({ HUB_ENGAGEMENT_POLICY: ' ' })).toThrow(/HUB_ENGAGEMENT_POLICY is set but empty/);
  });
});

describe('decide: routing and follow state', () => {
  it('sends a marketing message inside every limit', () => {
    expect(decide(input())).toEqual({ action: 'send', via: 'custom' });
  });

  it('a staff-destination row is not handled here', () => {
    expect(decide(input({ row: { destination: 'staff' } }))).toEqual({ action: 'suppress', reason: 'wrong_queue' });
    expect(decide(input({ row: { destination: 'staff', class: 'transactional' } }))).toEqual({ action: 'suppress', reason: 'wrong_queue' });
  });

  it('an unfollowed member gets nothing, transactional included', () => {
    const member = { wechat: { followed: false } };
    expect(decide(input({ member }))).toEqual({ action: 'suppress', reason: 'unfollowed' });
    expect(decide(input({ member, row: { class: 'transactional' } }))).toEqual({ action: 'suppress', reason: 'unfollowed' });
  });

  it('a member never seen on WeChat is not treated as unfollowed', () => {
    expect(decide(input({ member: { wechat: undefined } }))).toMatchObject({ action: 'send' });
  });

  it('a payload with neither text nor template is suppressed no_content', () => {
    expect(decide(input({ row: { payload: { points: 5 } } }))).toEqual({ action: 'suppress', reason: 'no_content' });
  });
});

describe('decide: caps', () => {
  it('daily cap: the second marketing message of the local day is suppressed', () => {
    expect(decide(input({ sentMarketingToday: 0, sentMarketingWeek: 0 }))).toMatchObject({ action: 'send' });
    expect(decide(input({ sentMarketingToday: 1, sentMarketingWeek: 1 }))).toEqual({ action: 'suppress', reason: 'cap_daily' });
  });

  it('weekly cap: the fourth in 7 days is suppressed even on a fresh day', () => {
    expect(decide(input({ sentMarketingToday: 0, sentMarketingWeek: 2 }))).toMatchObject({ action: 'send' });
    expect(decide(input({ sentMarketingToday: 0, sentMarketingWeek: 3 }))).toEqual({ action: 'suppress', reason: 'cap_weekly' });
  });

  it('caps are configurable; a zero cap stops all marketing', () => {
    const policy = policyFrom({ dailyCap: 2, weeklyCap: 10 });
    expect(decide(input({ policy, sentMarketingToday: 1, sentMarketingWeek: 9 }))).toMatchObject({ action: 'send' });
    expect(decide(input({ policy, sentMarketingToday: 2, sentMarketingWeek: 2 }))).toEqual({ action: 'suppress', reason: 'cap_daily' });
    expect(decide(input({ policy: policyFrom({ dailyCap: 0 }) }))).toEqual({ action: 'suppress', reason: 'cap_daily' });
  });

  it('transactional messages are exempt from caps', () => {
    expect(decide(input({ row: { class: 'transactional' }, sentMarketingToday: 9, sentMarketingWeek: 99 }))).toMatchObject({ action: 'send' });
  });
});

describe('decide: quiet hours (Asia/Shanghai, 22:00–08:00)', () => {
  it('before midnight: deferred to 08:00 the next local day', () => {
    const now = sh(2025, 3, 10, 23, 30);
    expect(decide(input({ now }))).toEqual({ action: 'defer', until: sh(2025, 3, 11, 8), reason: 'quiet_hours' });
  });

  it('across a month and year boundary', () => {
    expect(quietHoursEnd(sh(2025, 12, 31, 22, 0), TZ, DEFAULT_POLICY)).toBe(sh(2026, 1, 1, 8));
    expect(quietHoursEnd(sh(2025, 2, 28, 23, 59), TZ, DEFAULT_POLICY)).toBe(sh(2025, 3, 1, 8));
  });

  it('after midnight: deferred to 08:00 the same local day (which is the previous UTC day until 16:00 UTC)', () => {
    const now = sh(2025, 3, 11, 2, 15);
    expect(new Date(now).toISOString()).toBe('2025-03-10T18:15:00.000Z');
    expect(quietHoursEnd(now, TZ, DEFAULT_POLICY)).toBe(sh(2025, 3, 11, 8));
    expect(new Date(sh(2025, 3, 11, 8)).toISOString()).toBe('2025-03-11T00:00:00.000Z');
  });

  it('the edges: 22:00 and 07:59 are quiet, 21:59 and 08:00 are not', () => {
    expect(quietHoursEnd(sh(2025, 3, 10, 22, 0), TZ, DEFAULT_POLICY)).toBe(sh(2025, 3, 11, 8));
    expect(quietHoursEnd(sh(2025, 3, 11, 7, 59, 30), TZ, DEFAULT_POLICY)).toBe(sh(2025, 3, 11, 8));
    expect(quietHoursEnd(sh(2025, 3, 10, 21, 59, 59), TZ, DEFAULT_POLICY)).toBeNull();
    expect(quietHoursEnd(sh(2025, 3, 11, 8, 0), TZ, DEFAULT_POLICY)).toBeNull();
  });

  it('quiet hours come before caps: a capped member at night is deferred, and capped in the morning', () => {
    const night = sh(2025, 3, 10, 23);
    expect(decide(input({ now: night, sentMarketingToday: 1, sentMarketingWeek: 1 }))).toMatchObject({ action: 'defer' });
    const morning = sh(2025, 3, 10, 8);
    expect(decide(input({ now: morning, sentMarketingToday: 1, sentMarketingWeek: 1 }))).toEqual({ action: 'suppress', reason: 'cap_daily' });
  });

  it('transactional messages are sent during quiet hours', () => {
    const now = sh(2025, 3, 11, 3);
    expect(decide(input({ now, row: { class: 'transactional' } }))).toMatchObject({ action: 'send' });
  });

  it('a range that does not wrap midnight, and a disabled one', () => {
    const lunch = policyFrom({ quietHours: { start: '12:00', end: '14:00' } });
    expect(quietHoursEnd(sh(2025, 3, 10, 13, 10), TZ, lunch)).toBe(sh(2025, 3, 10, 14));
    expect(quietHoursEnd(sh(2025, 3, 10, 23), TZ, lunch)).toBeNull();
    expect(quietHoursEnd(sh(2025, 3, 10, 23), TZ, policyFrom({ quietHours: null }))).toBeNull();
    expect(quietHoursEnd(sh(2025, 3, 10, 23), TZ, policyFrom({ quietHours: { start: '08:00', end: '08:00' } }))).toBeNull();
  });

  it('follows the local clock in a zone with DST (America/New_York, spring forward)', () => {
    // 2025-03-09 02:00 does not exist there; 23:00 the day before → 08:00 EDT = 12:00 UTC.
    const now = Date.UTC(2025, 2, 9, 4, 0); // 23:00 EST on 2025-03-08
    expect(quietHoursEnd(now, 'America/New_York', DEFAULT_POLICY)).toBe(Date.UTC(2025, 2, 9, 12, 0));
  });

  it('the defer delay in seconds is bounded by the SQS visibility maximum', () => {
    const now = sh(2025, 3, 10, 22, 0);
    expect(deferDelaySeconds(sh(2025, 3, 11, 8), now)).toBe(10 * 3600);
    expect(deferDelaySeconds(now + 2 * 86_400_000, now)).toBe(MAX_VISIBILITY_SECONDS);
    expect(deferDelaySeconds(now - 5, now)).toBe(1);
  });
});

describe('decide: holdout', () => {
  it('a member in the holdout gets no marketing, but transactional messages', () => {
    expect(decide(input({ member: { memberId: HELD_OUT } }))).toEqual({ action: 'suppress', reason: 'holdout' });
    expect(decide(input({ member: { memberId: HELD_OUT }, row: { class: 'transactional' } }))).toMatchObject({ action: 'send' });
  });

  it('holdout comes before quiet hours and caps (the control group is measured as suppressed, never deferred)', () => {
    const night = sh(2025, 3, 10, 23);
    expect(decide(input({ member: { memberId: HELD_OUT }, now: night, sentMarketingToday: 5 }))).toEqual({ action: 'suppress', reason: 'holdout' });
  });

  it('is stable per member and ~5 % over 100 000 ids', () => {
    let held = 0;
    for (let i = 0; i < 100_000; i++) {
      const id = `member-${i}`;
      const a = isHoldout(id, DEFAULT_POLICY);
      if (i % 1000 === 0) expect(isHoldout(id, DEFAULT_POLICY)).toBe(a);
      if (a) held++;
    }
    // Binomial(100 000, 0.05): σ ≈ 69; ±5σ.
    expect(held).toBeGreaterThan(5000 - 350);
    expect(held).toBeLessThan(5000 + 350);
    expect(isHoldout(HELD_OUT, DEFAULT_POLICY)).toBe(true);
    expect(isHoldout(REGULAR, DEFAULT_POLICY)).toBe(false);
  });

  it('holdout 0 holds nobody; a larger holdout contains the smaller one', () => {
    expect(isHoldout(HELD_OUT, policyFrom({ holdout: 0 }))).toBe(false);
    for (let i = 0; i < 2000; i++) {
      const id = `nest-${i}`;
      if (isHoldout(id, policyFrom({ holdout: 300 }))) expect(isHoldout(id, policyFrom({ holdout: 800 }))).toBe(true);
    }
  });
});

describe('decide: WeChat customer-service windows', () => {
  it('within 48 h of a message from the person: customer-service message', () => {
    const at = NOON - 47 * HOUR;
    expect(decide(input({ member: { lastInteractionAt: at } }))).toEqual({ action: 'send', via: 'custom' });
  });

  it('at and beyond 48 h: template message when the payload has one', () => {
    expect(decide(input({ member: { lastInteractionAt: NOON - 48 * HOUR } }))).toEqual({ action: 'send', via: 'template' });
    expect(decide(input({ member: { lastInteractionAt: NOON - 72 * HOUR } }))).toEqual({ action: 'send', via: 'template' });
    expect(decide(input({ member: { lastInteractionAt: undefined } }))).toEqual({ action: 'send', via: 'template' });
  });

  it('outside the window without a template: suppressed outside_window', () => {
    const row = { payload: { text: 'hello' } };
    expect(decide(input({ row, member: { lastInteractionAt: NOON - 49 * HOUR } }))).toEqual({ action: 'suppress', reason: 'outside_window' });
    expect(decide(input({ row, member: { lastInteractionAt: NOON - 1 * HOUR } }))).toEqual({ action: 'send', via: 'custom' });
  });

  it('a template-only payload goes as a template even inside the window', () => {
    expect(decide(input({ row: { payload: { templateId: 'TPL_POINTS_CHANGE', points: 5 } } }))).toEqual({ action: 'send', via: 'template' });
  });

  it('a wire-format custom payload counts as customer-service content', () => {
    const row = { payload: { custom: { msgtype: 'news', news: { articles: [{ title: 'x' }] } } } };
    expect(decide(input({ row }))).toEqual({ action: 'send', via: 'custom' });
  });

  it('the follow welcome: 60 s from the follow (row.triggeredAt), not 48 h', () => {
    const row = (triggeredAt: number) => ({ ruleId: 'welcome_follow', class: 'transactional' as const, payload: { text: 'Welcome!' }, triggeredAt });
    const member = { lastInteractionAt: undefined };
    expect(decide(input({ row: row(NOON - 30_000), member }))).toEqual({ action: 'send', via: 'custom' });
    expect(decide(input({ row: row(NOON - 59_999), member }))).toEqual({ action: 'send', via: 'custom' });
    expect(decide(input({ row: row(NOON - 60_000), member }))).toEqual({ action: 'suppress', reason: 'outside_window' });
    // Even if the member wrote to the account an hour ago, the welcome's own window is the follow's.
    expect(decide(input({ row: row(NOON - 120_000), member: { lastInteractionAt: NOON - HOUR } }))).toEqual({ action: 'suppress', reason: 'outside_window' });
    // With a template in the payload the late welcome still goes out, as a template.
    const late = { ...row(NOON - 120_000), payload: { text: 'Welcome!', templateId: 'TPL_WELCOME' } };
    expect(decide(input({ row: late, member }))).toEqual({ action: 'send', via: 'template' });
  });

  it('a follow or QR scan as the last interaction opens 60 s, not 48 h', () => {
    const followAt = NOON - 5 * 60_000;
    const history = { follows: [{ at: followAt, channel: 'store_01' }], qrScans: [] };
    expect(insideCustomWindow({ ...input({ member: { lastInteractionAt: followAt, history } }) })).toBe(false);
    expect(insideCustomWindow({ ...input({ now: followAt + 30_000, member: { lastInteractionAt: followAt, history } }) })).toBe(true);
    const scanAt = NOON - 10 * 60_000;
    expect(insideCustomWindow(input({ member: { lastInteractionAt: scanAt, history: { follows: [], qrScans: [{ at: scanAt, channel: 'c1' }] } } }))).toBe(false);
    // A message after the follow refreshes the 48 h window.
    expect(insideCustomWindow(input({ member: { lastInteractionAt: NOON - HOUR, history } }))).toBe(true);
  });

  it('transactional messages obey the windows too', () => {
    const row = { class: 'transactional' as const, ruleId: 'points_scan', payload: { templateId: 'TPL_POINTS_CHANGE', text: '+5' } };
    expect(decide(input({ row, member: { lastInteractionAt: NOON - 50 * HOUR } }))).toEqual({ action: 'send', via: 'template' });
  });
});

describe('retry backoff', () => {
  it('doubles from the base per receive and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, DEFAULT_POLICY))).toEqual([30, 60, 120, 240, 480]);
    expect(retryDelaySeconds(20, DEFAULT_POLICY)).toBe(3600);
    expect(retryDelaySeconds(Number.NaN, DEFAULT_POLICY)).toBe(30);
    expect(retryDelaySeconds(0, DEFAULT_POLICY)).toBe(30);
    expect(retryDelaySeconds(99, { retryBaseSeconds: 30, retryMaxSeconds: MAX_VISIBILITY_SECONDS })).toBe(MAX_VISIBILITY_SECONDS);
    expect(retryDelaySeconds(3, { retryBaseSeconds: 0, retryMaxSeconds: 100 })).toBe(0);
  });
});

describe('subscription-message fallback', () => {
  // Only a subscription template: no text, no template message, so only `subscribe` can carry it.
  const SUB = { subscribeTemplateId: 'SUB_ORDER' };
  const ledger = (accepts: number, sends: number) => ({ accepts, sends, lastAcceptAt: NOON - 2 * HOUR });
  const transactional = (payload: Record<string, unknown>, member: Partial<DecisionMember>) =>
    decide(input({ row: { class: 'transactional', payload }, member: { lastInteractionAt: undefined, ...member } }));

  it.each([
    // accepts, sends, subscribeLongTerm, expected (one-time: accepts − sends left; long-term: unlimited while accepted)
    [1, 0, undefined, { action: 'send', via: 'subscribe' }],
    [2, 1, undefined, { action: 'send', via: 'subscribe' }],
    [1, 1, undefined, { action: 'suppress', reason: 'outside_window' }],
    [1, 1, true, { action: 'send', via: 'subscribe' }],
    [1, 1, 'true', { action: 'suppress', reason: 'outside_window' }], // only the boolean true asks for long-term
    [1, 1, false, { action: 'suppress', reason: 'outside_window' }],
  ] as const)('accepted %i, sent %i, long-term %s → %o', (accepts, sends, longTerm, expected) => {
    const payload = longTerm === undefined ? SUB : { ...SUB, subscribeLongTerm: longTerm };
    expect(transactional(payload, { subscriptions: { SUB_ORDER: ledger(accepts, sends) } })).toEqual(expected);
  });

  it('no ledger for the template (or none at all) → outside_window', () => {
    expect(transactional(SUB, {})).toEqual({ action: 'suppress', reason: 'outside_window' });
    expect(transactional(SUB, { subscriptions: { OTHER: ledger(1, 0) } })).toEqual({ action: 'suppress', reason: 'outside_window' });
  });

  it('a template message wins over the subscription message when the window is closed', () => {
    expect(transactional({ ...SUB, templateId: 'TPL' }, { subscriptions: { SUB_ORDER: ledger(1, 0) } })).toEqual({ action: 'send', via: 'template' });
  });

  it('an empty or non-string subscribeTemplateId names no template', () => {
    expect(transactional({ subscribeTemplateId: '' }, { subscriptions: { '': ledger(1, 0) } })).toEqual({ action: 'suppress', reason: 'no_content' });
    expect(transactional({ subscribeTemplateId: 7 }, { subscriptions: { '7': ledger(1, 0) } })).toEqual({ action: 'suppress', reason: 'no_content' });
    expect(canSubscribe({ subscribeTemplateId: '' }, { memberId: REGULAR, subscriptions: { '': ledger(1, 0) } })).toBe(false);
    expect(canSubscribe({}, { memberId: REGULAR, subscriptions: { undefined: ledger(1, 0) } })).toBe(false);
    expect(canSubscribe({ subscribeTemplateId: 'SUB_ORDER' }, { memberId: REGULAR, subscriptions: { SUB_ORDER: ledger(1, 0) } })).toBe(true);
  });
});

describe('legacy interaction kind (records without lastInteractionKind)', () => {
  // Last interaction 2 min ago: a follow or QR scan window (1 min) is over, a message window (48 h) is open.
  const AT = NOON - 2 * 60_000;
  const transactional = (member: Partial<DecisionMember>) => decide(input({ row: { class: 'transactional' }, member: { lastInteractionAt: AT, ...member } }));

  it.each([
    ['a follow at that time', { follows: [{ at: AT, channel: 'qr' }] }, 'template'],
    ['a QR scan at that time (no follows kept)', { qrScans: [{ at: AT, channel: 'qr' }] }, 'template'],
    ['a follow and a scan at other times', { follows: [{ at: AT - 1, channel: 'qr' }], qrScans: [{ at: AT + 1, channel: 'qr' }] }, 'custom'],
    ['an empty history', {}, 'custom'],
    ['empty follow and scan lists', { follows: [], qrScans: [] }, 'custom'],
    ['two follows, one at that time', { follows: [{ at: AT - 5_000, channel: 'qr' }, { at: AT, channel: 'qr2' }] }, 'template'],
  ] as const)('%s → via %s', (_what, history, via) => {
    expect(transactional({ history })).toEqual({ action: 'send', via });
  });

  it('no history at all → a message window', () => {
    expect(transactional({})).toEqual({ action: 'send', via: 'custom' });
  });

  it('no recorded interaction time → no window, whatever the history holds', () => {
    expect(transactional({ lastInteractionAt: undefined, history: { follows: [{ at: AT, channel: 'qr' }] } })).toEqual({ action: 'send', via: 'template' });
    expect(transactional({ lastInteractionAt: undefined })).toEqual({ action: 'send', via: 'template' });
  });
});

describe('quiet hours with the same start and end', () => {
  it.each([
    [sh(2025, 3, 10, 0, 0)],
    [sh(2025, 3, 10, 7, 59)],
    [sh(2025, 3, 10, 8, 0)],
    [sh(2025, 3, 10, 23, 59)],
  ])('an empty range never defers (%i)', (now) => {
    expect(quietHoursEnd(now, TZ, { quietHours: { start: '08:00', end: '08:00' } })).toBeNull();
  });
});
