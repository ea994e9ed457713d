/**
 * The months scenario's own model of tiers and lifecycles (lib/simulate/months-model.ts) against
 * hand-computed tables of the hub's documented definitions (lib/members/lifecycle.ts header),
 * and the plan's promises: seed-stable, no order on a boundary day.
 */
import { describe, expect, it } from 'vitest';
import { CONVERSION_DAYS, freeDay, inBirthdayWindow, keywordOf, modelLifecycle, modelTier, planMonths, Quota, runEnd, TEXTS } from '../../lib/simulate/months-model.ts';

const DAY = 86_400_000;
const E = Date.UTC(2027, 5, 1, 4, 0, 0);
const o = (daysBefore: number, fen = 10_000) => ({ at: E - daysBefore * DAY, fen });

describe('months model', () => {
  it('tier: the paid GMV of the 365 days before the instant against 1,000 / 5,000 / 20,000 yuan', () => {
    const table: [ReturnType<typeof o>[], string][] = [
      [[], 'normal'],
      [[o(10, 99_999)], 'normal'],
      [[o(10, 100_000)], 'silver'],
      [[o(10, 250_000), o(200, 250_000)], 'gold'],
      [[o(10, 250_000), o(365, 250_000)], 'silver'], // the second left the window exactly 365 days after
      [[o(1, 1_999_999)], 'gold'],
      [[o(1, 2_000_000)], 'diamond'],
    ];
    for (const [orders, tier] of table) expect({ orders, tier: modelTier(orders, E) }).toEqual({ orders, tier });
  });

  it('lifecycle: prospect, lapsed, at_risk (90–180 days inclusive), won_back, new, repeat', () => {
    const table: [ReturnType<typeof o>[], string][] = [
      [[], 'prospect'],
      [[o(181)], 'lapsed'],
      [[o(180)], 'at_risk'],
      [[o(90)], 'at_risk'],
      [[o(89.9)], 'new'],
      [[o(89.9), o(120)], 'repeat'],
      [[o(10), o(191)], 'won_back'],
      [[o(10), o(190)], 'repeat'],
      [[o(100), o(130), o(200)], 'at_risk'],
    ];
    for (const [orders, life] of table) expect({ orders, life: modelLifecycle(orders, E) }).toEqual({ orders, life });
  });

  it('keywords: first match wins; `exact` only on the whole text', () => {
    expect(keywordOf('会员积分')).toBe('会员');
    expect(keywordOf('积分怎么用')).toBe('积分');
    expect(keywordOf('人工')).toBe('人工');
    expect(keywordOf('人工客服在吗')).toBeUndefined();
    for (const t of TEXTS) expect({ text: t.text, k: keywordOf(t.text) }).toEqual({ text: t.text, k: t.keyword });
  });

  it('plans the same months for the same seed, and no order or registration on a boundary day', () => {
    const input = { fans: 300, months: 6, seed: '5', start: Date.UTC(2026, 11, 3, 16), tz: 'Asia/Shanghai' };
    const plan = planMonths(input);
    expect(planMonths(input)).toEqual(plan);
    expect(planMonths({ ...input, seed: '6' }).byDay).not.toEqual(plan.byDay);
    expect(runEnd(input.start, plan.days) - input.start).toBe(180.5 * DAY);
    let orders = 0;
    plan.byDay.forEach((actions, d) => {
      for (const [idx, a] of actions) {
        if (a.kind !== 'order' && a.kind !== 'register') continue;
        orders += a.kind === 'order' ? 1 : 0;
        const offset = d - plan.persons[idx]!.followDay;
        expect({ offset, horizonDay: [29, 30, 31, 89, 90, 91, 179, 180, 181].includes(offset) }).toEqual({ offset, horizonDay: false });
        // E is day 180.5: orders keep ≥ 2 days from E − 90 d (day 90.5) and E − 180 d (day 0.5).
        expect({ d, nearBoundary: Math.abs(90.5 - d) <= 2.5 || Math.abs(0.5 - d) <= 2.5 }).toEqual({ d, nearBoundary: false });
        expect(freeDay(plan.days, plan.persons[idx]!.followDay, d)).toBe(true);
      }
    });
    expect(orders).toBeGreaterThan(50);
    expect(plan.persons.filter((p) => p.buyer === 'gold').length).toBeGreaterThan(0);
  });
});

describe('Quota (who converts in the ladder model)', () => {
  const draws = (p: number, n: number) => {
    const q = new Quota(p);
    return Array.from({ length: n }, () => q.next());
  };
  it('says yes exactly when ⌊n·p⌋ grows (hand-computed)', () => {
    // p = 0.45: ⌊0.45⌋ ⌊0.9⌋ ⌊1.35⌋ ⌊1.8⌋ ⌊2.25⌋ ⌊2.7⌋ ⌊3.15⌋ = 0 0 1 1 2 2 3
    expect(draws(0.45, 7)).toEqual([false, false, true, false, true, false, true]);
    // p = 0.1: the tenth draw is the first yes; nine draws give none.
    expect(draws(0.1, 10)).toEqual([...Array(9).fill(false), true]);
  });
  it('gives ⌊n·p⌋ yes answers over n draws, also where n·p is an integer in floating point', () => {
    const yes = (p: number, n: number) => draws(p, n).filter(Boolean).length;
    expect(yes(0.45, 100)).toBe(45);
    expect(yes(0.45, 20)).toBe(9);
    expect(yes(0.1, 30)).toBe(3);
    expect(yes(0.1, 29)).toBe(2);
    expect(yes(0, 50)).toBe(0);
    expect(yes(1, 50)).toBe(50);
  });
  it('refuses a value that is not a probability', () => {
    expect(() => new Quota(1.5)).toThrow(RangeError);
    expect(() => new Quota(Number.NaN)).toThrow(RangeError);
  });
});

describe('the birthday window (no-effect rule)', () => {
  it('runs from the day before the birthday to the window\'s end + 1 (hand-computed)', () => {
    const p = { birthdayDay: 40 };
    expect([38, 39, 40, 54, 55, 56].map((d) => inBirthdayWindow(p, d))).toEqual([false, true, true, true, true, false]);
    expect(CONVERSION_DAYS).toBe(14);
    expect(inBirthdayWindow({}, 40)).toBe(false);
  });
  it('keeps every planned order of a person with a birthday out of the window', () => {
    const plan = planMonths({ fans: 400, months: 6, seed: '7', start: Date.UTC(2026, 0, 5, 16), tz: 'Asia/Shanghai' });
    const withBirthday = plan.persons.filter((p) => p.birthdayDay !== undefined);
    expect(withBirthday.length).toBeGreaterThan(10);
    const inWindow = plan.byDay.flatMap((actions, d) => actions.filter(([idx, a]) => a.kind === 'order' && inBirthdayWindow(plan.persons[idx]!, d)));
    expect(inWindow).toEqual([]);
  });
});
