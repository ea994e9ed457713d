/**
 * Configuration: the names in docs/design.md#configuration are a fixed interface. Locally
 * every value comes from the environment with the embedded defaults below; in AWS the secret
 * ones come from Secrets Manager: one secret per group of SECRET_GROUPS (schema.ts; JSON with the
 * same keys), named by HUB_SECRET_ARNS (`{group: arn}`), or a single secret named by
 * HUB_SECRET_ARN (see secrets.ts).
 *
 * Fail closed (docs/security.md):
 * - a variable that is set but empty or blank is a start-up error naming it, never a fallback;
 * - the embedded defaults apply only when a variable is absent AND the process is the local
 *   runtime (not inside Lambda);
 * - in Lambda a function needs every secret its settings require from the groups it is given
 *   (HUB_SECRET_ARNS; all of them with HUB_SECRET_ARN), and none may still hold the stack's
 *   placeholder: otherwise the cold start fails (lib/runtime/lambda.ts), never a request;
 * - every secret is validated by the one schema (schema.ts) at start (the WeChat EncodingAESKey is 43
 *   characters of [A-Za-z0-9]; WECHAT_TOKEN is 16-32 letters or digits, the official example
 *   token of the local defaults being the one exception);
 * - the start banner shows a secret's length and the first 8 hex digits of its SHA-256, never
 *   its characters.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { policyFromJson } from './engagement.ts';
import { MEMBER_RULE_VARIABLES, memberRulePart, type MemberRules } from './members.ts';
import { rulesFrom } from './rules.ts';
import { appIdsIn, parseWechatApps, shorthandApp, type WechatApp } from './wechat-apps.ts';
import {
  MAX_DEPLOYED_SKEW_SECONDS,
  parseSecretArns,
  SECRET_GROUPS,
  SECRET_KEYS,
  SECRET_PLACEHOLDER,
  SettingsSchema,
  WECHAT_TOKEN_PATTERN,
  type HubConfig,
  type SecretGroup,
  type SecretKey,
  type Settings,
} from './schema.ts';

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
  // The TOP and Youzan stand-ins' seller and shop (local/top-standin.ts, local/youzan-standin.ts).
  TMALL_SESSION_KEY: 'local-tmall-session-key',
  TMALL_SELLER_ID: '2207512345678',
  YOUZAN_KDT_ID: '12345678',
  CODE_SIGNING_SECRET: 'local-code-signing-secret-change-me',
  PHONE_HASH_SECRET: 'local-phone-hash-secret-change-me',
  HUB_OTP_SECRET: 'local-otp-secret-change-me',
  HUB_SESSION_SECRET: 'local-session-secret-change-me-0123456789',
  SMS_PROVIDER: 'standin',
  // The WeCom callback sample of Tencent's WXBizMsgCrypt (events/wecom-crypto-vector.json).
  WECOM_CORP_ID: 'ww1436e0e65a779aee',
  WECOM_TOKEN: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  WECOM_AES_KEY: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  WECOM_CONTACT_SECRET: 'local-wecom-contact-secret',
  WECOM_AGENT_ID: '1000002',
  WECOM_AGENT_SECRET: 'local-wecom-agent-secret',
} as const;

/** A config name; any other environment variable is not this module's business. */
const CONFIG_NAMES = new Set<string>(Object.keys(SettingsSchema.shape));

/** Non-secret defaults that hold everywhere (also in Lambda). */
const EVERYWHERE = { PORT: '3000', HUB_TIMEZONE: 'Asia/Shanghai', WECHAT_STANDIN_PORT: '3001' } as const;

/** The single-account secrets, not needed when HUB_WECHAT_APPS carries WECHAT_APP_ID's entry. */
const SHORTHAND_SECRETS = new Set<string>(['WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET']);

/** The secrets these settings need (the others may be absent). */
export function requiredSecrets(settings: { WECOM_CORP_ID?: string | undefined; WECHAT_MESSAGE_MODE?: string | undefined; SMS_PROVIDER?: string | undefined; WECHAT_APP_ID?: string | undefined; HUB_WECHAT_APPS?: string | undefined }): SecretKey[] {
  const shorthandInApps = settings.WECHAT_APP_ID !== undefined && appIdsIn(settings.HUB_WECHAT_APPS).includes(settings.WECHAT_APP_ID);
  return SECRET_KEYS.filter((k) => {
    if (shorthandInApps && SHORTHAND_SECRETS.has(k)) return false;
    // Optional: further accounts, and member sessions (checked by the routes that issue and read them).
    if (k === 'HUB_WECHAT_APPS' || k === 'HUB_SESSION_SECRET') return false;
    if (k === 'WECHAT_AES_KEY') return settings.WECHAT_MESSAGE_MODE !== 'plain';
    if (k === 'TENCENT_SMS_SECRET_ID' || k === 'TENCENT_SMS_SECRET_KEY') return settings.SMS_PROVIDER === 'tencent';
    // Checked by the one function that posts alarms (functions/alarm-forwarder.ts).
    if (k === 'WECOM_ALERT_WEBHOOK_URL') return false;
    // The WeCom callback needs its token and key once a corp is configured; the API secrets are
    // checked by the calls that use them (lib/wecom).
    if (k === 'WECOM_TOKEN' || k === 'WECOM_AES_KEY') return settings.WECOM_CORP_ID !== undefined;
    if (k === 'WECOM_CONTACT_SECRET' || k === 'WECOM_AGENT_SECRET') return false;
    // Optional: without it the Tmall reconciliation is skipped (functions/reconcile.ts).
    if (k === 'TMALL_SESSION_KEY') return false;
    return true;
  });
}

export interface ConfigInput {
  /** The environment (or any record of the same names). */
  env: Readonly<Record<string, string | undefined>>;
  /** The local runtime (embedded defaults apply); default: not inside Lambda. */
  local?: boolean;
  /** Reads the HUB_RULES_FILE file; default fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
}

/**
 * Reads configuration from an env-like record into one frozen object (schema.ts): the settings
 * and the trees built from the JSON ones. Locally (`local` true: not inside Lambda) the
 * embedded defaults fill anything absent. In Lambda only non-secret defaults apply: platform
 * ids come from the stack, secrets from Secrets Manager (lib/runtime/secrets.ts). A function
 * must have every secret its settings require from the groups it is given (HUB_SECRET_ARNS; every
 * group with HUB_SECRET_ARN); the secrets of the other groups are withheld (reading one throws).
 * Throws one Error listing every problem.
 */
export function loadConfig(input: ConfigInput): HubConfig {
  const { env } = input;
  const local = input.local ?? !env.AWS_LAMBDA_FUNCTION_NAME;
  const problems: string[] = [];
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!CONFIG_NAMES.has(k) || v === undefined) continue;
    if (v.trim() === '') problems.push(`${k} is set but empty (unset it to use the default, or give a value)`);
    else given[k] = v;
  }
  const merged: Record<string, string | undefined> = local ? { ...LOCAL_DEFAULTS } : { ...EVERYWHERE };
  // With an estate configured, the embedded example account does not join it: only the
  // single-account names actually given do (the first official entry is the default otherwise).
  if (local && given.HUB_WECHAT_APPS !== undefined) {
    for (const k of ['WECHAT_APP_ID', 'WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET'] as const) delete merged[k];
    if (given.WECHAT_APP_ID === undefined) merged.WECHAT_APP_ID = firstOfficial(given.HUB_WECHAT_APPS);
  }
  Object.assign(merged, given);
  // A plain-mode account has no key: the embedded one never stands in for it.
  if (local && given.WECHAT_MESSAGE_MODE === 'plain' && given.WECHAT_AES_KEY === undefined) delete merged.WECHAT_AES_KEY;
  if (!merged.WECHAT_API_BASE) {
    merged.WECHAT_API_BASE = local ? `http://127.0.0.1:${merged.WECHAT_STANDIN_PORT ?? '3001'}` : 'https://api.weixin.qq.com';
  }
  if (!merged.WECOM_API_BASE) {
    merged.WECOM_API_BASE = local ? `http://127.0.0.1:${merged.WECHAT_STANDIN_PORT ?? '3001'}` : 'https://qyapi.weixin.qq.com';
  }
  if (!merged.TOP_API_BASE && !local) merged.TOP_API_BASE = 'https://eco.taobao.com/router/rest';
  if (!merged.YOUZAN_API_BASE) {
    merged.YOUZAN_API_BASE = local ? `http://127.0.0.1:${merged.YOUZAN_STANDIN_PORT ?? '3003'}` : 'https://open.youzanyun.com';
  }

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
  if (token !== undefined && !exampleToken && !WECHAT_TOKEN_PATTERN.test(token)) problems.push('WECHAT_TOKEN must be 16-32 letters or digits');
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
  const schema = withheld.length ? SettingsSchema.omit(Object.fromEntries(withheld.map((k) => [k, true])) as Record<SecretKey, true>) : SettingsSchema;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

  // The trees built from JSON settings: an invalid one fails here, at start, naming its variable.
  const readFile = input.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const rules = attempt(problems, (m) => `HUB_RULES_FILE: ${m}`, () => rulesFrom(given.HUB_RULES_FILE, readFile));
  const policy = attempt(problems, (m) => m, () => policyFromJson(given.HUB_ENGAGEMENT_POLICY));
  const memberRules = {} as Record<keyof MemberRules, unknown>;
  for (const part of Object.keys(MEMBER_RULE_VARIABLES) as (keyof MemberRules)[]) {
    memberRules[part] = attempt(problems, (m) => m, () => memberRulePart(part, given[MEMBER_RULE_VARIABLES[part]]));
  }

  // A function not given the `wechat` secrets knows no account's secrets: its estate is empty.
  const listed = merged.HUB_WECHAT_APPS !== undefined ? attempt(problems, (m) => m, () => parseWechatApps(merged.HUB_WECHAT_APPS!)) : [];
  const estate = !grantedKeys.has('HUB_WECHAT_APPS') || !listed ? undefined : attempt(problems, (m) => m, () => wechatEstate(parsed.success ? (parsed.data as Settings) : undefined, listed, withheld));

  // Youzan's outer_user_id is an openid of the app it names: that app must be one of the brand's.
  const knownApps = new Set([merged.WECHAT_APP_ID, ...(estate ?? []).map((a) => a.appId), ...(merged.HUB_WECHAT_APP_IDS ?? '').split(',').map((a) => a.trim())]);
  if (merged.YOUZAN_WECHAT_APP_ID !== undefined && !knownApps.has(merged.YOUZAN_WECHAT_APP_ID)) {
    problems.push('YOUZAN_WECHAT_APP_ID names no configured WeChat app (WECHAT_APP_ID, HUB_WECHAT_APPS); unset it when Youzan is bound to an app of its own');
  }
  if (problems.length || !parsed.success) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  const cfg = { ...(parsed.data as Settings), rules, policy, memberRules, wechatApps: estate ?? [] } as HubConfig;
  // The default account's secrets come from its HUB_WECHAT_APPS entry when the shorthand names are absent.
  const defaultApp = estate?.find((a) => a.appId === cfg.WECHAT_APP_ID);
  if (defaultApp && !withheld.includes('WECHAT_TOKEN')) {
    Object.assign(cfg, { WECHAT_TOKEN: defaultApp.token, WECHAT_APP_SECRET: defaultApp.appSecret, ...(defaultApp.aesKey ? { WECHAT_AES_KEY: defaultApp.aesKey } : {}) });
  }
  for (const key of withheld) {
    Object.defineProperty(cfg, key, {
      enumerable: true,
      get() {
        throw new Error(`configuration ${key} is not available to this function (no secret granted)`);
      },
    });
  }
  return deepFreeze(cfg);
}

/** The first official account's appid of a HUB_WECHAT_APPS value (loosely read; the full check runs at parse). */
function firstOfficial(raw: string): string | undefined {
  try {
    const v = JSON.parse(raw) as unknown;
    const e = Array.isArray(v) ? v.find((x) => x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'official') : undefined;
    return e && typeof (e as { appId?: unknown }).appId === 'string' ? (e as { appId: string }).appId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The apps of HUB_WECHAT_APPS with the shorthand account merged in, the default account
 * (WECHAT_APP_ID) first; throws naming the entry. The default must be an official account;
 * HUB_WECHAT_APP_IDS, when set, must name exactly the configured apps.
 */
function wechatEstate(s: Settings | undefined, listed: readonly WechatApp[], withheld: readonly string[]): WechatApp[] {
  if (!s) return [];
  const own = listed.find((a) => a.appId === s.WECHAT_APP_ID);
  const shorthandGiven = !withheld.includes('WECHAT_TOKEN') && s.WECHAT_TOKEN !== undefined;
  if (own && shorthandGiven) throw new Error(`HUB_WECHAT_APPS (${s.WECHAT_APP_ID}): the account is also given by WECHAT_TOKEN / WECHAT_APP_SECRET: configure it in one place`);
  if (own && own.kind !== 'official') throw new Error(`HUB_WECHAT_APPS (${s.WECHAT_APP_ID}): WECHAT_APP_ID names the default official account, not a mini program`);
  const shorthand = own ? undefined : shorthandGiven ? shorthandApp(s) : undefined;
  if (!own && !shorthand && !withheld.includes('WECHAT_TOKEN')) throw new Error(`WECHAT_APP_ID ${s.WECHAT_APP_ID} has no token and AppSecret: set WECHAT_TOKEN and WECHAT_APP_SECRET or give it an entry in HUB_WECHAT_APPS`);
  const first = own ?? shorthand;
  const apps = [...(first ? [first] : []), ...listed.filter((a) => a !== own)];
  if (s.HUB_WECHAT_APP_IDS !== undefined) {
    const want = new Set(s.HUB_WECHAT_APP_IDS.split(','));
    const have = new Set(apps.map((a) => a.appId));
    const missing = [...want].filter((id) => !have.has(id));
    const extra = [...have].filter((id) => !want.has(id));
    if (missing.length || extra.length) {
      throw new Error(`HUB_WECHAT_APP_IDS: the stage deploys ${[...want].join(', ')}${missing.length ? `; no secrets for ${missing.join(', ')}` : ''}${extra.length ? `; configured but not in the stage: ${extra.join(', ')}` : ''}`);
    }
  }
  return apps;
}

/** The JSON settings whose value builds a tree at load: checked the same way by settingIssues. */
const JSON_SETTINGS: Record<string, (raw: string) => unknown> = {
  HUB_ENGAGEMENT_POLICY: policyFromJson,
  HUB_WECHAT_APPS: parseWechatApps,
  ...Object.fromEntries(Object.entries(MEMBER_RULE_VARIABLES).map(([part, name]) => [name, (raw: string) => memberRulePart(part as keyof MemberRules, raw)])),
};

/**
 * Problems of a partial set of settings, each value checked by its own entry of the one schema
 * (schema.ts; plus the deployed WECHAT_TOKEN rule, and the engagement policy and member rules
 * built as at load): the secrets script validates what it writes and the stack the stage's app
 * settings with it. Unknown names are problems too.
 */
export function settingIssues(values: Record<string, string>): string[] {
  const problems: string[] = [];
  const shape = SettingsSchema.shape as Record<string, z.ZodType>;
  for (const [k, v] of Object.entries(values)) {
    const field = CONFIG_NAMES.has(k) ? shape[k] : undefined;
    if (!field) problems.push(`${k} is not a configuration name`);
    else if (v.trim() === '') problems.push(`${k} is empty`);
    else if (v === SECRET_PLACEHOLDER) problems.push(`${k} is the placeholder ${SECRET_PLACEHOLDER}`);
    else if (k === 'WECHAT_TOKEN' && !WECHAT_TOKEN_PATTERN.test(v)) problems.push('WECHAT_TOKEN must be 16-32 letters or digits');
    else {
      const r = field.safeParse(v);
      if (!r.success) problems.push(`${k}: ${r.error.issues.map((i) => i.message).join(', ')}`);
      else if (JSON_SETTINGS[k]) attempt(problems, (m) => m, () => JSON_SETTINGS[k]?.(v));
    }
  }
  return problems;
}

/** Runs `build`; on a throw records the message (as `label` shapes it) and returns undefined. */
function attempt<T>(problems: string[], label: (message: string) => string, build: () => T): T | undefined {
  try {
    return build();
  } catch (err) {
    problems.push(label(err instanceof Error ? err.message : String(err)));
    return undefined;
  }
}

/** Freezes plain objects and arrays all the way down; a withheld secret's getter is left alone. */
function deepFreeze<T extends object>(value: T): T {
  for (const key of Object.keys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key);
    if (d && 'value' in d && typeof d.value === 'object' && d.value !== null) deepFreeze(d.value as object);
  }
  return Object.freeze(value);
}

/** The effective configuration for the start banner and logs: a secret as its length and fingerprint only. */
export function describeConfig(cfg: HubConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(cfg)) {
    try {
      const v = (cfg as Record<string, unknown>)[k];
      if (v === undefined) out[k] = '(not set)';
      else if ((SECRET_KEYS as readonly string[]).includes(k)) out[k] = fingerprint(String(v));
      else if (k === 'wechatApps') out[k] = (v as readonly WechatApp[]).map(describeApp).join('; ');
      else out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
    } catch {
      out[k] = '(not available)';
    }
  }
  return out;
}

/** One app of the estate for the banner: its public facts, its secrets as fingerprints. */
function describeApp(a: WechatApp): string {
  const secrets = (['token', 'aesKey', 'appSecret'] as const).flatMap((k) => (a[k] === undefined ? [] : [`${k} ${fingerprint(a[k])}`]));
  return `${a.appId} ${a.kind} ${JSON.stringify(a.name)} ${secrets.join(' ')}`;
}

/** `(<n> chars, sha256 <first 8 hex>)`: enough to tell two values apart, nothing of the value. */
export function fingerprint(secret: string): string {
  return `(${secret.length} chars, sha256 ${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)})`;
}

