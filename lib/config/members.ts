/**
 * Member programme rules as configuration: the tier thresholds (HUB_TIER_THRESHOLDS_FEN), the
 * lifecycle day counts (HUB_LIFECYCLE_DAYS) and the RFM cut points (HUB_RFM_CUTS), each a JSON
 * object of which any subset may be given. What they mean: lib/members/lifecycle.ts.
 */
import * as z from 'zod';

const fen = z.number().int().nonnegative();
const rising = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

export const TierThresholdsSchema = z
  .strictObject({
    normal: z.literal(0).optional(),
    silver: fen.default(100_000),
    gold: fen.default(500_000),
    diamond: fen.default(2_000_000),
  })
  .refine((t) => rising([0, t.silver, t.gold, t.diamond]), 'tier thresholds must rise strictly: 0 < silver < gold < diamond')
  .transform((t) => ({ normal: 0, silver: t.silver, gold: t.gold, diamond: t.diamond }));
export type TierThresholds = z.output<typeof TierThresholdsSchema>;

const days = z.number().int().min(1).max(3650);
export const LifecycleDaysSchema = z
  .strictObject({
    atRisk: days.default(90),
    lapsed: days.default(180),
    tierWindow: days.default(365),
  })
  .refine((d) => d.atRisk < d.lapsed, 'atRisk must be fewer days than lapsed');
export type LifecycleDays = z.output<typeof LifecycleDaysSchema>;

const four = (n: z.ZodNumber) => z.tuple([n, n, n, n]).refine((xs) => rising(xs), 'the four cut points must rise strictly');
export const RfmCutsSchema = z.strictObject({
  recencyDays: four(z.number().positive()).default([30, 60, 90, 180]),
  frequency: four(z.number().int().min(2)).default([2, 3, 5, 10]),
  monetaryFen: four(z.number().int().min(1)).default([50_000, 100_000, 500_000, 2_000_000]),
});
export type RfmCuts = z.output<typeof RfmCutsSchema>;

export const DEFAULT_TIERS: TierThresholds = TierThresholdsSchema.parse({});
export const DEFAULT_LIFECYCLE_DAYS: LifecycleDays = LifecycleDaysSchema.parse({});
export const DEFAULT_RFM_CUTS: RfmCuts = RfmCutsSchema.parse({});

export interface MemberRules {
  tiers: TierThresholds;
  days: LifecycleDays;
  rfm: RfmCuts;
}

export const DEFAULT_MEMBER_RULES: MemberRules = { tiers: DEFAULT_TIERS, days: DEFAULT_LIFECYCLE_DAYS, rfm: DEFAULT_RFM_CUTS };

/** The variable of each part of MemberRules. */
export const MEMBER_RULE_VARIABLES = {
  tiers: 'HUB_TIER_THRESHOLDS_FEN',
  days: 'HUB_LIFECYCLE_DAYS',
  rfm: 'HUB_RFM_CUTS',
} as const;

const SCHEMAS = { tiers: TierThresholdsSchema, days: LifecycleDaysSchema, rfm: RfmCutsSchema } as const;

/**
 * One part of the rules from its variable's value (absent: the defaults). Throws a message
 * naming the variable (`<name> is not valid JSON`, `<name>: <path>: <problem>`).
 */
export function memberRulePart<K extends keyof MemberRules>(part: K, raw: string | undefined): MemberRules[K] {
  const name = MEMBER_RULE_VARIABLES[part];
  let value: unknown = {};
  if (raw !== undefined) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`${name} is not valid JSON`);
    }
  }
  const parsed = SCHEMAS[part].safeParse(value);
  if (!parsed.success) throw new Error(`${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`);
  return parsed.data as MemberRules[K];
}
