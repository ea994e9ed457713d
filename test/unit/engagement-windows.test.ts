/**
 * Boundaries of the guardrails' windows: the holdout bucket edge, quiet-hour ranges with minutes
 * and without wrapping, the follow window's edges, which interaction opens only the short
 * window, and what counts as content. Wall-clock instants are written out by hand (Shanghai is
 * UTC+8 all year); the holdout bucket is computed here with node:crypto from its definition
 * (first 4 bytes of sha256(memberId), big-endian, mod 10,000).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type EngagementPolicy } from '../../lib/config/engagement.ts';
import { hasCustomContent, hasTemplate, insideCustomWindow, isHoldout, quietHoursEnd, type DecisionInput } from '../../lib/engagement/guardrails.ts';

const TZ = 'Asia/Shanghai';
const sh = (h: number, mi = 0) => Date.UTC(2025, 2, 10, h - 8, mi); // 2025-03-10 local
const policy = (over: Partial<EngagementPolicy>): EngagementPolicy => ({ ...DEFAULT_POLICY, ...over });

describe('holdout edge', () => {
  it('a member whose bucket equals the holdout size is outside it; one more bucket takes it in', () => {
    const id = 'member-edge-1';
    const bucket = createHash('sha256').update(id).digest().readUInt32BE(0) % 10_000;
    expect(isHoldout(id, { holdout: bucket })).toBe(false);
    expect(isHoldout(id, { holdout: bucket + 1 })).toBe(true);
  });
});

describe('quiet hours', () => {
  const q = (start: string, end: string) => policy({ quietHours: { start, end } });

  it('minutes count in a wrapping range (22:30–08:00)', () => {
    expect(quietHoursEnd(sh(22, 15), TZ, q('22:30', '08:00'))).toBeNull();
    expect(quietHoursEnd(sh(22, 30), TZ, q('22:30', '08:00'))).toBe(Date.UTC(2025, 2, 11, 0)); // 08:00 next local day
  });

  it('a range that does not wrap (09:00–17:00): start inside, end outside, before and after outside', () => {
    const p = q('09:00', '17:00');
    expect(quietHoursEnd(sh(8, 59), TZ, p)).toBeNull();
    expect(quietHoursEnd(sh(9, 0), TZ, p)).toBe(sh(17));
    expect(quietHoursEnd(sh(16, 59), TZ, p)).toBe(sh(17));
    expect(quietHoursEnd(sh(17, 0), TZ, p)).toBeNull();
    expect(quietHoursEnd(sh(6, 0), TZ, p)).toBeNull();
  });

  it('minutes of the current time count (22:00–23:00 at 22:30 is inside, ends at 23:00 the same day)', () => {
    expect(quietHoursEnd(sh(22, 30), TZ, q('22:00', '23:00'))).toBe(sh(23));
    expect(quietHoursEnd(sh(21, 30), TZ, q('21:45', '23:00'))).toBeNull();
  });

  it('an end skipped by a DST change never defers into the past: one minute from now', () => {
    // New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist. Resolved with
    // the offset before the change it is 01:30 EST = 06:30Z, not after the current instant.
    const p = q('01:00', '02:30');
    const at0145 = Date.parse('2025-03-09T06:45:00Z'); // 01:45 EST
    expect(quietHoursEnd(at0145, 'America/New_York', p)).toBe(at0145 + 60_000);
    const at0130 = Date.parse('2025-03-09T06:30:00Z'); // 01:30 EST: the resolved end is now itself
    expect(quietHoursEnd(at0130, 'America/New_York', p)).toBe(at0130 + 60_000);
  });
});

describe('customer-service windows', () => {
  const NOW = sh(12);
  const base = (over: { row?: Partial<DecisionInput['row']>; member?: Partial<DecisionInput['member']> }) => ({
    row: { ruleId: 'repurchase', class: 'marketing' as const, destination: 'member' as const, payload: {}, triggeredAt: NOW, ...over.row },
    member: { memberId: 'm1', ...over.member },
    now: NOW,
    policy: DEFAULT_POLICY,
  });

  it('a follow-answering rule: from 60 s before the follow (clock skew) to just under 60 s after', () => {
    const row = (triggeredAt: number) => ({ ruleId: 'welcome_follow', triggeredAt });
    expect(insideCustomWindow(base({ row: row(NOW + 60_000) }))).toBe(true);
    expect(insideCustomWindow(base({ row: row(NOW + 60_001) }))).toBe(false);
    expect(insideCustomWindow(base({ row: row(NOW + 3_600_000) }))).toBe(false);
    expect(insideCustomWindow(base({ row: row(NOW - 59_999) }))).toBe(true);
    expect(insideCustomWindow(base({ row: row(NOW - 60_000) }))).toBe(false);
  });

  it('a QR scan alone in the history (no follows) opens only the short window', () => {
    const at = NOW - 120_000;
    expect(insideCustomWindow(base({ member: { lastInteractionAt: at, history: { qrScans: [{ at, channel: 'qr:a' }] } } }))).toBe(false);
    expect(insideCustomWindow(base({ member: { lastInteractionAt: at, history: { follows: [{ at, channel: 'qr:a' }] } } }))).toBe(false);
    // A message two minutes ago, after an older scan: the 48 h window.
    expect(insideCustomWindow(base({ member: { lastInteractionAt: at, history: { qrScans: [{ at: at - 1, channel: 'qr:a' }] } } }))).toBe(true);
  });
});

describe('content', () => {
  it('a template needs a non-empty id; text needs more than blanks; custom needs an object with a msgtype', () => {
    expect(hasTemplate({ templateId: '' })).toBe(false);
    expect(hasTemplate({ templateId: 'T1' })).toBe(true);
    expect(hasCustomContent({ text: '   ' })).toBe(false);
    expect(hasCustomContent({ text: ' hi ' })).toBe(true);
    expect(hasCustomContent({ custom: null })).toBe(false);
    expect(hasCustomContent({ custom: { msgtype: 'text' } })).toBe(true);
    expect(hasCustomContent({ custom: { text: 'x' } })).toBe(false);
  });
});
