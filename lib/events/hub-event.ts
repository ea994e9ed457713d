/**
 * HubEvent: the one normalised shape every platform input becomes before it touches the table.
 *
 * Adapters (lib/sources, lib/codes, lib/members) turn a verified platform payload
 * into HubEvents; `apply` (lib/apply) commits each one in a single DynamoDB transaction.
 *
 * Rules every adapter follows:
 * - `eventId` is the dedupe key and follows the platform's own duplicate semantics
 *   (WeChat: account + sender + MsgId for messages, account + sender + CreateTime + Event +
 *   EventKey for events; TMC / Youzan / JD: the platform message id). Two distinct events
 *   never share one; a redelivery always reproduces the same one.
 * - Platform ids are strings, never JS numbers (19-digit ids exceed 2^53).
 * - Money is integer fen; time is epoch milliseconds UTC.
 */
import * as z from 'zod';
import { PLATFORMS } from '../sources/platforms.ts';

export const IDENTITY_KINDS = [
  'wechat_openid', // value: `${appId}:${openid}`
  'wechat_unionid',
  'tmall_ouid',
  'tmall_omid',
  'tmall_buyer_open_uid',
  'jd_xid',
  'jd_open_id',
  'youzan_open_id',
  'youzan_outer_user_id', // value: `${kdtId}:${outer_user_id}` (an app Youzan is bound to that is not a configured WeChat app)
  'wecom_external_userid', // value: `${corpId}:${external_userid}` (the corp's own id of a WeCom customer)
  'phone', // value: HMAC-SHA256 hex of the normalised mobile number (lib/members/phone.ts)
] as const;
export const IdentityKind = z.enum(IDENTITY_KINDS);
export type IdentityKind = z.infer<typeof IdentityKind>;

export const Identity = z.object({
  kind: IdentityKind,
  value: z.string().min(1).max(256),
});
export type Identity = z.infer<typeof Identity>;

const platformId = z.string().min(1).max(128);
const epochMs = z.number().int().nonnegative();
const fen = z.number().int();

const base = {
  eventId: z.string().min(1).max(512),
  occurredAt: epochMs,
};

/**
 * A channel id: what marketing creates (POST /channels), what a WeChat QR carries as its scene
 * and what a code batch names. 1-64 characters of letters, digits and `_ . : -`: no `#` (the key
 * separator), no spaces, no control or formatting characters. One rule for every door.
 */
export const ChannelId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a channel id is 1-64 letters, digits and _ . : - (no #, spaces or control characters)');

const wechatBase = {
  ...base,
  source: z.literal('wechat'),
  appId: platformId,
  openid: platformId,
};

/** First follow or re-follow. `scene` is the channel id from `qrscene_<scene>`, null when organic. */
export const WechatFollow = z.object({
  ...wechatBase,
  type: z.literal('wechat.follow'),
  scene: ChannelId.nullable(),
  ticket: z.string().max(256).optional(),
});

/** An existing fan scanned a parametric QR (bare scene). */
export const WechatScan = z.object({
  ...wechatBase,
  type: z.literal('wechat.scan'),
  scene: ChannelId,
  ticket: z.string().max(256).optional(),
});

export const WechatUnfollow = z.object({ ...wechatBase, type: z.literal('wechat.unfollow') });

/** Messages and menu/location events: they only refresh the interaction window. */
export const WechatInteraction = z.object({
  ...wechatBase,
  type: z.literal('wechat.interaction'),
  kind: z.enum(['message', 'click', 'scancode', 'view', 'location']),
  msgType: z.string().min(1).max(64),
  msgId: z.string().max(64).optional(),
  detail: z.string().max(2048).optional(),
});

/** TEMPLATESENDJOBFINISH: the delivery receipt of a template message. */
export const WechatTemplateReceipt = z.object({
  ...wechatBase,
  type: z.literal('wechat.template_receipt'),
  msgId: z.string().min(1).max(64),
  status: z.enum(['delivered', 'user_blocked', 'failed']),
  rawStatus: z.string().max(128),
});

/**
 * MASSSENDJOBFINISH: the result of a mass send (`message/mass/send` / `sendall`), pushed once the
 * job ends (docs/platforms.md#wechat-mass-send-receipts). `status`: `send success` → sent,
 * `send fail` → failed, `err(<n>)` (the content review refused it) → rejected. The counts are
 * WeChat's: TotalCount addressed, FilterCount left after WeChat's filters (= SentCount + ErrorCount).
 */
export const WechatMassReceipt = z.object({
  ...wechatBase,
  type: z.literal('wechat.mass_receipt'),
  msgId: z.string().min(1).max(64),
  status: z.enum(['sent', 'failed', 'rejected']),
  rawStatus: z.string().max(128),
  totalCount: z.number().int().nonnegative(),
  filterCount: z.number().int().nonnegative(),
  sentCount: z.number().int().nonnegative(),
  errorCount: z.number().int().nonnegative(),
});

/**
 * Subscription-message events (docs/platforms.md#wechat-subscription-messages): `popup` (the
 * person accepted or rejected templates in the popup), `change` (turned one off in settings),
 * `sent` (the result of a subscription send). One item per template the push lists.
 */
export const WechatSubscription = z.object({
  ...wechatBase,
  type: z.literal('wechat.subscription'),
  action: z.enum(['popup', 'change', 'sent']),
  items: z
    .array(
      z.object({
        templateId: z.string().min(1).max(128),
        /** `accept` / `reject` (popup, change); `success` / … (sent: ErrorStatus). */
        status: z.string().min(1).max(64),
        popupScene: z.string().max(8).optional(),
        msgId: z.string().max(64).optional(),
        errorCode: z.string().max(16).optional(),
      }),
    )
    .min(1)
    .max(20),
});

/** A WeChat open-platform unionid: 1-128 characters of letters, digits, `_` and `-`. */
export const Unionid = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a unionid is 1-128 letters, digits, _ or -');

/**
 * WeChat named the unionid of an address (`cgi-bin/user/info` asked after a follow). Its own
 * event, applied after the follow: it links the address to the person across the brand's apps.
 * eventId `wechat:unionid:<appId>:<openid>:<unionid>`.
 */
export const WechatUnionid = z.object({
  ...wechatBase,
  type: z.literal('wechat.unionid'),
  unionid: Unionid,
  via: z.enum(['user_info']),
});

/** Anything WeChat may add later: recorded, answered `success`, never an error. */
export const WechatUnknown = z.object({
  ...wechatBase,
  type: z.literal('wechat.unknown'),
  msgType: z.string().max(64),
  event: z.string().max(64).optional(),
});

const wecomBase = {
  ...base,
  source: z.literal('wecom'),
  corpId: platformId,
};

/** The `change_external_contact` change types the hub applies (docs/platforms.md#wecom-callback-events). */
export const WECOM_CHANGE_TYPES = [
  'add_external_contact',
  'add_half_external_contact',
  'edit_external_contact',
  'del_external_contact',
  'del_follow_user',
  'transfer_fail',
] as const;

/**
 * A WeCom `change_external_contact` event: a staff member (`userId`) and a customer
 * (`externalUserId`) gained, changed or lost their contact. `state` is the contact way's state
 * (the channel id), `welcomeCode` the one-time code of send_welcome_msg (valid 20 s).
 * eventId `wecom:<corpId>:<ChangeType>|<UserID>|<ExternalUserID>|<CreateTime>`.
 */
export const WecomContact = z.object({
  ...wecomBase,
  type: z.literal('wecom.contact'),
  change: z.enum(WECOM_CHANGE_TYPES),
  userId: platformId,
  externalUserId: platformId,
  state: z.string().min(1).max(30).optional(),
  welcomeCode: z.string().min(1).max(256).optional(),
  /** del_external_contact: `DELETE_BY_TRANSFER` when a transfer removed the old relation. */
  deleteSource: z.string().max(64).optional(),
  /** transfer_fail: `customer_refused` / `customer_limit_exceed`. */
  failReason: z.string().max(64).optional(),
});

/**
 * WeCom named the unionid of a customer (`externalcontact/get` asked after an add): links the
 * WeCom customer to the person's WeChat records. eventId `wecom:unionid:<corpId>:<external_userid>:<unionid>`.
 */
export const WecomUnionid = z.object({
  ...wecomBase,
  type: z.literal('wecom.unionid'),
  externalUserId: platformId,
  unionid: Unionid,
});

/** Any other WeCom callback (messages, other events, other change types): recorded, answered `success`. */
export const WecomUnknown = z.object({
  ...wecomBase,
  type: z.literal('wecom.unknown'),
  msgType: z.string().max(64),
  event: z.string().max(64).optional(),
  changeType: z.string().max(64).optional(),
});

/** A real calendar day: `YYYY-MM-DD` (1900 to this year) or `MM-DD` (02-29 allowed). */
export function isCalendarBirthday(value: string): boolean {
  const m = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const year = m[1] === undefined ? 2000 : Number(m[1]); // 2000: a leap year, so MM-DD may be 02-29
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (m[1] !== undefined && (year < 1900 || year > new Date().getUTCFullYear())) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return month >= 1 && month <= 12 && d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
export const Birthday = z.string().refine(isCalendarBirthday, 'birthday is a real date, YYYY-MM-DD or MM-DD');

/**
 * How the phone of a registration was proven: the mini program's phone-number component
 * (exchanged with WeChat before the event exists), or an SMS code whose HMAC the commit
 * consumes (lib/apply/planners/register.ts).
 */
export const PhoneProof = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('wechat_phone_code') }),
  z.object({ kind: z.literal('sms'), codeHash: z.string().regex(/^[0-9a-f]{64}$/) }),
]);
export type PhoneProof = z.infer<typeof PhoneProof>;

/** A privacy-policy version as the member centre shows it (`2026-01`, `v3.2`). */
export const PolicyVersion = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a policy version is 1-32 letters, digits and _ . -');

/** The member centre's registration: the fan binds a phone (proven) and becomes a member. */
export const MemberRegister = z.object({
  ...base,
  source: z.literal('members'),
  type: z.literal('member.register'),
  appId: platformId,
  openid: platformId,
  phoneHash: z.string().regex(/^[0-9a-f]{64}$/),
  phoneMasked: z.string().max(32),
  proof: PhoneProof,
  /** The unionid WeChat gave with the caller's openid (OAuth of an account bound to an open platform, jscode2session). */
  unionid: Unionid.optional(),
  name: z.string().max(64).optional(),
  birthday: Birthday.optional(),
  /** The referral link it came through, as read by the member centre (lib/loyalty/referrals.ts). */
  referral: z.union([z.object({ referrerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }), z.object({ rejected: z.enum(['forged', 'expired']) })]).optional(),
  /** The privacy-policy version the person accepted on the form (docs/privacy.md#consent). */
  privacyPolicyVersion: PolicyVersion.optional(),
  /** The separate marketing consent given on the form; absent: not given (no marketing). */
  marketingConsent: z.boolean().optional(),
});

/** A member gives or withdraws the separate marketing consent (POST /me/consent). */
export const MemberConsentChange = z.object({
  ...base,
  source: z.literal('members'),
  type: z.literal('member.consent'),
  appId: platformId,
  openid: platformId,
  marketing: z.boolean(),
});

export const ORDER_STATUSES = ['created', 'paid', 'shipped', 'completed', 'closed', 'refunded'] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;
/** created < paid < shipped < completed; closed (never paid) and refunded are end states. */
export const STATUS_RANK: Record<OrderStatus, number> = {
  created: 10,
  paid: 20,
  shipped: 30,
  completed: 40,
  closed: 90,
  refunded: 90,
};

/** The commerce platforms: those of the webhook sources (lib/sources/platforms.ts, from SOURCES in lib/manifest.ts). */
export const Platform = z.enum(PLATFORMS);
export type Platform = z.infer<typeof Platform>;

export const OrderLine = z.object({
  lineId: platformId,
  sku: z.string().max(128).optional(),
  title: z.string().max(256).optional(),
  quantity: z.number().int().nonnegative(),
  paidFen: fen.nullable(),
});

const commerceBase = {
  ...base,
  source: Platform,
  platform: Platform,
  shopId: platformId,
  orderId: platformId,
  /** Every buyer key the platform gave; linked in the identity graph. */
  buyer: z.array(Identity).max(16),
};

/**
 * One sub-order's own state (Tmall topics that carry an `oid`: a sub-order closed, modified or
 * refunded). It never ends the whole trade by itself: the trade is derived from its sub-orders
 * (lib/apply/planners/orders.ts), and money moves only by the refund it names.
 */
export const SubOrderState = z.object({
  lineId: platformId,
  status: OrderStatus,
  platformStatus: z.string().max(64),
  /** The sub-order's refund when the message names one: recorded once per refundId in the refund ledger. */
  refundId: platformId.optional(),
  refundFen: fen.nonnegative().optional(),
});
export type SubOrderState = z.infer<typeof SubOrderState>;

export const OrderEvent = z.object({
  ...commerceBase,
  type: z.literal('order'),
  /** The trade's status; with `subOrder`, the sub-order's (the trade's own is derived). */
  status: OrderStatus,
  platformStatus: z.string().max(64),
  totalFen: fen.nonnegative(),
  paidFen: fen.nonnegative(),
  paidAt: epochMs.optional(),
  lines: z.array(OrderLine).max(200),
  topic: z.string().max(128),
  subOrder: SubOrderState.optional(),
  /**
   * Coupon / code numbers the platform reports as used on the order (Youzan
   * `order_promotion.order[].coupon_id`): a hub coupon among them is marked redeemed by the order
   * (lib/loyalty/coupons.ts).
   */
  couponCodes: z.array(z.string().min(1).max(64)).max(20).optional(),
});

export const RefundEvent = z.object({
  ...commerceBase,
  type: z.literal('refund'),
  refundId: platformId,
  status: z.enum(['requested', 'succeeded', 'closed']),
  refundFen: fen.nonnegative(),
  topic: z.string().max(128),
});

/**
 * A platform-side membership join: a shop-CRM join (TMC `taobao_opencrm_MemberJoinPrivate`) links
 * identities; a Tmall 会员通 bind or register (lib/apply/tmall-mei.ts) also carries the phone's
 * HMAC and makes the person a member of the brand's programme (`membership`).
 */
export const PlatformMemberJoin = z.object({
  ...base,
  source: Platform,
  type: z.literal('platform.member_join'),
  platform: Platform,
  shopId: platformId,
  buyer: z.array(Identity).min(1).max(16),
  phoneHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  phoneMasked: z.string().max(16).optional(),
  membership: z.literal(true).optional(),
});

/** A verified one-code-per-item scan (the code's signature was checked before this exists). */
export const CodeScan = z.object({
  ...base,
  source: z.literal('codes'),
  type: z.literal('code.scan'),
  appId: platformId,
  openid: platformId,
  code: z.string().min(1).max(64),
  batchId: z.string().min(1).max(64),
  serial: z.number().int().nonnegative(),
});

export const HubEvent = z.discriminatedUnion('type', [
  WechatFollow,
  WechatScan,
  WechatUnfollow,
  WechatInteraction,
  WechatTemplateReceipt,
  WechatMassReceipt,
  WechatSubscription,
  WechatUnknown,
  WechatUnionid,
  WecomContact,
  WecomUnknown,
  WecomUnionid,
  MemberRegister,
  MemberConsentChange,
  OrderEvent,
  RefundEvent,
  PlatformMemberJoin,
  CodeScan,
]);
export type HubEvent = z.infer<typeof HubEvent>;
export type HubEventOf<T extends HubEvent['type']> = Extract<HubEvent, { type: T }>;
export type WechatEvent = HubEventOf<
  | 'wechat.follow'
  | 'wechat.scan'
  | 'wechat.unfollow'
  | 'wechat.interaction'
  | 'wechat.template_receipt'
  | 'wechat.mass_receipt'
  | 'wechat.subscription'
  | 'wechat.unknown'
  | 'wechat.unionid'
>;
export type WecomEvent = HubEventOf<'wecom.contact' | 'wecom.unknown' | 'wecom.unionid'>;
export type CommerceEvent = HubEventOf<'order' | 'refund' | 'platform.member_join'>;
