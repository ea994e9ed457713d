/**
 * Edges of the member rules and the presale status not covered by the main tables: the lapse
 * boundary as the next review when the recency cuts lie before it, and a closed presale trade.
 * Instants are whole days from a fixed origin, computed by hand.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMBER_RULES } from '../../lib/config/members.ts';
import { tmallTradeStatus } from '../../lib/sources/tmall/status.ts';
import { nextReviewAt } from '../../lib/members/lifecycle.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

describe('nextReviewAt', () => {
  it('is the lapse boundary (+1 ms) when every recency cut has passed and the tier window is later', () => {
    // last order T0; lapsed 200 d, atRisk 90 d, R cuts ≤ 180 d, window 365 d; now = T0 + 185 d.
    // Candidates after now: T0 + 200 d + 1 ms (lapse), T0 + 365 d (window). Earliest: the lapse.
    const rules = { ...DEFAULT_MEMBER_RULES, days: { atRisk: 90, lapsed: 200, tierWindow: 365 } };
    const h = { orders: [{ key: 'o1', paidAt: T0, paidFen: 100, platform: 'tmall' }] };
    expect(nextReviewAt(h, T0 + 185 * DAY, rules)).toBe(T0 + 200 * DAY + 1);
    expect(nextReviewAt(h, T0 + 201 * DAY, rules)).toBe(T0 + 365 * DAY);
  });
});

describe('Tmall presale', () => {
  it('a presale trade that ended stays ended (closed before payment, refunded after)', () => {
    expect(tmallTradeStatus('TRADE_CLOSED', 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'refunded', flags: [] });
    expect(tmallTradeStatus('TRADE_CLOSED_BY_TAOBAO', 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'closed', flags: [] });
    expect(tmallTradeStatus('WAIT_BUYER_PAY', 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'created', flags: ['deposit_paid'] });
  });
});
