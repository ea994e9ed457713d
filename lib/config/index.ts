/**
 * Configuration: the names in docs/design.md#configuration are a fixed interface. Locally every value comes
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

/** Local defaults: fixed so `npm start` works on a fresh machine. Never used inside Lambda. */
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

/** Non-secret defaults that hold everywhere (also in Lambda). */
const EVERYWHERE = { PORT: '3000', HUB_TIMEZONE: 'Asia/Shanghai', WECHAT_STANDIN_PORT: '3001' } as const;

/**
 * Reads configuration from an env-like record. Locally (`local` true: not inside Lambda) the
 * embedded defaults fill anything unset. In Lambda only non-secret defaults apply: platform
 * ids come from the stack, secrets from Secrets Manager (lib/config/secrets.ts); a secret this
 * function was not given throws when read, so a missing grant fails loudly, never silently.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, local = !env.AWS_LAMBDA_FUNCTION_NAME): HubConfig {
  const merged: Record<string, string | undefined> = local ? { ...LOCAL_DEFAULTS } : { ...EVERYWHERE };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  if (!merged.WECHAT_API_BASE) {
    merged.WECHAT_API_BASE = local ? `http://127.0.0.1:${merged.WECHAT_STANDIN_PORT ?? '3001'}` : 'https://api.weixin.qq.com';
  }
  if (!merged.TOP_API_BASE && !local) merged.TOP_API_BASE = 'https://eco.taobao.com/router/rest';
  const missing = local ? [] : SECRET_KEYS.filter((k) => merged[k] === undefined);
  const schema = missing.length ? ConfigSchema.omit(Object.fromEntries(missing.map((k) => [k, true])) as Record<SecretKey, true>) : ConfigSchema;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  const cfg = parsed.data as HubConfig;
  for (const key of missing) {
    Object.defineProperty(cfg, key, {
      enumerable: true,
      get() {
        throw new Error(`configuration ${key} is not available to this function (no secret granted)`);
      },
    });
  }
  return cfg;
}

/** The effective configuration with every secret masked, for the start banner and logs. */
export function describeConfig(cfg: HubConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(cfg)) {
    try {
      const s = String((cfg as Record<string, unknown>)[k]);
      out[k] = (SECRET_KEYS as readonly string[]).includes(k) ? mask(s) : s;
    } catch {
      out[k] = '(not available)';
    }
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
