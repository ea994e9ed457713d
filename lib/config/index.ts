/**
 * Configuration: the names in docs/design.md#configuration are a fixed interface. Locally
 * every value comes from the environment with the embedded defaults below; in AWS the secret
 * ones come from Secrets Manager: one secret per group of SECRET_GROUPS (JSON with the same keys),
 * named by HUB_SECRET_ARNS (`{group: arn}`), or a single secret named by HUB_SECRET_ARN (see secrets.ts).
 *
 * Fail closed (docs/security.md):
 * - a variable that is set but empty or blank is a start-up error naming it, never a fallback;
 * - the embedded defaults apply only when a variable is absent AND the process is the local
 *   runtime (not inside Lambda);
 * - in Lambda a function needs every secret its settings require from the groups it is given
 *   (HUB_SECRET_ARNS; all of them with HUB_SECRET_ARN), and none may still hold the stack's placeholder: otherwise the cold start fails
 *   (secrets.ts `coldStart`), never a request;
 * - every secret is validated by the one schema below at start (the WeChat EncodingAESKey is 43
 *   characters of [A-Za-z0-9]; WECHAT_TOKEN is 16-32 letters or digits, the official example
 *   token of the local defaults being the one exception);
 * - the start banner shows a secret's length and the first 8 hex digits of its SHA-256, never
 *   its characters.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';

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
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/**
 * In AWS the secrets are split into one Secrets Manager secret per group, and a function is
 * given (HUB_SECRET_ARNS, JSON `{group: arn}`) only the groups lib/manifest.ts declares for it.
 * Every SECRET_KEYS entry belongs to exactly one group. `keys` holds the hub's own signing and
 * hashing keys: losing it makes every printed code and stored phone hash unverifiable.
 */
export const SECRET_GROUPS = {
  wechat: ['WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET'],
  tmall: ['TMALL_APP_SECRET'],
  jd: ['JD_APP_SECRET'],
  youzan: ['YOUZAN_CLIENT_SECRET'],
  sms: ['TENCENT_SMS_SECRET_ID', 'TENCENT_SMS_SECRET_KEY'],
  keys: ['CODE_SIGNING_SECRET', 'PHONE_HASH_SECRET', 'HUB_OTP_SECRET'],
  admin: ['HUB_ADMIN_TOKEN'],
  // The WeCom group-robot webhook (its `key` is the credential) that alarm-forwarder posts alarms to.
  alerts: ['WECOM_ALERT_WEBHOOK_URL'],
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

/** Local defaults: fixed so `npm start` works on a fresh machine. Never used inside Lambda. */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  HUB_ADMIN_TOKEN: 'local-admin-token',
  HUB_TIMEZONE: 'Asia/Shanghai',
  WECHAT_APP_ID: 'wx5823bf96d3bd56c7',
  // The official WXBizMsgCrypt example token: shorter than a real deployment may use.
  WECHAT_TOKEN: 'QDG6eK',
  // 43 chars, the official WXBizMsgCrypt example key.
  WECHAT_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  WECHAT_APP_SECRET: 'local-wechat-app-secret',
  WECHAT_STANDIN_PORT: '3001',
  TMALL_APP_KEY: '12345678',
  TMALL_APP_SECRET: 'helloworld',
  JD_APP_KEY: 'jd-local-app-key',
  JD_APP_SECRET: 'jd-local-app-secret',
  YOUZAN_CLIENT_ID: 'youzan-local-client',
  YOUZAN_CLIENT_SECRET: 'youzan-local-secret',
  CODE_SIGNING_SECRET: 'local-code-signing-secret-change-me',
  PHONE_HASH_SECRET: 'local-phone-hash-secret-change-me',
  HUB_OTP_SECRET: 'local-otp-secret-change-me',
  SMS_PROVIDER: 'standin',
} as const;

const intFrom = (def: number) => z.coerce.number().int().nonnegative().default(def);
const WECHAT_TOKEN = /^[A-Za-z0-9]{16,32}$/;
const AES_KEY = /^[A-Za-z0-9]{43}$/;
/** Largest webhook window outside the local runtime (which may widen it to replay history). */
export const MAX_DEPLOYED_SKEW_SECONDS = 3600;
/** Largest window at all: the local runtime may replay years of simulated or recorded history. */
export const LOCAL_MAX_SKEW_SECONDS = 20 * 366 * 86_400;

const ConfigSchema = z.object({
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
  WECHAT_APP_ID: z.string().min(1),
  /** 16-32 letters or digits (checked in loadConfig, where the local default is known). */
  WECHAT_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'letters and digits, at most 32'),
  /**
   * `safe` (default): the account has an EncodingAESKey and accepts only pushes whose
   * msg_signature over the ciphertext holds (WeChat's compatible and safe modes). `plain`: no
   * key; pushes are authenticated by `signature` alone and a nonce cache refuses a captured URL
   * replayed with another body.
   */
  WECHAT_MESSAGE_MODE: z.enum(['safe', 'plain']).default('safe'),
  WECHAT_AES_KEY: z.string().regex(AES_KEY, 'must be 43 characters of [A-Za-z0-9]').optional(),
  WECHAT_APP_SECRET: z.string().min(1),
  WECHAT_STANDIN_PORT: z.coerce.number().int().min(1).max(65535),
  WECHAT_API_BASE: z.string().url(),
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
  /** Extra member-centre link used in welcome messages. */
  HUB_MEMBER_CENTRE_URL: z.string().default('https://example.com/member'),
});
export type HubConfig = z.infer<typeof ConfigSchema>;
/** A config name; any other environment variable is not this module's business. */
const CONFIG_NAMES = new Set<string>(Object.keys(ConfigSchema.shape));

/** Non-secret defaults that hold everywhere (also in Lambda). */
const EVERYWHERE = { PORT: '3000', HUB_TIMEZONE: 'Asia/Shanghai', WECHAT_STANDIN_PORT: '3001' } as const;

/** The secrets these settings need (the others may be absent). */
export function requiredSecrets(settings: { WECHAT_MESSAGE_MODE?: string; SMS_PROVIDER?: string }): SecretKey[] {
  return SECRET_KEYS.filter((k) => {
    if (k === 'WECHAT_AES_KEY') return settings.WECHAT_MESSAGE_MODE !== 'plain';
    if (k === 'TENCENT_SMS_SECRET_ID' || k === 'TENCENT_SMS_SECRET_KEY') return settings.SMS_PROVIDER === 'tencent';
    // Checked by the one function that posts alarms (functions/alarm-forwarder.ts).
    if (k === 'WECOM_ALERT_WEBHOOK_URL') return false;
    return true;
  });
}

/**
 * Reads configuration from an env-like record. Locally (`local` true: not inside Lambda) the
 * embedded defaults fill anything absent. In Lambda only non-secret defaults apply: platform
 * ids come from the stack, secrets from Secrets Manager (lib/config/secrets.ts). A function
 * given the secret (HUB_SECRET_ARN set) must have every secret its settings require; a function
 * without it may not read any (reading one throws). Throws one Error listing every problem.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, local = !env.AWS_LAMBDA_FUNCTION_NAME): HubConfig {
  const problems: string[] = [];
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!CONFIG_NAMES.has(k) || v === undefined) continue;
    if (v.trim() === '') problems.push(`${k} is set but empty (unset it to use the default, or give a value)`);
    else given[k] = v;
  }
  const merged: Record<string, string | undefined> = local ? { ...LOCAL_DEFAULTS } : { ...EVERYWHERE };
  Object.assign(merged, given);
  // A plain-mode account has no key: the embedded one never stands in for it.
  if (local && given.WECHAT_MESSAGE_MODE === 'plain' && given.WECHAT_AES_KEY === undefined) delete merged.WECHAT_AES_KEY;
  if (!merged.WECHAT_API_BASE) {
    merged.WECHAT_API_BASE = local ? `http://127.0.0.1:${merged.WECHAT_STANDIN_PORT ?? '3001'}` : 'https://api.weixin.qq.com';
  }
  if (!merged.TOP_API_BASE && !local) merged.TOP_API_BASE = 'https://eco.taobao.com/router/rest';

  const required = requiredSecrets(merged);
  // Every secret locally and with the single secret (HUB_SECRET_ARN); else those of the granted groups.
  const granted = local || Boolean(env.HUB_SECRET_ARN);
  const grantedKeys = new Set<string>(
    granted ? SECRET_KEYS : Object.keys(env.HUB_SECRET_ARNS ? parseSecretArns(env.HUB_SECRET_ARNS) : {}).flatMap((g) => SECRET_GROUPS[g as SecretGroup]),
  );
  for (const k of required) {
    if (!grantedKeys.has(k)) continue;
    if (merged[k] === undefined) problems.push(`${k} is missing${local ? '' : ' from the secret'}`);
    else if (!local && merged[k] === SECRET_PLACEHOLDER) problems.push(`${k} still holds the placeholder ${SECRET_PLACEHOLDER}: fill in the secret`);
  }
  const token = merged.WECHAT_TOKEN;
  const exampleToken = local && given.WECHAT_TOKEN === undefined && token === LOCAL_DEFAULTS.WECHAT_TOKEN;
  if (token !== undefined && !exampleToken && !WECHAT_TOKEN.test(token)) problems.push('WECHAT_TOKEN must be 16-32 letters or digits');
  if (merged.WECHAT_MESSAGE_MODE === 'plain' && given.WECHAT_AES_KEY !== undefined) {
    problems.push('WECHAT_AES_KEY is set but WECHAT_MESSAGE_MODE is plain: an account with a key accepts only encrypted pushes (unset one of them)');
  }
  if (!local && merged.SMS_PROVIDER === 'standin') problems.push('SMS_PROVIDER standin exists only in the local runtime');
  if (!local && Number(merged.HUB_WEBHOOK_MAX_SKEW_SECONDS ?? 0) > MAX_DEPLOYED_SKEW_SECONDS) {
    problems.push(`HUB_WEBHOOK_MAX_SKEW_SECONDS above ${MAX_DEPLOYED_SKEW_SECONDS} is allowed only in the local runtime`);
  }
  if (merged.SMS_PROVIDER === 'tencent') {
    for (const k of ['TENCENT_SMS_SDK_APP_ID', 'TENCENT_SMS_SIGN_NAME', 'TENCENT_SMS_TEMPLATE_ID']) if (merged[k] === undefined) problems.push(`${k} is required when SMS_PROVIDER is tencent`);
  }

  // Secrets a function was not given are left out of the schema and throw when read.
  const withheld = SECRET_KEYS.filter((k) => !grantedKeys.has(k) && merged[k] === undefined && required.includes(k));
  const schema = withheld.length ? ConfigSchema.omit(Object.fromEntries(withheld.map((k) => [k, true])) as Record<SecretKey, true>) : ConfigSchema;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  if (problems.length || !parsed.success) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  const cfg = parsed.data as HubConfig;
  for (const key of withheld) {
    Object.defineProperty(cfg, key, {
      enumerable: true,
      get() {
        throw new Error(`configuration ${key} is not available to this function (no secret granted)`);
      },
    });
  }
  return cfg;
}

/**
 * Problems of a partial set of settings, each value checked by its own entry of the one schema
 * above (plus the deployed WECHAT_TOKEN rule): the secrets script validates what it writes and
 * the stack the stage's app settings with it. Unknown names are problems too.
 */
export function settingIssues(values: Record<string, string>): string[] {
  const problems: string[] = [];
  const shape = ConfigSchema.shape as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(values)) {
    const field = CONFIG_NAMES.has(k) ? shape[k] : undefined;
    if (!field) problems.push(`${k} is not a configuration name`);
    else if (v.trim() === '') problems.push(`${k} is empty`);
    else if (v === SECRET_PLACEHOLDER) problems.push(`${k} is the placeholder ${SECRET_PLACEHOLDER}`);
    else if (k === 'WECHAT_TOKEN' && !WECHAT_TOKEN.test(v)) problems.push('WECHAT_TOKEN must be 16-32 letters or digits');
    else {
      const r = field.safeParse(v);
      if (!r.success) problems.push(`${k}: ${r.error.issues.map((i) => i.message).join(', ')}`);
    }
  }
  return problems;
}

/** The effective configuration for the start banner and logs: a secret as its length and fingerprint only. */
export function describeConfig(cfg: HubConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(cfg)) {
    try {
      const v = (cfg as Record<string, unknown>)[k];
      if (v === undefined) out[k] = '(not set)';
      else out[k] = (SECRET_KEYS as readonly string[]).includes(k) ? fingerprint(String(v)) : String(v);
    } catch {
      out[k] = '(not available)';
    }
  }
  return out;
}

/** `(<n> chars, sha256 <first 8 hex>)`: enough to tell two values apart, nothing of the value. */
export function fingerprint(secret: string): string {
  return `(${secret.length} chars, sha256 ${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)})`;
}

let cached: HubConfig | undefined;
/** Process-wide configuration (Lambda cold start or local runtime). */
export function config(): HubConfig {
  cached ??= loadConfig();
  return cached;
}
/** Tests and the local runtime reset it after changing the environment. */
export function resetConfig(): void {
  cached = undefined;
}
