/**
 * Audience filters: a saved, validated predicate over member facts (docs/design.md#audiences).
 * Every field is optional; fields combine with AND, the values of one list with OR. Pure: the
 * schema, and the evaluation of one member against a filter given what the store knows around
 * it (the kind of each channel, the member's purchased SKUs when the filter asks for them).
 *
 *   lifecycle[]            the member's lifecycle stage (lib/members/lifecycle.ts)
 *   tier[]                 the member's tier
 *   rfm[]                  RFM cells `<r><f><m>`, each a score 1–5 or `x` for any (`5x5`)
 *   firstTouchChannel[]    the channel id of the member's first touch
 *   firstTouchFamily[]     the kind of that channel (`store`, `wechat_qr`, `code_batch`, `ad` …;
 *                          `organic` for no channel, `platform` for tmall/jd/youzan, `unknown`)
 *   followedAppId[]        an official account or mini program the person follows now
 *   lastInteractionAfter / lastInteractionBefore   ISO 8601 instants: after ≤ last interaction < before
 *   pointsMin / pointsMax  the points balance, inclusive
 *   birthdayMonth[]        1–12
 *   purchasedSku[]         a paid order with a line of that SKU
 *   purchasedPlatform[]    a paid order on that platform
 *   tags[]                 WeChat user tags planned for the member: `<appId>:<tagId>` or the tag id
 */
import * as z from 'zod';
import { TIERS } from '../members/lifecycle.ts';
import type { Lifecycle, MemberRecord } from '../members/model.ts';
import { CHANNEL_KINDS } from '../attribution/channels.ts';
import { BadRequestError } from '../errors.ts';

const LIFECYCLES = ['prospect', 'new', 'repeat', 'at_risk', 'lapsed', 'won_back'] as const satisfies readonly Lifecycle[];
/** Families a first touch can have besides a created channel's kind. */
export const CHANNEL_FAMILIES = [...CHANNEL_KINDS, 'organic', 'platform', 'unknown'] as const;

/** Longest list a filter field may hold. */
export const MAX_FILTER_VALUES = 100;

const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_FILTER_VALUES);
const id = z.string().min(1).max(128);
const instant = z.iso.datetime({ offset: true });

export const AudienceFilterSchema = z
  .strictObject({
    lifecycle: list(z.enum(LIFECYCLES)).optional(),
    tier: list(z.enum(TIERS)).optional(),
    rfm: list(z.string().regex(/^[1-5x][1-5x][1-5x]$/, 'an RFM cell is three scores 1-5 or x, e.g. 5x4')).optional(),
    firstTouchChannel: list(id).optional(),
    firstTouchFamily: list(z.enum(CHANNEL_FAMILIES)).optional(),
    followedAppId: list(id).optional(),
    lastInteractionAfter: instant.optional(),
    lastInteractionBefore: instant.optional(),
    pointsMin: z.number().int().nonnegative().optional(),
    pointsMax: z.number().int().nonnegative().optional(),
    birthdayMonth: list(z.number().int().min(1).max(12)).optional(),
    purchasedSku: list(id).optional(),
    purchasedPlatform: list(id).optional(),
    tags: list(id).optional(),
  })
  .refine((f) => Object.keys(f).length > 0, { message: 'a filter needs at least one field' })
  .refine((f) => f.pointsMin === undefined || f.pointsMax === undefined || f.pointsMin <= f.pointsMax, { message: 'pointsMin is above pointsMax', path: ['pointsMin'] })
  .refine((f) => f.lastInteractionAfter === undefined || f.lastInteractionBefore === undefined || Date.parse(f.lastInteractionAfter) < Date.parse(f.lastInteractionBefore), {
    message: 'lastInteractionAfter is not before lastInteractionBefore',
    path: ['lastInteractionAfter'],
  });

export type AudienceFilter = z.infer<typeof AudienceFilterSchema>;

export const CreateAudienceSchema = z.strictObject({ name: z.string().trim().min(1).max(128), filter: AudienceFilterSchema });

/** Validates a request body into an audience definition; 400 `invalid_filter` with the reasons. */
export function parseAudience(body: unknown): z.infer<typeof CreateAudienceSchema> {
  const r = CreateAudienceSchema.safeParse(body);
  if (!r.success) throw new BadRequestError('invalid audience', r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`), 'invalid_filter');
  return r.data;
}

/** The member facts a filter reads (a stored profile satisfies it). */
export type FilterMember = Pick<MemberRecord, 'memberId' | 'tier' | 'lifecycle' | 'rfm' | 'firstTouch' | 'apps' | 'wechat' | 'lastInteractionAt' | 'points' | 'birthday' | 'wechatTags' | 'mergedInto'> & {
  history?: { orders?: readonly { platform: string; paidAt: number }[] };
};

export interface FilterContext {
  /** The kind of a created channel; undefined when the channel was never created. */
  channelKind(channelId: string): string | undefined;
  /** The platforms whose names are first-touch channels of buyers first met through an order. */
  platforms: readonly string[];
  /** SKUs of the member's paid orders (asked only when the filter names SKUs and everything else matched). */
  purchasedSkus?(memberId: string): Promise<ReadonlySet<string>>;
}

/** The family of a first-touch channel (see the header). */
export function channelFamily(channel: string, ctx: Pick<FilterContext, 'channelKind' | 'platforms'>): string {
  if (channel === 'organic') return 'organic';
  if (ctx.platforms.includes(channel)) return 'platform';
  const kind = ctx.channelKind(channel);
  return kind === undefined || kind === 'unknown' ? 'unknown' : kind;
}

/** `2001-07-15` or `07-15` → 7; anything else undefined. */
export function birthdayMonthOf(birthday: string | undefined): number | undefined {
  const m = birthday === undefined ? null : /^(?:\d{4}-)?(\d{2})-\d{2}$/.exec(birthday);
  return m ? Number(m[1]) : undefined;
}

function rfmMatches(cells: readonly string[], rfm: FilterMember['rfm']): boolean {
  if (!rfm) return false;
  const scores = [rfm.r, rfm.f, rfm.m].map(String);
  return cells.some((cell) => [...cell].every((c, i) => c === 'x' || c === scores[i]));
}

function follows(m: FilterMember, appId: string): boolean {
  const a = m.apps?.[appId];
  if (a) return a.followed;
  return m.wechat?.appId === appId && m.wechat.followed;
}

function tagMatches(tags: readonly string[], planned: readonly string[] | undefined): boolean {
  if (!planned?.length) return false;
  return tags.some((t) => planned.some((p) => p === t || p.slice(p.indexOf(':') + 1) === t));
}

/** Whether the member's own profile facts pass the filter (everything but the SKUs). */
export function matchesProfile(f: AudienceFilter, m: FilterMember, ctx: Pick<FilterContext, 'channelKind' | 'platforms'>): boolean {
  if (m.mergedInto) return false;
  if (f.lifecycle && !f.lifecycle.includes(m.lifecycle as (typeof LIFECYCLES)[number])) return false;
  if (f.tier && !f.tier.includes(m.tier as (typeof TIERS)[number])) return false;
  if (f.rfm && !rfmMatches(f.rfm, m.rfm)) return false;
  if (f.firstTouchChannel && !f.firstTouchChannel.includes(m.firstTouch.channel)) return false;
  if (f.firstTouchFamily && !(f.firstTouchFamily as readonly string[]).includes(channelFamily(m.firstTouch.channel, ctx))) return false;
  if (f.followedAppId && !f.followedAppId.some((appId) => follows(m, appId))) return false;
  if (f.lastInteractionAfter !== undefined && !(m.lastInteractionAt !== undefined && m.lastInteractionAt >= Date.parse(f.lastInteractionAfter))) return false;
  if (f.lastInteractionBefore !== undefined && !(m.lastInteractionAt !== undefined && m.lastInteractionAt < Date.parse(f.lastInteractionBefore))) return false;
  if (f.pointsMin !== undefined && !(m.points >= f.pointsMin)) return false;
  if (f.pointsMax !== undefined && !(m.points <= f.pointsMax)) return false;
  if (f.birthdayMonth) {
    const month = birthdayMonthOf(m.birthday);
    if (month === undefined || !f.birthdayMonth.includes(month)) return false;
  }
  if (f.purchasedPlatform && !(m.history?.orders ?? []).some((o) => f.purchasedPlatform!.includes(o.platform))) return false;
  if (f.tags && !tagMatches(f.tags, m.wechatTags)) return false;
  return true;
}

/** Whether the member belongs to the audience. */
export async function matches(f: AudienceFilter, m: FilterMember, ctx: FilterContext): Promise<boolean> {
  if (!matchesProfile(f, m, ctx)) return false;
  if (!f.purchasedSku) return true;
  if (!ctx.purchasedSkus) throw new Error('the filter names SKUs but the context cannot read orders');
  const skus = await ctx.purchasedSkus(m.memberId);
  return f.purchasedSku.some((s) => skus.has(s));
}
