/**
 * Lot expiry (lib/members/points.ts lotExpiry): the end of the 12th month after the local day a
 * lot was earned. Expected instants are written out by hand: the end of a local day in
 * Asia/Shanghai (UTC+8, no DST) is 16:00 UTC minus 1 ms on that day.
 */
import { describe, expect, it } from 'vitest';
import { lotExpiry } from '../../lib/members/points.ts';

const TZ = 'Asia/Shanghai';

describe('lotExpiry', () => {
  it.each([
    // earned (UTC instant)         local earn day   expiry month   → last ms of that month, local
    ['2026-03-15T02:00:00.000Z', '2027-03-31T15:59:59.999Z'], // 2026-03-15 → end of 2027-03
    ['2026-01-31T10:00:00.000Z', '2027-01-31T15:59:59.999Z'], // January: next month is February
    ['2026-11-20T10:00:00.000Z', '2027-11-30T15:59:59.999Z'], // endMonth 23 → December 1 next
    ['2026-12-01T00:00:00.000Z', '2027-12-31T15:59:59.999Z'], // December: the year rolls twice
    ['2026-03-31T16:30:00.000Z', '2027-04-30T15:59:59.999Z'], // 00:30 on 04-01 local: April, not March
    ['2026-04-30T15:59:59.999Z', '2027-04-30T15:59:59.999Z'], // last ms of 04-30 local
    ['2027-02-10T00:00:00.000Z', '2028-02-29T15:59:59.999Z'], // 2028 is a leap year
  ])('earned %s → expires %s', (earned, expires) => {
    expect(new Date(lotExpiry(Date.parse(earned), TZ)).toISOString()).toBe(expires);
  });

  it('honours a shorter validity in months', () => {
    // earned 2026-01-31 local, 1 month → end of 2026-02; 0 months → end of 2026-01.
    expect(new Date(lotExpiry(Date.parse('2026-01-31T10:00:00.000Z'), TZ, 1)).toISOString()).toBe('2026-02-28T15:59:59.999Z');
    expect(new Date(lotExpiry(Date.parse('2026-01-31T10:00:00.000Z'), TZ, 0)).toISOString()).toBe('2026-01-31T15:59:59.999Z');
    // 11 months from December: end of November the next year (endMonth 23).
    expect(new Date(lotExpiry(Date.parse('2026-12-05T10:00:00.000Z'), TZ, 11)).toISOString()).toBe('2027-11-30T15:59:59.999Z');
  });

  it('uses the local calendar of the zone it is given', () => {
    // 2026-06-30T20:00Z is 2026-06-30 in New York (UTC-4 in summer) but 07-01 in Shanghai.
    const at = Date.parse('2026-06-30T20:00:00.000Z');
    // New York: expires end of 2027-06 local = 2027-07-01T04:00Z − 1 ms (EDT, UTC-4).
    expect(new Date(lotExpiry(at, 'America/New_York')).toISOString()).toBe('2027-07-01T03:59:59.999Z');
    expect(new Date(lotExpiry(at, TZ)).toISOString()).toBe('2027-07-31T15:59:59.999Z');
  });
});
