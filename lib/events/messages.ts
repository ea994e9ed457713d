/**
 * The messages engagement rules plan: what the outbox stores and what the engagement queue
 * carries (one OutboxRow per message, JSON). Pure types and the queue body's schema.
 */
import * as z from 'zod';

/**
 * The engagement-queue row that asks `cgi-bin/user/info` for a new follower's unionid (planned
 * by the follow, handled by lib/apply/unionid.ts, never sent to the person).
 */
export const UNIONID_LOOKUP_RULE = 'unionid_lookup';

/**
 * The engagement-queue row that asks TOP `taobao.trade.simple.get` for a Tmall trade's `ouid`
 * when the trade was applied without it (a relayed or reconciled message; planned by the order,
 * handled by lib/apply/tmall-detail.ts, never sent to the person). Payload `{shopId, tid, buyerOpenUid}`.
 */
export const TMALL_DETAIL_RULE = 'tmall_detail_lookup';

/**
 * The engagement-queue row that puts a WeChat user tag on a member's address (planned when a
 * `tagSync` rule's segment holds the member, handled by lib/engagement/tags.ts, never sent).
 */
export const TAG_SYNC_RULE = 'wechat_tag_sync';

/**
 * The engagement-queue row that asks WeCom `externalcontact/get` for a new contact's unionid
 * (planned by the first add, handled by lib/apply/unionid.ts; `appId` carries the corp id,
 * `openid` the external_userid).
 */
export const WECOM_CONTACT_LOOKUP_RULE = 'wecom_contact_lookup';

/**
 * The engagement-queue row that sends a WeCom add's welcome (`externalcontact/send_welcome_msg`,
 * planned by an add that carries a WelcomeCode, handled by lib/wecom/welcome.ts). Payload
 * `{welcomeCode, text, userId}`; `appId` carries the corp id, `openid` the external_userid.
 */
export const WECOM_WELCOME_RULE = 'wecom_welcome';

/**
 * The engagement-queue row of one page of an audience's exact count or of a campaign's planning
 * (lib/audiences/pages.ts; payload: the page job). Handled by the engagement sender, never sent.
 */
export const AUDIENCE_PAGE_RULE = 'audience_page';

export type MessageClass = 'transactional' | 'marketing';
export type Destination = 'member' | 'staff';

export interface PlannedMessage {
  memberId: string;
  ruleId: string;
  /** Distinguishes several messages of one rule for one member (ladder step, order id, lot). */
  step: string;
  class: MessageClass;
  destination: Destination;
  /** What the sender renders: template variables, text, coupon, etc. */
  payload: Record<string, unknown>;
  /** WeChat addressing for member messages. */
  appId?: string;
  openid?: string;
  /** When the triggering event happened (the interaction window is measured from it). */
  triggeredAt: number;
}

export interface OutboxRow extends PlannedMessage {
  messageId: string;
  createdAt: number;
  enqueuedAt?: number;
}

/** The engagement queue's message body (an OutboxRow). */
export const OutboxRowSchema = z.object({
  messageId: z.string().min(1).max(256),
  memberId: z.string().min(1),
  ruleId: z.string().min(1),
  step: z.string(),
  class: z.enum(['transactional', 'marketing']),
  destination: z.enum(['member', 'staff']),
  payload: z.record(z.string(), z.unknown()),
  appId: z.string().min(1).optional(),
  openid: z.string().min(1).optional(),
  triggeredAt: z.number().finite(),
  createdAt: z.number().finite().optional(),
  enqueuedAt: z.number().finite().optional(),
});
