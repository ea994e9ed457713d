/**
 * The engagement rule set as configuration. Defaults below; a JSON file named by HUB_RULES_FILE
 * overrides any top-level part of it. The file is read and validated once, when the
 * configuration loads (lib/config/load.ts), so a typo fails the start, not a send.
 */
import * as z from 'zod';

/**
 * A repurchase-ladder step: a `coupon` step with percentOff above 0 issues a real coupon
 * (lib/loyalty/coupons.ts) valid `validDays` (default 14) from a basket of `thresholdFen`.
 */
const Ladder = z.object({
  day: z.number().int().min(1).max(365),
  kind: z.enum(['recommendation', 'coupon']),
  percentOff: z.number().int().min(0).max(99).default(0),
  validDays: z.number().int().min(1).max(366).optional(),
  thresholdFen: z.number().int().min(0).max(100_000_000).optional(),
});

/** A coupon a rule issues (birthday): fen off or percent off, its threshold and validity. */
const RuleCoupon = z
  .strictObject({
    valueFen: z.number().int().min(1).max(100_000_000).optional(),
    percentOff: z.number().int().min(1).max(99).optional(),
    thresholdFen: z.number().int().min(0).max(100_000_000).optional(),
    validDays: z.number().int().min(1).max(366),
  })
  .refine((c) => (c.valueFen === undefined) !== (c.percentOff === undefined), 'exactly one of valueFen or percentOff');

/**
 * Per-template field mapping of category templates: templateId → {data key → value with
 * `{{variable}}` placeholders from the message payload}, e.g.
 * `{"TPL_POINTS_CHANGE": {"thing1": "扫码积分", "character_string2": "{{points}}"}}`. Keys are
 * WeChat's typed keys (lib/wechat/template-keys.ts); a template without a mapping is sent with
 * the payload's own fields (old-style `keywordN` templates).
 */
const TemplateMappingsSchema = z.record(
  z.string().min(1).max(128),
  z.record(z.string().regex(/^[A-Za-z_]{1,32}\d{0,3}$/, 'a template data key is letters and _ with an optional number (thing1, amount3)'), z.string().max(200)),
);
export type TemplateMappings = z.infer<typeof TemplateMappingsSchema>;

/** Days after eligibility a paid order counts as a conversion when the rule sets none. */
export const DEFAULT_CONVERSION_DAYS = 14;

export const RulesSchema = z.object({
  templates: TemplateMappingsSchema,
  /**
   * `passiveReply`: the welcome is the synchronous passive reply to the follow push itself (free,
   * immediate, no window to miss; docs/platforms.md#wechat-passive-replies); false: a
   * customer-service message through the outbox.
   */
  welcomeOnFollow: z.object({ enabled: z.boolean(), text: z.string().max(600), passiveReply: z.boolean().default(false) }),
  welcomeOnRegister: z.object({ enabled: z.boolean(), templateId: z.string(), text: z.string().max(600) }),
  /**
   * The welcome of a WeCom add (`externalcontact/send_welcome_msg` with the event's WelcomeCode):
   * the contact way channel's own `welcomeText` when it has one, else `text`.
   */
  welcomeOnContact: z.object({ enabled: z.boolean(), text: z.string().min(1).max(600) }).default({ enabled: true, text: '您好，我是您的专属顾问，有任何问题随时找我～' }),
  /**
   * `subscribeTemplateId`: a subscription message used when no template message is possible
   * (`templateId` empty) and the person accepted that template.
   */
  pointsNotice: z.object({ enabled: z.boolean(), templateId: z.string(), subscribeTemplateId: z.string().min(1).max(128).optional() }),
  repurchase: z.object({ enabled: z.boolean(), templateId: z.string(), ladder: z.array(Ladder).max(10) }),
  pointsExpiry: z.object({ enabled: z.boolean(), templateId: z.string(), daysBefore: z.number().int().min(1).max(90) }),
  /** `coupon`: a birthday coupon issued with the greeting. */
  birthday: z.object({ enabled: z.boolean(), templateId: z.string(), coupon: RuleCoupon.optional() }),
  lapseAlert: z.object({ enabled: z.boolean(), minTier: z.enum(['silver', 'gold', 'diamond']), days: z.number().int().min(30).max(730) }),
  /**
   * WeChat user tags synced from hub segments (docs/design.md#wechat-user-tags): a member in
   * `segment` (`tier:<tier>` or `lifecycle:<stage>`) gets WeChat tag `tagId` on the account
   * `appId` (default: every official account they have an address on), through the engagement
   * queue and `tags/members/batchtagging`.
   */
  tagSync: z
    .array(
      z.object({
        segment: z.string().regex(/^(tier:(normal|silver|gold|diamond)|lifecycle:(prospect|new|repeat|at_risk|lapsed|won_back))$/, 'a segment is tier:<normal|silver|gold|diamond> or lifecycle:<stage>'),
        tagId: z.number().int().positive(),
        appId: z.string().min(1).max(64).optional(),
      }),
    )
    .max(20)
    .default([]),
  /**
   * The lift report's conversion window (docs/design.md#lift): a paid order within
   * `conversionDays` after eligibility converts; `byRule` sets it per rule id (a campaign is
   * `campaign:<campaignId>`). For the repurchase ladder that order is a repurchase: the order
   * that started the ladder was paid before the step fell due.
   */
  lift: z
    .strictObject({
      conversionDays: z.number().int().min(1).max(180).default(DEFAULT_CONVERSION_DAYS),
      byRule: z.record(z.string().min(1).max(128), z.strictObject({ conversionDays: z.number().int().min(1).max(180) })).default({}),
    })
    .default({ conversionDays: DEFAULT_CONVERSION_DAYS, byRule: {} }),
});
export type RulesConfig = z.infer<typeof RulesSchema>;

export const DEFAULT_RULES: RulesConfig = {
  templates: {},
  welcomeOnFollow: { enabled: true, text: '欢迎关注！点击成为会员，扫码积分兑好礼。', passiveReply: false },
  welcomeOnRegister: { enabled: true, templateId: 'TPL_MEMBER_WELCOME', text: '注册成功，欢迎成为会员！' },
  welcomeOnContact: { enabled: true, text: '您好，我是您的专属顾问，有任何问题随时找我～' },
  pointsNotice: { enabled: true, templateId: 'TPL_POINTS_CHANGE' },
  repurchase: {
    enabled: true,
    templateId: 'TPL_REPURCHASE',
    ladder: [
      { day: 30, kind: 'recommendation', percentOff: 0 },
      { day: 30, kind: 'coupon', percentOff: 10 },
      { day: 45, kind: 'coupon', percentOff: 20 },
      { day: 60, kind: 'coupon', percentOff: 30 },
    ],
  },
  pointsExpiry: { enabled: true, templateId: 'TPL_POINTS_EXPIRY', daysBefore: 14 },
  birthday: { enabled: true, templateId: 'TPL_BIRTHDAY' },
  lapseAlert: { enabled: true, minTier: 'gold', days: 180 },
  tagSync: [],
  lift: { conversionDays: DEFAULT_CONVERSION_DAYS, byRule: {} },
};

/** The conversion window of a rule, in days. */
export function conversionDaysOf(rules: Pick<RulesConfig, 'lift'>, ruleId: string): number {
  return rules.lift.byRule[ruleId]?.conversionDays ?? rules.lift.conversionDays;
}

/**
 * The rule set from the file at `file` (absent: the defaults). Throws `invalid rules file
 * <file>: …` when the file cannot be read, is not a JSON object or does not validate.
 */
export function rulesFrom(file: string | undefined, readFile: (path: string) => string): RulesConfig {
  if (file === undefined) return DEFAULT_RULES;
  let raw: unknown;
  try {
    raw = JSON.parse(readFile(file));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not JSON' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new Error(`invalid rules file ${file}: ${why}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`invalid rules file ${file}: expected a JSON object`);
  const parsed = RulesSchema.safeParse({ ...DEFAULT_RULES, ...raw });
  if (!parsed.success) throw new Error(`invalid rules file ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
