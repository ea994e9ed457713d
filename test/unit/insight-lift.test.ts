/**
 * The lift report's pure parts against hand-written cases: which decisions count in which arm
 * (lib/engagement/send/eligibility.ts armOf), the conversion window's edges and the frozen
 * conversion of an erased record (lib/insight/lift.ts), the rule-id check and the per-rule window.
 */
import { describe, expect, it } from 'vitest';
import { armOf } from '../../lib/engagement/send/eligibility.ts';
import { converted, nextPaidAt, parseRuleId } from '../../lib/insight/lift.ts';
import { conversionDaysOf, DEFAULT_RULES, rulesFrom } from '../../lib/config/rules.ts';
import { bucketOf } from '../../lib/ids.ts';
import { BadRequestError } from '../../lib/errors.ts';
import type { Decision } from '../../lib/engagement/guardrails.ts';

const DAY = 86_400_000;
const policy = { holdout: 5000 };
/** Member ids in and out of a 50 % holdout, found by the bucket itself (not by the code under test). */
const inHoldout = Array.from({ length: 50 }, (_, i) => `m${i}`).find((id) => bucketOf(id, 10_000) < 5000)!;
const treated = Array.from({ length: 50 }, (_, i) => `m${i}`).find((id) => bucketOf(id, 10_000) >= 5000)!;
const mk = { class: 'marketing' as const, destination: 'member' as const };

describe('armOf', () => {
  it.each<[string, Decision, 'treated' | null]>([
    ['sent', { action: 'send', via: 'template' }, 'treated'],
    ['deferred by quiet hours', { action: 'defer', until: 1, reason: 'quiet_hours' }, 'treated'],
    ['capped today', { action: 'suppress', reason: 'cap_daily' }, 'treated'],
    ['capped this week', { action: 'suppress', reason: 'cap_weekly' }, 'treated'],
    ['outside the window', { action: 'suppress', reason: 'outside_window' }, 'treated'],
    ['unfollowed', { action: 'suppress', reason: 'unfollowed' }, null],
    ['no marketing consent', { action: 'suppress', reason: 'no_consent' }, null],
    ['a staff row', { action: 'suppress', reason: 'wrong_queue' }, null],
  ])('a treated member, %s', (_, d, arm) => {
    expect(armOf(mk, treated, d, policy)).toBe(arm);
  });

  it('a held-out member is in the holdout arm; transactional and staff rows in none', () => {
    expect(armOf(mk, inHoldout, { action: 'suppress', reason: 'holdout' }, policy)).toBe('holdout');
    expect(armOf({ class: 'transactional', destination: 'member' }, treated, { action: 'send', via: 'custom' }, policy)).toBeNull();
    expect(armOf({ class: 'marketing', destination: 'staff' }, treated, { action: 'send', via: 'custom' }, policy)).toBeNull();
  });
});

describe('conversion', () => {
  const at = 1_700_000_000_000;
  const row = { ruleId: 'r', arm: 'treated' as const, eligibleAt: at, memberId: 'm' };
  it.each<[string, number[], boolean]>([
    ['paid at eligibility', [at], true],
    ['paid the last millisecond of the window', [at + 14 * DAY - 1], true],
    ['paid as the window ends', [at + 14 * DAY], false],
    ['paid before eligibility (the order that triggered it)', [at - 1], false],
    ['none', [], false],
    ['one of several', [at - DAY, at + 20 * DAY, at + 3 * DAY], true],
  ])('%s', (_, paid, want) => {
    expect(converted(row, 14, paid)).toBe(want);
  });

  it('an erased record uses its frozen first order after eligibility', () => {
    expect(nextPaidAt([at - DAY, at + 9 * DAY, at + 2 * DAY], at)).toBe(at + 2 * DAY);
    expect(nextPaidAt([at - DAY], at)).toBeUndefined();
    const erased = { ruleId: 'r', arm: 'holdout' as const, eligibleAt: at, erased: true as const };
    expect(converted({ ...erased, nextPaidAt: at + 6 * DAY }, 7, undefined)).toBe(true);
    expect(converted({ ...erased, nextPaidAt: at + 7 * DAY }, 7, undefined)).toBe(false);
    expect(converted(erased, 7, [at + DAY])).toBe(false);
  });
});

describe('rules and configuration', () => {
  it('accepts rule ids and campaign ids, refuses anything that could break a key', () => {
    expect(parseRuleId('repurchase')).toBe('repurchase');
    expect(parseRuleId('campaign:01JQ-x')).toBe('campaign:01JQ-x');
    expect(parseRuleId(undefined)).toBeUndefined();
    expect(parseRuleId('')).toBeUndefined();
    for (const bad of ['a#b', 'a b', 'x'.repeat(129), '规则']) expect(() => parseRuleId(bad), bad).toThrow(BadRequestError);
  });

  it('the window is 14 days unless the rules file sets it, per rule', () => {
    expect(conversionDaysOf(DEFAULT_RULES, 'birthday')).toBe(14);
    const rules = rulesFrom('/rules.json', () => JSON.stringify({ lift: { conversionDays: 10, byRule: { 'campaign:c1': { conversionDays: 3 } } } }));
    expect(conversionDaysOf(rules, 'campaign:c1')).toBe(3);
    expect(conversionDaysOf(rules, 'repurchase')).toBe(10);
    expect(() => rulesFrom('/rules.json', () => JSON.stringify({ lift: { conversionDays: 0 } }))).toThrow(/lift\.conversionDays/);
    expect(() => rulesFrom('/rules.json', () => JSON.stringify({ lift: { byRule: { r: { days: 3 } } } }))).toThrow(/lift\.byRule/);
  });
});
