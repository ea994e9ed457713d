/**
 * The engagement policy (the sender's guardrails, lib/engagement/guardrails.ts) as
 * configuration: HUB_ENGAGEMENT_POLICY is a JSON object of EngagementPolicy fields; absent
 * fields take the defaults below. Sources of the defaults: the header of guardrails.ts and
 * docs/design.md#engagement-guardrails.
 */
import * as z from 'zod';

/** Total number of holdout buckets: `bucketOf(memberId, HOLDOUT_BUCKETS)`. */
export const HOLDOUT_BUCKETS = 10_000;

/** SQS refuses a visibility timeout above 12 h. */
export const MAX_VISIBILITY_SECONDS = 43_200;

const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (00:00–23:59)');

export const EngagementPolicySchema = z.object({
  /** Marketing messages per member per local calendar day. */
  dailyCap: z.number().int().min(0).default(1),
  /** Marketing messages per member in any rolling 7 days. */
  weeklyCap: z.number().int().min(0).default(3),
  /** Local wall-clock range in which marketing messages are held; start == end, or null, disables it. */
  quietHours: z
    .object({ start: HhMm, end: HhMm })
    .nullable()
    .default({ start: '22:00', end: '08:00' }),
  /** Members whose bucket (0–9999) is below this receive no marketing (500 = 5 %). */
  holdout: z.number().int().min(0).max(HOLDOUT_BUCKETS).default(500),
  /** Customer-service window after a message from the person (docs/platforms.md#wechat-customer-service-windows: 48 h). */
  interactionWindowHours: z.number().positive().max(48).default(48),
  /** Customer-service window after a follow / QR scan / menu click (docs/platforms.md#wechat-customer-service-windows: 1 min). */
  followWindowSeconds: z.number().positive().max(60).default(60),
  /** Rules whose message answers a follow: their window runs from `row.triggeredAt`. */
  followRuleIds: z.array(z.string().min(1)).default(['welcome_follow']),
  /** Retry backoff for failed sends: base × 2^(receiveCount−1), capped. */
  retryBaseSeconds: z.number().int().min(0).default(30),
  retryMaxSeconds: z.number().int().min(0).max(MAX_VISIBILITY_SECONDS).default(3_600),
});
export type EngagementPolicy = z.output<typeof EngagementPolicySchema>;
export type EngagementPolicyInput = z.input<typeof EngagementPolicySchema>;

export const DEFAULT_POLICY: EngagementPolicy = EngagementPolicySchema.parse({});

/** A policy from partial settings (validated; defaults fill the rest). */
export function policyFrom(input: EngagementPolicyInput = {}): EngagementPolicy {
  const r = EngagementPolicySchema.safeParse(input);
  if (!r.success) throw new Error(`invalid engagement policy: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The policy from the value of HUB_ENGAGEMENT_POLICY (absent: the defaults). */
export function policyFromJson(raw: string | undefined): EngagementPolicy {
  if (raw === undefined) return DEFAULT_POLICY;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('invalid engagement policy: HUB_ENGAGEMENT_POLICY is not JSON');
  }
  const r = EngagementPolicySchema.safeParse(parsed);
  if (!r.success) throw new Error(`invalid engagement policy: HUB_ENGAGEMENT_POLICY: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
