/**
 * Lift statistics (lib/insight/stats.ts) against published and hand-computed values:
 *   - Wilson intervals: Newcombe (1998) "Two-sided confidence intervals for the single
 *     proportion", Statistics in Medicine 17:857–872, example 81/263 → 0.2553 to 0.3662;
 *   - Newcombe's hybrid score interval (method 10) for the difference: the worked examples of
 *     Newcombe (1998) "Interval estimation for the difference between independent proportions",
 *     Statistics in Medicine 17:873–890, Table II, 4 decimals;
 *   - the Wilson bounds also against an independent computation: the roots of
 *     |p̂ − p| = z·√(p(1−p)/n) found by bisection, not the closed form;
 *   - the sample size against the formula evaluated by hand.
 */
import { describe, expect, it } from 'vitest';
import { liftStats, newcombe, requiredTotal, wilson, Z_95 } from '../../lib/insight/stats.ts';

const arm = (converted: number, eligible: number) => ({ converted, eligible });

/** Wilson bounds as the two roots of (p̂ − p)² = z²p(1−p)/n, by bisection on each side of p̂. */
function wilsonByBisection(x: number, n: number): { low: number; high: number } {
  const ph = x / n;
  const f = (p: number) => (ph - p) ** 2 - (Z_95 * Z_95 * p * (1 - p)) / n;
  const root = (a: number, b: number) => {
    // f(a) > 0 ≥ f(b) or the reverse; 200 halvings are far below double precision.
    let lo = a;
    let hi = b;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (Math.sign(f(mid)) === Math.sign(f(lo))) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // At p̂ itself f < 0 except on the boundary (0 or 1), where the search starts just inside.
  return { low: x === 0 ? 0 : root(0, Math.min(ph, 1 - 1e-15)), high: x === n ? 1 : root(Math.max(ph, 1e-15), 1) };
}

describe('Wilson score interval', () => {
  it('matches the published example 81/263 → 0.2553 to 0.3662', () => {
    const w = wilson(81, 263);
    expect(w.low).toBeCloseTo(0.2553, 4);
    expect(w.high).toBeCloseTo(0.3662, 4);
  });

  it.each([
    [0, 10],
    [1, 29],
    [15, 148],
    [29, 29],
    [500, 1000],
  ])('%i/%i equals the roots found by bisection', (x, n) => {
    const w = wilson(x, n);
    const b = wilsonByBisection(x, n);
    expect(w.low).toBeCloseTo(b.low, 10);
    expect(w.high).toBeCloseTo(b.high, 10);
  });

  it('refuses impossible counts', () => {
    expect(() => wilson(1, 0)).toThrow(RangeError);
    expect(() => wilson(3, 2)).toThrow(RangeError);
  });
});

describe("Newcombe's hybrid score interval (Newcombe 1998, Table II, method 10)", () => {
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%i/%i − %i/%i → %f to %f', (x1, n1, x2, n2, low, high) => {
    const ci = newcombe(arm(x1, n1), arm(x2, n2));
    expect(ci.low).toBeCloseTo(low, 4);
    expect(ci.high).toBeCloseTo(high, 4);
  });
});

describe('sample size (Chow, Shao & Wang §4.2, α 0.05 two-sided, power 80 %)', () => {
  it('12 % of 19,000 treated vs 10 % of 1,000 held out', () => {
    // κ = 19; n₂ = (1.959964 + 0.841621)² · (0.12·0.88/19 + 0.10·0.90) / 0.02²
    //    = 7.848879 · (0.00555789 + 0.09) / 0.0004 = 7.848879 · 238.8947 = 1875.05 → 1876
    // n₁ = 19 · 1875.05 = 35625.9 → 35626; total 37502 (±1 for the rounding of the hand values).
    const total = requiredTotal(arm(2280, 19_000), arm(100, 1000))!;
    expect(Math.abs(total - 37_502)).toBeLessThanOrEqual(1);
  });

  it('equal arms, 30 % vs 20 %', () => {
    // κ = 1; n₂ = 7.848879 · (0.21 + 0.16) / 0.01 = 290.41 → 291; n₁ the same: 582.
    expect(requiredTotal(arm(30, 100), arm(20, 100))).toBe(582);
  });

  it('an arm with none converted: its variance from the add-one rate (x + 1)/(n + 2)', () => {
    // 21 of 47 treated, 0 of 1 held out. p₁ = 0.446809, p̃₂ = 1/3; κ = 47; d = 0.446809.
    // variance = 0.446809·0.553191/47 + (1/3)(2/3) = 0.00525888 + 0.22222222 = 0.22748110
    // n₂ = 7.848879 · 0.22748110 / 0.19963838 = 8.943555 → 9; n₁ = 47 · 8.943555 = 420.35 → 421; total 430.
    expect(requiredTotal(arm(21, 47), arm(0, 1))).toBe(430);
    // Both arms at the extremes: 5 of 5 treated, 0 of 5 held out: p̃ = 6/7 and 1/7, κ = 1, d = 1.
    // variance = 2 · (6/7)(1/7) = 0.24489796; n₂ = 7.848879 · 0.24489796 = 1.922175 → 2; total 4.
    expect(requiredTotal(arm(5, 5), arm(0, 5))).toBe(4);
  });

  it('no estimate for a zero difference or an empty arm', () => {
    expect(requiredTotal(arm(10, 100), arm(1, 10))).toBeNull();
    expect(requiredTotal(arm(10, 100), arm(0, 0))).toBeNull();
  });
});

describe('liftStats', () => {
  it('positive: the interval above 0, relative lift against the holdout rate', () => {
    const s = liftStats(arm(56, 70), arm(48, 80));
    expect(s.treated.rate).toBeCloseTo(0.8, 12);
    expect(s.holdout.rate).toBeCloseTo(0.6, 12);
    expect(s.absoluteLift).toBeCloseTo(0.2, 12);
    expect(s.relativeLift).toBeCloseTo(0.2 / 0.6, 12);
    expect(s.verdict).toBe('positive');
    expect(s.neededMore).toBeNull();
    expect(s.message).toMatch(/^positive: treated members converted 20\.00 percentage points more than the holdout \(95 % CI 5\.24 percentage points to 33\.39/);
  });

  it('negative: the interval below 0', () => {
    const s = liftStats(arm(3, 10), arm(9, 10));
    expect(s.verdict).toBe('negative');
    expect(s.ci95!.low).toBeCloseTo(-0.809, 4);
    expect(s.ci95!.high).toBeCloseTo(-0.1705, 4);
  });

  it('no effect yet: the interval spans 0, with the members still needed', () => {
    // 12 % vs 10 % on 1,900 + 100: total needed as above for κ = 19 (37,502 ± 1) minus the 2,000 there are.
    const s = liftStats(arm(228, 1900), arm(10, 100));
    expect(s.verdict).toBe('no_effect_yet');
    expect(Math.abs(s.neededMore! - 35_502)).toBeLessThanOrEqual(1);
    expect(s.message).toBe(`no measurable effect yet: need ≈ ${s.neededMore} more eligible members`);
  });

  it('no effect yet with a zero difference says so', () => {
    const s = liftStats(arm(19, 190), arm(1, 10));
    expect(s.absoluteLift).toBe(0);
    expect(s.verdict).toBe('no_effect_yet');
    expect(s.neededMore).toBeNull();
    expect(s.message).toMatch(/observed difference is 0/);
  });

  it('an empty arm: no rates to compare', () => {
    const s = liftStats(arm(3, 40), arm(0, 0));
    expect(s.holdout.rate).toBeNull();
    expect(s.absoluteLift).toBeNull();
    expect(s.ci95).toBeNull();
    expect(s.verdict).toBe('no_effect_yet');
    expect(s.message).toBe('no measurable effect yet: no eligible members in the holdout arm yet');
  });

  it('relative lift is null when nobody in the holdout converted', () => {
    expect(liftStats(arm(5, 56), arm(0, 29)).relativeLift).toBeNull();
  });
});
