/**
 * Engagement rules as pure functions: a trigger (what happened) and the member as it is now →
 * the messages to plan and the due-work rows to schedule. No I/O, no clock: everything a rule
 * needs comes in its arguments. lib/engagement/rules/plan.ts writes the output into an event's
 * transaction; lib/engagement/due.ts fires due rows through the same rules.
 */
import type * as z from 'zod';
import type { RulesConfig } from '../../config/rules.ts';
import type { Destination, MessageClass, PlannedMessage } from '../../events/messages.ts';
import type { StoredMember } from '../../members/record.ts';
import type { CouponGrant } from '../../loyalty/coupons.ts';

export type DueKind = 'repurchase' | 'lapse' | 'birthday';

/** A due-work row (lib/store/entities/due.ts), found by the nudge sweep on its local day. */
export interface DueRow {
  memberId: string;
  kind: DueKind;
  key: string;
  dueAt: number;
  /** Step data (ladder step index, the order that started it, the year of a birthday). */
  data: Record<string, unknown>;
}

export type TriggerKind = 'first_follow' | 'first_registration' | 'points_earned' | 'paid_order' | 'due' | 'lots_expiring';

export type Trigger =
  /** A person's first follow; `scene` null or absent when organic, `channelText` the channel's own welcome. */
  | { kind: 'first_follow'; appId: string; openid: string; at: number; scene?: string | null; channelText?: string }
  | { kind: 'first_registration'; appId: string; openid: string; at: number; birthday?: string }
  | { kind: 'points_earned'; cause: 'scan' | 'order'; ref: string; points: number; at: number }
  /** A paid order newly counted in the member's history (already pushed into it). */
  | { kind: 'paid_order'; orderRef: string; paidAt: number }
  /** A due row whose time has come. */
  | { kind: 'due'; row: DueRow }
  /** The member has lots expiring on `expiryDay` (local). */
  | { kind: 'lots_expiring'; expiryDay: string; now: number };

export type TriggerOf<K extends TriggerKind> = Extract<Trigger, { kind: K }>;

/** What rules read besides their own configuration. */
export interface RuleEnv {
  tz: string;
  memberCentreUrl: string;
}

export interface RuleOutput {
  messages: PlannedMessage[];
  due: DueRow[];
  /** Text to answer the triggering WeChat push with (a passive reply) instead of a message. */
  reply?: string;
  /** A due row that no longer applies: why (recorded on the row). */
  cancelled?: string;
  /** Coupons to issue to the member with the messages (a ladder step, a birthday): the nudge sweep issues them. */
  coupons?: CouponGrant[];
}

/** The member as rules see it. */
export type RuleMember = Pick<StoredMember, 'memberId' | 'wechat' | 'tier' | 'points' | 'gmvFen' | 'history' | 'birthday'>;

export type RuleConfigKey = keyof RulesConfig;

/** One registry entry. */
export interface Rule<K extends RuleConfigKey = RuleConfigKey> {
  /** The ruleId on outbox rows, send records and suppressions. */
  readonly id: string;
  readonly class: MessageClass;
  readonly destination: Destination;
  /** The trigger that starts the rule. */
  readonly trigger: Exclude<TriggerKind, 'due'>;
  /** The due rows the rule schedules and fires, if any. */
  readonly dueKind?: DueKind;
  /** Its slice of the rule set (HUB_RULES_FILE). */
  readonly configKey: K;
  readonly configSchema: z.ZodType<RulesConfig[K]>;
  /** Pure; a rule whose trigger it does not handle answers NOTHING. */
  run(t: Trigger, m: RuleMember, cfg: RulesConfig[K], env: RuleEnv): RuleOutput;
}

export type AnyRule = { [K in RuleConfigKey]: Rule<K> }[RuleConfigKey];

export const NOTHING: RuleOutput = Object.freeze({ messages: [], due: [] }) as RuleOutput;

export const defineRule = <K extends RuleConfigKey>(rule: Rule<K>): Rule<K> => rule;

/** The fields every message of a due row carries (addressed to the member's WeChat, if any). */
export const dueBase = (row: DueRow, m: RuleMember) => ({ memberId: m.memberId, triggeredAt: row.dueAt, appId: m.wechat?.appId, openid: m.wechat?.openid });
