/**
 * Configuration: the names in ARCHITECTURE.md are a fixed interface. Locally every value comes
 * from the environment with the embedded defaults below; in AWS the secret ones come from one
 * Secrets Manager secret (JSON with the same keys) named by HUB_SECRET_ARN (see secrets.ts).
 */
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
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** Local defaults: fixed so `npm start` works on a fresh machine. Never used when HUB_SECRET_ARN is set. */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  HUB_ADMIN_TOKEN: 'local-admin-token',
  HUB_TIMEZONE: 'Asia/Shanghai',
  WECHAT_APP_ID: 'wx5823bf96d3bd56c7',
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
} as const;

const intFrom = (def: number) => z.coerce.number().int().nonnegative().default(def);

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
  WECHAT_TOKEN: z.string().min(3).max(32),
  WECHAT_AES_KEY: z.string().length(43),
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
  /** Consecutive serials by one openid that count as harvesting. */
  HUB_SCAN_SEQUENTIAL_LIMIT: intFrom(3).pipe(z.number().min(2)),
  /** TOP API (TMC pull). Locally the TOP stand-in. */
  TOP_API_BASE: z.string().default('http://127.0.0.1:3002/router/rest'),
  TOP_STANDIN_PORT: intFrom(3002),
  /** Extra member-centre link used in welcome messages. */
  HUB_MEMBER_CENTRE_URL: z.string().default('https://example.com/member'),
});
export type HubConfig = z.infer<typeof ConfigSchema>;

/**
 * Reads configuration from an env-like record. Local defaults fill anything unset unless
 * `defaults` is false (AWS), in which case a missing value is a startup error.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, defaults = !env.HUB_SECRET_ARN): HubConfig {
  const merged: Record<string, string | undefined> = defaults ? { ...LOCAL_DEFAULTS } : {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  if (!merged.WECHAT_API_BASE) {
    merged.WECHAT_API_BASE = defaults ? `http://127.0.0.1:${merged.WECHAT_STANDIN_PORT ?? '3001'}` : 'https://api.weixin.qq.com';
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  return parsed.data;
}

/** The effective configuration with every secret masked, for the start banner and logs. */
export function describeConfig(cfg: HubConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg)) {
    const s = String(v);
    out[k] = (SECRET_KEYS as readonly string[]).includes(k) ? mask(s) : s;
  }
  return out;
}

function mask(s: string): string {
  return s.length <= 4 ? '****' : `${s.slice(0, 2)}${'*'.repeat(Math.min(8, s.length - 4))}${s.slice(-2)}`;
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
