/**
 * The one configuration root: every setting the hub reads (flat, named as in
 * docs/design.md#configuration) and the trees built from them once at load (lib/config/load.ts):
 * the engagement rules, the engagement policy and the member programme rules. Also the secret
 * names and their groups (one Secrets Manager secret per group in AWS).
 */
import * as z from 'zod';
import type { EngagementPolicy } from './engagement.ts';
import type { MemberRules } from './members.ts';
import type { RulesConfig } from './rules.ts';
import type { WechatApp } from './wechat-apps.ts';

export const SECRET_KEYS = [
  'HUB_ADMIN_TOKEN',
  'WECHAT_TOKEN',
  'WECHAT_AES_KEY',
  'WECHAT_APP_SECRET',
  'TMALL_APP_SECRET',
  'JD_APP_SECRET',
  'YOUZAN_CLIENT_SECRET',
  'CODE_SIGNING_SECRET',
  'PHONE_HASH_SECRET',
  'HUB_OTP_SECRET',
  'TENCENT_SMS_SECRET_ID',
  'TENCENT_SMS_SECRET_KEY',
  'WECOM_ALERT_WEBHOOK_URL',
  'TMALL_SESSION_KEY',
  // The further WeChat apps (lib/config/wechat-apps.ts) and the member session key.
  'HUB_WECHAT_APPS',
  'HUB_SESSION_SECRET',
  // WeCom (企业微信) customer contact: callback token and key, the customer-contact and app secrets.
  'WECOM_TOKEN',
  'WECOM_AES_KEY',
  'WECOM_CONTACT_SECRET',
  'WECOM_AGENT_SECRET',
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/**
 * In AWS the secrets are split into one Secrets Manager secret per group, and a function is
 * given (HUB_SECRET_ARNS, JSON `{group: arn}`) only the groups lib/manifest.ts declares for it.
 * Every SECRET_KEYS entry belongs to exactly one group. `keys` holds the hub's own signing and
 * hashing keys: losing it makes every printed code and stored phone hash unverifiable.
 */
export const SECRET_GROUPS = {
  // HUB_WECHAT_APPS: every further account's and mini program's token, key and AppSecret (lib/config/wechat-apps.ts).
  wechat: ['WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET', 'HUB_WECHAT_APPS'],
  tmall: ['TMALL_APP_SECRET', 'TMALL_SESSION_KEY'],
  jd: ['JD_APP_SECRET'],
  youzan: ['YOUZAN_CLIENT_SECRET'],
  sms: ['TENCENT_SMS_SECRET_ID', 'TENCENT_SMS_SECRET_KEY'],
  keys: ['CODE_SIGNING_SECRET', 'PHONE_HASH_SECRET', 'HUB_OTP_SECRET', 'HUB_SESSION_SECRET'],
  admin: ['HUB_ADMIN_TOKEN'],
  // The WeCom group-robot webhook (its `key` is the credential) that alarm-forwarder posts alarms to.
  alerts: ['WECOM_ALERT_WEBHOOK_URL'],
  // The brand's WeCom self-built app: callback token and EncodingAESKey, customer-contact and app secrets.
  wecom: ['WECOM_TOKEN', 'WECOM_AES_KEY', 'WECOM_CONTACT_SECRET', 'WECOM_AGENT_SECRET'],
} as const satisfies Record<string, readonly SecretKey[]>;
export type SecretGroup = keyof typeof SECRET_GROUPS;
export const SECRET_GROUP_NAMES = Object.keys(SECRET_GROUPS) as SecretGroup[];

/** The groups named by a HUB_SECRET_ARNS value (`{group: arn}`); throws on anything else. */
export function parseSecretArns(value: string): Partial<Record<SecretGroup, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('HUB_SECRET_ARNS is not JSON');
  }
  const result = z.partialRecord(z.enum(SECRET_GROUP_NAMES), z.string().min(1)).safeParse(parsed);
  if (!result.success) throw new Error(`HUB_SECRET_ARNS must map secret groups (${SECRET_GROUP_NAMES.join(', ')}) to ARNs`);
  return result.data;
}

/** The value the stack writes into the secret until an operator fills it in. */
export const SECRET_PLACEHOLDER = 'REPLACE_ME';

const intFrom = (def: number) => z.coerce.number().int().nonnegative().default(def);
/** What a deployed WECHAT_TOKEN must be (checked at load, where the local default is known). */
export const WECHAT_TOKEN_PATTERN = /^[A-Za-z0-9]{16,32}$/;
const AES_KEY = /^[A-Za-z0-9]{43}$/;
/** Largest webhook window outside the local runtime (which may widen it to replay history). */
export const MAX_DEPLOYED_SKEW_SECONDS = 3600;
/** Largest window at all: the local runtime may replay years of simulated or recorded history. */
export const LOCAL_MAX_SKEW_SECONDS = 20 * 366 * 86_400;

export const SettingsSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535),
  HUB_ADMIN_TOKEN: z.string().min(8),
  HUB_TIMEZONE: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'unknown IANA time zone'),
  /** The default official account (the single-account shorthand; HUB_WECHAT_APPS adds more). */
  WECHAT_APP_ID: z.string().min(1),
  /** 16-32 letters or digits (checked in loadConfig, where the local default is known). Absent when HUB_WECHAT_APPS carries WECHAT_APP_ID's entry. */
  WECHAT_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'letters and digits, at most 32').optional(),
  /**
   * `safe` (default): the account has an EncodingAESKey and accepts only pushes whose
   * msg_signature over the ciphertext holds (WeChat's compatible and safe modes). `plain`: no
   * key; pushes are authenticated by `signature` alone and a nonce cache refuses a captured URL
   * replayed with another body.
   */
  WECHAT_MESSAGE_MODE: z.enum(['safe', 'plain']).default('safe'),
  WECHAT_AES_KEY: z.string().regex(AES_KEY, 'must be 43 characters of [A-Za-z0-9]').optional(),
  WECHAT_APP_SECRET: z.string().min(1).optional(),
  /**
   * The brand's WeChat estate: a JSON array `[{appId, kind: "official" | "miniprogram", name,
   * token?, aesKey?, appSecret}]` (lib/config/wechat-apps.ts), the single-account names merged in.
   */
  HUB_WECHAT_APPS: z.string().optional(),
  /**
   * The appids the stage deploys, comma-separated (set by the stack from the stage settings): the
   * configured apps must be exactly these, so a secret missing an app fails the cold start.
   */
  HUB_WECHAT_APP_IDS: z.string().regex(/^[A-Za-z0-9_-]{2,32}(,[A-Za-z0-9_-]{2,32})*$/, 'comma-separated appids').optional(),
  /** HMAC key of member sessions (POST /sessions, GET /me); at least 32 characters; no default in AWS. */
  HUB_SESSION_SECRET: z.string().min(32).optional(),
  /** Lifetime of a member session token in seconds (default 2 h, at most 24 h). */
  HUB_SESSION_TTL_SECONDS: intFrom(7200).pipe(z.number().min(60).max(86_400)),
  WECHAT_STANDIN_PORT: z.coerce.number().int().min(1).max(65535),
  WECHAT_API_BASE: z.string().url(),
  /**
   * WeCom (企业微信) customer contact (docs/platforms.md#wecom-customer-contact). Without
   * WECOM_CORP_ID the /wecom/{corpId} callback answers 404 and nothing calls WeCom.
   */
  WECOM_CORP_ID: z.string().regex(/^[A-Za-z0-9_-]{2,64}$/, 'the corp id (ww… or wx…)').optional(),
  /** The callback Token: letters or digits, at most 32. Required with WECOM_CORP_ID. */
  WECOM_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'letters and digits, at most 32').optional(),
  /** The callback EncodingAESKey. Required with WECOM_CORP_ID. */
  WECOM_AES_KEY: z.string().regex(AES_KEY, 'must be 43 characters of [A-Za-z0-9]').optional(),
  /** The customer-contact secret (or the secret of a self-built app listed under 客户联系 可调用接口的应用). */
  WECOM_CONTACT_SECRET: z.string().min(1).optional(),
  /** The self-built app that sends staff alerts (message/send): its agentid and secret. */
  WECOM_AGENT_ID: z.string().regex(/^\d{1,12}$/, 'digits (the app agentid)').optional(),
  WECOM_AGENT_SECRET: z.string().min(1).optional(),
  /**
   * Staff members (WeCom userids, comma-separated) who receive a staff alert about a member
   * without a current guide (lib/wecom/staff-alerts.ts); none: such an alert is recorded, not sent.
   */
  WECOM_STAFF_FALLBACK_USERIDS: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}(,[A-Za-z0-9_.@-]{1,64}){0,99}$/, 'comma-separated WeCom userids (at most 100)').optional(),
  /** WeCom server API base (gettoken, externalcontact/*). Locally the stand-in, which answers WeCom's paths too. */
  WECOM_API_BASE: z.string().url(),
  TMALL_APP_KEY: z.string().min(1),
  TMALL_APP_SECRET: z.string().min(1),
  JD_APP_KEY: z.string().min(1),
  JD_APP_SECRET: z.string().min(1),
  YOUZAN_CLIENT_ID: z.string().min(1),
  YOUZAN_CLIENT_SECRET: z.string().min(1),
  CODE_SIGNING_SECRET: z.string().min(16),
  PHONE_HASH_SECRET: z.string().min(16),
  /** HMAC key of the SMS one-time codes stored while they are valid. */
  HUB_OTP_SECRET: z.string().min(16),
  /** `tencent` (Tencent Cloud SMS), `standin` (local runtime only) or `none` (no SMS codes). */
  SMS_PROVIDER: z.enum(['tencent', 'standin', 'none']).default('none'),
  TENCENT_SMS_SECRET_ID: z.string().min(1).optional(),
  TENCENT_SMS_SECRET_KEY: z.string().min(1).optional(),
  /** WeCom group-robot webhook for alarms (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…); only alarm-forwarder reads it. */
  WECOM_ALERT_WEBHOOK_URL: z.url({ protocol: /^https$/ }).optional(),
  TENCENT_SMS_SDK_APP_ID: z.string().regex(/^\d{5,20}$/, 'digits (e.g. 1400006666)').optional(),
  /** The approved signature text (签名内容), not its id. */
  TENCENT_SMS_SIGN_NAME: z.string().min(1).max(64).optional(),
  /** An approved verification-code template with two variables: the code and its minutes. */
  TENCENT_SMS_TEMPLATE_ID: z.string().regex(/^\d{1,20}$/, 'digits').optional(),
  TENCENT_SMS_REGION: z.string().regex(/^[a-z]+-[a-z]+(-\d+)?$/).default('ap-guangzhou'),
  TENCENT_SMS_ENDPOINT: z.string().url().default('https://sms.tencentcloudapi.com'),
  /** SMS codes sent per phone / per WeChat user per local day (and at most one a minute). */
  HUB_OTP_SENDS_PER_PHONE_DAY: intFrom(5).pipe(z.number().min(1).max(50)),
  HUB_OTP_SENDS_PER_OPENID_DAY: intFrom(10).pipe(z.number().min(1).max(100)),
  /** Window of every signed push: request timestamp vs server clock, and WeChat CreateTime vs timestamp. */
  HUB_WEBHOOK_MAX_SKEW_SECONDS: intFrom(300).pipe(z.number().min(30).max(LOCAL_MAX_SKEW_SECONDS)),
  /** Largest order or refund amount accepted from a platform (default ¥1,000,000). */
  HUB_ORDER_MAX_FEN: intFrom(100_000_000).pipe(z.number().min(100)),
  /** Name of the single table. */
  HUB_TABLE: z.string().min(3).default('scrm-hub'),
  /** Queue URLs (set by the stack or the local runtime). */
  ENGAGEMENT_QUEUE_URL: z.string().default(''),
  STAFF_QUEUE_URL: z.string().default(''),
  /** Shards per channel-day counter (write spreading for a viral QR). */
  HUB_COUNTER_SHARDS: intFrom(4).pipe(z.number().min(1).max(64)),
  /** Points per yuan paid. */
  HUB_POINTS_PER_YUAN: intFrom(1),
  /** Dedupe marker lifetime. */
  HUB_DEDUPE_TTL_DAYS: intFrom(30).pipe(z.number().min(1)),
  /**
   * Retention (docs/privacy.md#retention). A fan who never registered and has unfollowed every
   * account is erased this many days after the last unfollow (lib/privacy/fan-retention.ts).
   */
  HUB_FAN_RETENTION_DAYS: intFrom(30).pipe(z.number().min(1).max(3650)),
  /** Send records and suppression rows (what was sent or held back, and why) expire after this many days. */
  HUB_MESSAGE_RETENTION_DAYS: intFrom(180).pipe(z.number().min(7).max(3650)),
  /** Refusals kept for review (limited scans, phones bound elsewhere, refunds above the amount paid). */
  HUB_REFUSAL_RETENTION_DAYS: intFrom(180).pipe(z.number().min(1).max(3650)),
  /** Audit entries of exports and erasures (who, when, why; member id only). */
  HUB_AUDIT_RETENTION_DAYS: intFrom(1095).pipe(z.number().min(30).max(3650)),
  /** Code scans: redemptions per openid per local day; velocity window and its maximum. */
  HUB_SCAN_DAILY_LIMIT: intFrom(20).pipe(z.number().min(1)),
  HUB_SCAN_BURST_LIMIT: intFrom(5).pipe(z.number().min(1)),
  HUB_SCAN_BURST_WINDOW_SECONDS: intFrom(600).pipe(z.number().min(1)),
  /** Serials close to each other redeemed by one openid that count as harvesting. */
  HUB_SCAN_SEQUENTIAL_LIMIT: intFrom(3).pipe(z.number().min(2)),
  /** Invalid code attempts per openid and per source IP per local day before scans answer `limited`. */
  HUB_SCAN_INVALID_LIMIT: intFrom(30).pipe(z.number().min(1)),
  /** TOP API (TMC pull). Locally the TOP stand-in. */
  TOP_API_BASE: z.string().default('http://127.0.0.1:3002/router/rest'),
  TOP_STANDIN_PORT: intFrom(3002),
  /**
   * The seller's authorised session key (TOP `session`): the trade searches and detail calls act
   * as the seller. Secret (group tmall). Without it the Tmall reconciliation is skipped (logged).
   */
  TMALL_SESSION_KEY: z.string().min(1).optional(),
  /** The seller's user id (the TMC messages' `user_id`): the shop the reconciled trades belong to. */
  TMALL_SELLER_ID: z.string().regex(/^\d{1,20}$/, 'digits (the TMC user_id)').optional(),
  /**
   * The Tmall 会员通 SPI door (POST /tmall/mei/{appKey}, lib/apply/tmall-mei.ts). Off by default:
   * the bind/register field lists and the answer envelope are not confirmed by the platform's
   * documentation (docs/platforms.md#tmall-mei-spi); switch it on only after checking them
   * against the 会员通 console's test calls. Off → 404.
   */
  TMALL_MEI_SPI_ENABLED: z.enum(['true', 'false']).default('false'),
  /** Youzan Cloud API gateway (token and `youzan.trades.sold.get`). Locally the Youzan stand-in. */
  YOUZAN_API_BASE: z.string().url(),
  YOUZAN_STANDIN_PORT: intFrom(3003),
  /** The shop (`kdt_id`, the token's `grant_id`) the Youzan reconciliation reads. Without it that poll is skipped. */
  YOUZAN_KDT_ID: z.string().regex(/^\d{1,20}$/, 'digits (the shop kdt_id)').optional(),
  /**
   * The configured WeChat app Youzan is bound to, if any: a Youzan `outer_user_id` is an openid of
   * THAT app only when this names it; otherwise it is kept as a Youzan-scoped identity.
   */
  YOUZAN_WECHAT_APP_ID: z.string().min(1).optional(),
  /** Points a referrer earns per referred person who registers (老带新; 0: none). */
  HUB_REFERRAL_POINTS: intFrom(100).pipe(z.number().min(0).max(100_000)),
  /** Referred people per referrer and local month who earn the referrer points (more are recorded, not paid). */
  HUB_REFERRAL_MONTHLY_CAP: intFrom(10).pipe(z.number().min(0).max(10_000)),
  /** Lifetime of a member's signed referral link (days). */
  HUB_REFERRAL_TOKEN_TTL_DAYS: intFrom(30).pipe(z.number().min(1).max(30)),
  /** Extra member-centre link used in welcome messages. */
  HUB_MEMBER_CENTRE_URL: z.string().default('https://example.com/member'),
  /** A JSON file overriding parts of the engagement rules (lib/config/rules.ts); read at load. */
  HUB_RULES_FILE: z.string().optional(),
  /** JSON object of engagement policy fields (lib/config/engagement.ts). */
  HUB_ENGAGEMENT_POLICY: z.string().optional(),
  /** JSON objects of the member programme rules (lib/config/members.ts). */
  HUB_TIER_THRESHOLDS_FEN: z.string().optional(),
  HUB_LIFECYCLE_DAYS: z.string().optional(),
  HUB_RFM_CUTS: z.string().optional(),
  /** Firehose delivery streams of the archive (set by the stack; lib/archive, stacks/archive.ts). */
  HUB_ARCHIVE_REQUESTS_STREAM: z.string().min(1).max(64).optional(),
  HUB_ARCHIVE_EVENTS_STREAM: z.string().min(1).max(64).optional(),
  /** The longest a webhook waits, after its answer is ready, for its archive records still in flight (ms; 0: never). */
  HUB_ARCHIVE_MAX_WAIT_MS: intFrom(150).pipe(z.number().max(2000)),
});
export type Settings = z.output<typeof SettingsSchema>;

/** The configuration every part of the hub reads: loaded once, frozen, passed down. */
export type HubConfig = Readonly<Omit<Settings, 'WECHAT_TOKEN' | 'WECHAT_APP_SECRET'>> & {
  /** The default official account's token and AppSecret (WECHAT_APP_ID's, from the shorthand or its HUB_WECHAT_APPS entry). */
  readonly WECHAT_TOKEN: string;
  readonly WECHAT_APP_SECRET: string;
  /** Every official account and mini program (lib/config/wechat-apps.ts), the default account first. */
  readonly wechatApps: readonly Readonly<WechatApp>[];
  /** DEFAULT_RULES with the JSON file HUB_RULES_FILE over it. */
  readonly rules: Readonly<RulesConfig>;
  /** HUB_ENGAGEMENT_POLICY over DEFAULT_POLICY. */
  readonly policy: Readonly<EngagementPolicy>;
  /** HUB_TIER_THRESHOLDS_FEN, HUB_LIFECYCLE_DAYS, HUB_RFM_CUTS over their defaults. */
  readonly memberRules: Readonly<MemberRules>;
};
