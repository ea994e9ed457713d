/**
 * Lift statistics: treated vs holdout conversion, pure (no I/O). docs/design.md#lift has the
 * choices and their sources:
 *
 *   - the 95 % confidence interval of the difference of two independent proportions is
 *     Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the difference
 *     between independent proportions: comparison of eleven methods", Statistics in Medicine
 *     17:873–890, method 10), built from the Wilson score interval of each arm (Wilson 1927).
 *     Not Wald: the holdout is 5 % of the eligible members, so its count is small and its rate
 *     often near 0, where the Wald interval collapses (0/n gives a zero-width interval) and
 *     covers far less than 95 %;
 *   - the further sample needed is the normal-approximation sample size for comparing two
 *     proportions with unequal allocation (Chow, Shao & Wang, "Sample Size Calculations in
 *     Clinical Research", 2nd ed. 2008, §4.2): n₂ = (z₁₋α/₂ + z₁₋β)² · (p₁q₁/κ + p₂q₂) / (p₁ − p₂)²,
 *     n₁ = κ·n₂, with κ the observed treated:holdout ratio, α = 0.05 two-sided, power 80 %.
 */

/** z for a two-sided 95 % interval (the 0.975 quantile of the standard normal). */
export const Z_95 = 1.959963984540054;
/** z for 80 % power (the 0.8 quantile of the standard normal). */
export const Z_POWER_80 = 0.8416212335729143;

export interface ArmCounts {
  eligible: number;
  converted: number;
}

export interface Interval {
  low: number;
  high: number;
}

export type Verdict = 'positive' | 'negative' | 'no_effect_yet';

export interface LiftStats {
  treated: ArmCounts & { rate: number | null };
  holdout: ArmCounts & { rate: number | null };
  /** Treated rate − holdout rate; null without members in both arms. */
  absoluteLift: number | null;
  /** absoluteLift / holdout rate; null when the holdout rate is 0 or unknown. */
  relativeLift: number | null;
  /** 95 % interval of absoluteLift (Newcombe hybrid score); null without members in both arms. */
  ci95: Interval | null;
  verdict: Verdict;
  message: string;
  /** ≈ further eligible members (both arms) for the observed difference to become measurable; null when not estimable. */
  neededMore: number | null;
}

/** Wilson score interval of x successes in n trials (n > 0), clamped to [0, 1]. */
export function wilson(x: number, n: number, z: number = Z_95): Interval {
  if (!(n > 0) || x < 0 || x > n) throw new RangeError(`wilson: need 0 ≤ x ≤ n and n > 0, got x=${x} n=${n}`);
  const p = x / n;
  const z2 = z * z;
  const centre = 2 * n * p + z2;
  const spread = z * Math.sqrt(z2 + 4 * n * p * (1 - p));
  const denom = 2 * (n + z2);
  return { low: Math.max(0, (centre - spread) / denom), high: Math.min(1, (centre + spread) / denom) };
}

/** Newcombe's hybrid score interval for p₁ − p₂ (method 10 of Newcombe 1998). */
export function newcombe(a: ArmCounts, b: ArmCounts, z: number = Z_95): Interval {
  const p1 = a.converted / a.eligible;
  const p2 = b.converted / b.eligible;
  const w1 = wilson(a.converted, a.eligible, z);
  const w2 = wilson(b.converted, b.eligible, z);
  const d = p1 - p2;
  return {
    low: d - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2),
    high: d + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2),
  };
}

/**
 * Eligible members in all (treated + holdout) for a two-sided 5 % test of the observed rates to
 * have 80 % power, keeping the observed allocation κ = treated/holdout (Chow, Shao & Wang §4.2).
 * Null when the difference is 0 (no sample detects it) or an arm is empty.
 *
 * An arm whose observed rate is 0 or 1 (none or all converted: a small arm, typically) has no
 * variance estimate; its variance term uses the add-one rate (x + 1)/(n + 2) instead (Agresti &
 * Caffo, "Simple and effective confidence intervals for proportions and differences of
 * proportions", The American Statistician 54(4), 2000). Without it one held-out member who did not
 * buy would make the formula answer that a handful of members suffice.
 */
export function requiredTotal(t: ArmCounts, h: ArmCounts): number | null {
  if (t.eligible <= 0 || h.eligible <= 0) return null;
  const p1 = t.converted / t.eligible;
  const p2 = h.converted / h.eligible;
  const d = p1 - p2;
  if (d === 0) return null;
  const kappa = t.eligible / h.eligible;
  const variance = armVariance(t) / kappa + armVariance(h);
  const n2 = ((Z_95 + Z_POWER_80) ** 2 * variance) / (d * d);
  return Math.ceil(n2) + Math.ceil(kappa * n2);
}

/** p(1 − p) of an arm's observed rate; the add-one rate's when none or all converted. */
function armVariance(a: ArmCounts): number {
  const p = a.converted > 0 && a.converted < a.eligible ? a.converted / a.eligible : (a.converted + 1) / (a.eligible + 2);
  return p * (1 - p);
}

const pct = (x: number) => `${(x * 100).toFixed(2)} percentage points`;

/** The lift of treated over holdout with its interval, verdict and plain message. */
export function liftStats(treated: ArmCounts, holdout: ArmCounts): LiftStats {
  const rate = (a: ArmCounts) => (a.eligible > 0 ? a.converted / a.eligible : null);
  const t = { ...treated, rate: rate(treated) };
  const h = { ...holdout, rate: rate(holdout) };
  const base = { treated: t, holdout: h };
  if (t.rate === null || h.rate === null) {
    const empty = [t.rate === null ? 'treated' : '', h.rate === null ? 'holdout' : ''].filter(Boolean).join(' and ');
    return { ...base, absoluteLift: null, relativeLift: null, ci95: null, verdict: 'no_effect_yet', message: `no measurable effect yet: no eligible members in the ${empty} arm yet`, neededMore: null };
  }
  const absoluteLift = t.rate - h.rate;
  const relativeLift = h.rate > 0 ? absoluteLift / h.rate : null;
  const ci95 = newcombe(treated, holdout);
  const range = `(95 % CI ${pct(ci95.low)} to ${pct(ci95.high)})`;
  if (ci95.low > 0) return { ...base, absoluteLift, relativeLift, ci95, verdict: 'positive', message: `positive: treated members converted ${pct(absoluteLift)} more than the holdout ${range}`, neededMore: null };
  if (ci95.high < 0) return { ...base, absoluteLift, relativeLift, ci95, verdict: 'negative', message: `negative: treated members converted ${pct(-absoluteLift)} less than the holdout ${range}`, neededMore: null };
  const total = requiredTotal(treated, holdout);
  if (total === null) {
    return { ...base, absoluteLift, relativeLift, ci95, verdict: 'no_effect_yet', message: 'no measurable effect yet: the observed difference is 0, so no number of further eligible members can be estimated from it', neededMore: null };
  }
  const neededMore = Math.max(1, total - treated.eligible - holdout.eligible);
  return { ...base, absoluteLift, relativeLift, ci95, verdict: 'no_effect_yet', message: `no measurable effect yet: need ≈ ${neededMore} more eligible members`, neededMore };
}
