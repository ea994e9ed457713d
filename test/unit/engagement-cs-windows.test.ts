/**
 * The customer-service window table (lib/engagement/windows.ts), row by row against the official
 * 客服消息下发规则 as written in docs/platforms.md#wechat-customer-service-windows: every user
 * action the hub records, the edge of its window, and its message count. Expected values are
 * written out by hand from that table (48 h = 172 800 000 ms, 1 min = 60 000 ms).
 */
import { describe, expect, it } from 'vitest';
import { customerServiceWindow, interactionKindOf, supersedes, type InteractionKind } from '../../lib/engagement/windows.ts';
import { customWindow } from '../../lib/engagement/guardrails.ts';
import { DEFAULT_POLICY } from '../../lib/config/engagement.ts';

const AT = Date.UTC(2026, 0, 5, 4);
const H48 = 172_800_000;
const MIN = 60_000;

/** [kind, quota (null: unlimited), window ms] as the documented table lists them. */
const DOCUMENTED: [InteractionKind, number | null, number][] = [
  ['message', 5, H48],
  ['menu_click', 3, MIN],
  ['scancode', 3, MIN],
  ['follow', 3, MIN],
  ['qr_scan', 3, MIN],
  ['payment', null, H48],
];

describe.each(DOCUMENTED)('%s: %s messages within %s ms', (kind, quota, windowMs) => {
  it('open at the action and one ms before the end; closed at the end', () => {
    expect(customerServiceWindow({ kind, at: AT, sentInWindow: 0, now: AT })).toEqual({ open: true, until: AT + windowMs, remaining: quota });
    expect(customerServiceWindow({ kind, at: AT, sentInWindow: 0, now: AT + windowMs - 1 }).open).toBe(true);
    expect(customerServiceWindow({ kind, at: AT, sentInWindow: 0, now: AT + windowMs })).toEqual({ open: false, reason: 'expired', until: AT + windowMs });
  });

  it('the count: the last allowed message, then used up', () => {
    if (quota === null) {
      expect(customerServiceWindow({ kind, at: AT, sentInWindow: 10_000, now: AT + 1 })).toEqual({ open: true, until: AT + windowMs, remaining: null });
      return;
    }
    expect(customerServiceWindow({ kind, at: AT, sentInWindow: quota - 1, now: AT + 1 })).toEqual({ open: true, until: AT + windowMs, remaining: 1 });
    expect(customerServiceWindow({ kind, at: AT, sentInWindow: quota, now: AT + 1 })).toEqual({ open: false, reason: 'quota_used', until: AT + windowMs });
  });
});

describe('actions that open nothing', () => {
  it.each([
    ['VIEW (menu link)', { type: 'wechat.interaction', kind: 'view' }],
    ['LOCATION (auto-reported)', { type: 'wechat.interaction', kind: 'location' }],
    ['unfollow', { type: 'wechat.unfollow' }],
    ['template delivery receipt', { type: 'wechat.template_receipt' }],
    ['mass-send result', { type: 'wechat.mass_receipt' }],
    ['an unknown event', { type: 'wechat.unknown' }],
  ])('%s records no interaction', (_name, e) => {
    expect(interactionKindOf(e)).toBeUndefined();
  });

  it.each([
    [{ type: 'wechat.interaction', kind: 'message' }, 'message'],
    [{ type: 'wechat.interaction', kind: 'click' }, 'menu_click'],
    [{ type: 'wechat.interaction', kind: 'scancode' }, 'scancode'],
    [{ type: 'wechat.follow' }, 'follow'],
    [{ type: 'wechat.scan' }, 'qr_scan'],
  ])('%o records %s', (e, kind) => {
    expect(interactionKindOf(e)).toBe(kind);
  });

  it('no recorded interaction: closed', () => {
    expect(customerServiceWindow({ kind: undefined, at: undefined, sentInWindow: 0, now: AT })).toEqual({ open: false, reason: 'no_interaction' });
  });
});

describe('the sender’s view (guardrails.customWindow)', () => {
  const row = { ruleId: 'repurchase', class: 'marketing' as const, destination: 'member' as const, payload: {}, triggeredAt: AT };
  const at = (now: number, kind: InteractionKind, sent = 0) =>
    customWindow({ row, member: { memberId: 'm', lastInteractionAt: AT, lastInteractionKind: kind }, now, policy: DEFAULT_POLICY, sentCustomInWindow: sent });

  it('an hour after a menu click the window is closed; an hour after a message it is open', () => {
    expect(at(AT + 3_600_000, 'menu_click').open).toBe(false);
    expect(at(AT + 3_600_000, 'message').open).toBe(true);
  });

  it('the messages already sent count against the window (5 after a message)', () => {
    expect(at(AT + 1_000, 'message', 4).open).toBe(true);
    expect(at(AT + 1_000, 'message', 5)).toEqual({ open: false, reason: 'quota_used', until: AT + H48 });
  });

  it('the policy can only shorten a window: 24 h instead of 48 h, 30 s instead of 1 min', () => {
    const policy = { ...DEFAULT_POLICY, interactionWindowHours: 24, followWindowSeconds: 30 };
    const w = (kind: InteractionKind) => customWindow({ row, member: { memberId: 'm', lastInteractionAt: AT, lastInteractionKind: kind }, now: AT, policy });
    expect(w('message')).toMatchObject({ open: true, until: AT + 86_400_000 });
    expect(w('follow')).toMatchObject({ open: true, until: AT + 30_000 });
  });

  it('a record without the kind: a follow at that instant is a follow, otherwise a message', () => {
    const legacy = (follows: { at: number; channel: string }[]) =>
      customWindow({ row, member: { memberId: 'm', lastInteractionAt: AT, history: { follows } }, now: AT + 120_000, policy: DEFAULT_POLICY });
    expect(legacy([{ at: AT, channel: 'organic' }]).open).toBe(false);
    expect(legacy([{ at: AT - 1, channel: 'organic' }]).open).toBe(true);
  });
});

describe('which action is the last interaction (supersedes)', () => {
  it('a later action replaces, an earlier one does not', () => {
    expect(supersedes('menu_click', AT + 1_000, { kind: 'message', at: AT })).toBe(true);
    expect(supersedes('message', AT - 1_000, { kind: 'menu_click', at: AT })).toBe(false);
    expect(supersedes('message', AT, {})).toBe(true);
  });

  it('at the same instant the shorter window wins whichever arrives first, then the smaller name', () => {
    expect(supersedes('follow', AT, { kind: 'message', at: AT })).toBe(true);
    expect(supersedes('message', AT, { kind: 'follow', at: AT })).toBe(false);
    expect(supersedes('follow', AT, { kind: 'qr_scan', at: AT })).toBe(true);
    expect(supersedes('qr_scan', AT, { kind: 'follow', at: AT })).toBe(false);
    expect(supersedes('follow', AT, { kind: 'follow', at: AT })).toBe(false);
  });
});
