import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, LOCAL_DEFAULTS, requiredSecrets, SECRET_KEYS, settingIssues } from '../../lib/config/index.ts';

/** A Lambda environment with the secret granted and every required secret filled in. */
const LAMBDA = {
  AWS_LAMBDA_FUNCTION_NAME: 'hub-wechat',
  HUB_SECRET_ARN: 'arn:aws:secretsmanager:ap-southeast-1:111111111111:secret:hub',
  WECHAT_APP_ID: 'wxprod',
  TMALL_APP_KEY: 'k',
  JD_APP_KEY: 'j',
  YOUZAN_CLIENT_ID: 'y',
  HUB_ADMIN_TOKEN: 'prod-admin-token-1',
  WECHAT_TOKEN: 'ProdToken0123456789',
  WECHAT_AES_KEY: 'a'.repeat(43),
  WECHAT_APP_SECRET: 'wx-secret',
  TMALL_APP_SECRET: 'tm-secret',
  JD_APP_SECRET: 'jd-secret',
  YOUZAN_CLIENT_SECRET: 'yz-secret',
  CODE_SIGNING_SECRET: 'c'.repeat(32),
  PHONE_HASH_SECRET: 'p'.repeat(32),
  HUB_OTP_SECRET: 'o'.repeat(32),
};

describe('configuration', () => {
  it('runs locally on embedded defaults, with the stand-ins as WeChat API and SMS provider', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.PORT).toBe(3000);
    expect(cfg.WECHAT_TOKEN).toBe(LOCAL_DEFAULTS.WECHAT_TOKEN);
    expect(cfg.WECHAT_MESSAGE_MODE).toBe('safe');
    expect(cfg.SMS_PROVIDER).toBe('standin');
    expect(cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS).toBe(300);
    expect(cfg.HUB_ORDER_MAX_FEN).toBe(100_000_000);
    expect(cfg.HUB_SCAN_INVALID_LIMIT).toBe(30);
    expect(cfg.WECHAT_API_BASE).toBe('http://127.0.0.1:3001');
    expect(loadConfig({ env: { WECHAT_STANDIN_PORT: '4555' } }).WECHAT_API_BASE).toBe('http://127.0.0.1:4555');
  });

  it('a variable set but empty or blank is an error naming it, never a fallback to the default', () => {
    expect(() => loadConfig({ env: { HUB_ADMIN_TOKEN: '' } })).toThrow(/HUB_ADMIN_TOKEN is set but empty/);
    expect(() => loadConfig({ env: { TMALL_APP_SECRET: '   ' } })).toThrow(/TMALL_APP_SECRET is set but empty/);
    expect(() => loadConfig({ env: { ...LAMBDA, JD_APP_SECRET: '' } })).toThrow(/JD_APP_SECRET is set but empty/);
    // Other variables are not this module's business.
    expect(loadConfig({ env: { SOME_OTHER_VAR: '' } }).PORT).toBe(3000);
  });

  it('in Lambda with the secret granted: a missing or placeholder secret fails, naming it', () => {
    expect(loadConfig({ env: LAMBDA }).WECHAT_TOKEN).toBe('ProdToken0123456789');
    const { HUB_OTP_SECRET: _o, ...noOtp } = LAMBDA;
    expect(() => loadConfig({ env: noOtp })).toThrow(/HUB_OTP_SECRET is missing from the secret/);
    expect(() => loadConfig({ env: { ...LAMBDA, PHONE_HASH_SECRET: 'REPLACE_ME' } })).toThrow(/PHONE_HASH_SECRET still holds the placeholder/);
    // No local default ever applies in Lambda.
    const { HUB_ADMIN_TOKEN: _a, ...noAdmin } = LAMBDA;
    expect(() => loadConfig({ env: noAdmin })).toThrow(/HUB_ADMIN_TOKEN is missing/);
  });

  it('validates every secret by the one schema: the AES key, the token length', () => {
    expect(() => loadConfig({ env: { ...LAMBDA, WECHAT_AES_KEY: 'short' } })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ env: { ...LAMBDA, WECHAT_AES_KEY: `${'a'.repeat(42)}+` } })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ env: { ...LAMBDA, WECHAT_TOKEN: 'prodtoken' } })).toThrow(/WECHAT_TOKEN must be 16-32/);
    // The official example token only as the local default: set explicitly, it is too short.
    expect(() => loadConfig({ env: { WECHAT_TOKEN: LOCAL_DEFAULTS.WECHAT_TOKEN } })).toThrow(/WECHAT_TOKEN must be 16-32/);
    expect(() => loadConfig({ env: { AWS_LAMBDA_FUNCTION_NAME: 'x' } })).toThrow(/WECHAT_APP_ID/);
  });

  it('the secrets a setting needs: a plain-mode account has no key; SMS keys only for Tencent', () => {
    expect(requiredSecrets({})).toContain('WECHAT_AES_KEY');
    expect(requiredSecrets({ WECHAT_MESSAGE_MODE: 'plain' })).not.toContain('WECHAT_AES_KEY');
    expect(requiredSecrets({ SMS_PROVIDER: 'tencent' })).toEqual(expect.arrayContaining(['TENCENT_SMS_SECRET_ID', 'TENCENT_SMS_SECRET_KEY']));
    const { WECHAT_AES_KEY: _k, ...plain } = LAMBDA;
    expect(loadConfig({ env: { ...plain, WECHAT_MESSAGE_MODE: 'plain' } }).WECHAT_AES_KEY).toBeUndefined();
    expect(loadConfig({ env: { WECHAT_MESSAGE_MODE: 'plain' } }).WECHAT_AES_KEY).toBeUndefined();
    expect(() => loadConfig({ env: { WECHAT_MESSAGE_MODE: 'plain', WECHAT_AES_KEY: LOCAL_DEFAULTS.WECHAT_AES_KEY } })).toThrow(/WECHAT_MESSAGE_MODE is plain/);
    expect(() => loadConfig({ env: { ...LAMBDA, SMS_PROVIDER: 'tencent' } })).toThrow(/TENCENT_SMS_SECRET_ID is missing.*TENCENT_SMS_SDK_APP_ID is required/);
  });

  it('WeCom: optional; with a corp id its callback token and key are required, and its API is WeCom in AWS', () => {
    const none = loadConfig({ env: LAMBDA });
    expect(none.WECOM_CORP_ID).toBeUndefined();
    expect(none.WECOM_API_BASE).toBe('https://qyapi.weixin.qq.com');
    expect(() => loadConfig({ env: { ...LAMBDA, WECOM_CORP_ID: 'wwprod' } })).toThrow(/WECOM_TOKEN is missing from the secret.*WECOM_AES_KEY is missing from the secret/);
    const set = loadConfig({ env: { ...LAMBDA, WECOM_CORP_ID: 'wwprod', WECOM_TOKEN: 'WecomToken012345', WECOM_AES_KEY: 'b'.repeat(43) } });
    expect([set.WECOM_CORP_ID, set.WECOM_TOKEN, set.WECOM_CONTACT_SECRET]).toEqual(['wwprod', 'WecomToken012345', undefined]);
    expect(() => loadConfig({ env: { WECOM_AGENT_SECRET: '' } })).toThrow(/WECOM_AGENT_SECRET is set but empty/);
    expect(() => loadConfig({ env: { WECOM_AES_KEY: 'short' } })).toThrow(/WECOM_AES_KEY/);
    expect(loadConfig({ env: {} }).WECOM_API_BASE).toBe('http://127.0.0.1:3001');
  });

  it('outside the local runtime: no SMS stand-in, no webhook window above an hour', () => {
    expect(loadConfig({ env: LAMBDA }).SMS_PROVIDER).toBe('none');
    expect(() => loadConfig({ env: { ...LAMBDA, SMS_PROVIDER: 'standin' } })).toThrow(/standin exists only in the local runtime/);
    expect(() => loadConfig({ env: { ...LAMBDA, HUB_WEBHOOK_MAX_SKEW_SECONDS: '3601' } })).toThrow(/HUB_WEBHOOK_MAX_SKEW_SECONDS/);
    expect(loadConfig({ env: { HUB_WEBHOOK_MAX_SKEW_SECONDS: '86400' } }).HUB_WEBHOOK_MAX_SKEW_SECONDS).toBe(86_400);
  });

  it('in Lambda without the secret granted, a secret throws when read', () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: 'hub-nightly', WECHAT_APP_ID: 'wxprod', TMALL_APP_KEY: 'k', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y' };
    const cfg = loadConfig({ env: env });
    expect(cfg.HUB_TIMEZONE).toBe('Asia/Shanghai');
    expect(cfg.WECHAT_API_BASE).toBe('https://api.weixin.qq.com');
    expect(cfg.TOP_API_BASE).toBe('https://eco.taobao.com/router/rest');
    expect(() => cfg.WECHAT_TOKEN).toThrow(/not available to this function/);
    expect(describeConfig(cfg).WECHAT_TOKEN).toBe('(not available)');
  });

  it('the banner shows a secret as its length and a SHA-256 fingerprint, never its characters', () => {
    const shown = describeConfig(loadConfig({ env: {} }));
    // sha256('local-admin-token') = bc32a9a6… (sha256sum), 17 characters.
    expect(shown.HUB_ADMIN_TOKEN).toBe('(17 chars, sha256 bc32a9a6)');
    const text = Object.values(shown).join(' ');
    for (const key of SECRET_KEYS) {
      const v = (LOCAL_DEFAULTS as Record<string, string>)[key];
      if (v) expect(text).not.toContain(v);
    }
    expect(shown.WECHAT_AES_KEY).toMatch(/^\(43 chars, sha256 [0-9a-f]{8}\)$/);
  });

  it('rejects an unknown time zone', () => {
    expect(() => loadConfig({ env: { HUB_TIMEZONE: 'Mars/Olympus' } })).toThrow(/HUB_TIMEZONE/);
  });
});

describe('the trees built from JSON settings', () => {
  const files: Record<string, string> = {
    '/rules/ok.json': JSON.stringify({ birthday: { enabled: false, templateId: 'TPL_B' }, lapseAlert: { enabled: true, minTier: 'silver', days: 90 } }),
    '/rules/typo.json': JSON.stringify({ pointsExpiry: { enabled: true, templateId: 'TPL_X', daysBefore: 0 } }),
    '/rules/broken.json': '{"birthday":',
    '/rules/list.json': '[]',
  };
  const readFile = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
  const load = (env: Record<string, string>) => loadConfig({ env, local: true, readFile });

  it('defaults equal the table in README (configuration section)', () => {
    const cfg = load({});
    // HUB_TIER_THRESHOLDS_FEN: silver ¥1,000 / gold ¥5,000 / diamond ¥20,000
    expect(cfg.memberRules.tiers).toEqual({ normal: 0, silver: 100_000, gold: 500_000, diamond: 2_000_000 });
    // HUB_LIFECYCLE_DAYS: at-risk 90, lapsed 180, tier window 365
    expect(cfg.memberRules.days).toEqual({ atRisk: 90, lapsed: 180, tierWindow: 365 });
    // HUB_RFM_CUTS: R 30/60/90/180 days, F 2/3/5/10, M ¥500/1k/5k/20k
    expect(cfg.memberRules.rfm).toEqual({ recencyDays: [30, 60, 90, 180], frequency: [2, 3, 5, 10], monetaryFen: [50_000, 100_000, 500_000, 2_000_000] });
    // HUB_ENGAGEMENT_POLICY: caps 1/day, 3/7 days; quiet hours 22:00–08:00; holdout 5 % (500 of 10,000 buckets); windows 48 h, 60 s
    expect(cfg.policy).toMatchObject({ dailyCap: 1, weeklyCap: 3, quietHours: { start: '22:00', end: '08:00' }, holdout: 500, interactionWindowHours: 48, followWindowSeconds: 60 });
    // HUB_RULES_FILE unset: the built-in rule set (repurchase ladder 30/30/45/60 days, expiry notice 14 days before, lapse alert gold after 180 days)
    expect(cfg.rules.repurchase.ladder.map((s) => [s.day, s.kind, s.percentOff])).toEqual([
      [30, 'recommendation', 0],
      [30, 'coupon', 10],
      [45, 'coupon', 20],
      [60, 'coupon', 30],
    ]);
    expect(cfg.rules.pointsExpiry.daysBefore).toBe(14);
    expect(cfg.rules.lapseAlert).toEqual({ enabled: true, minTier: 'gold', days: 180 });
  });

  it('HUB_RULES_FILE replaces the parts it names and keeps the rest', () => {
    const cfg = load({ HUB_RULES_FILE: '/rules/ok.json' });
    expect(cfg.rules.birthday).toEqual({ enabled: false, templateId: 'TPL_B' });
    expect(cfg.rules.lapseAlert).toEqual({ enabled: true, minTier: 'silver', days: 90 });
    expect(cfg.rules.pointsExpiry).toEqual({ enabled: true, templateId: 'TPL_POINTS_EXPIRY', daysBefore: 14 });
  });

  it.each([
    ['/rules/typo.json', /^invalid configuration: HUB_RULES_FILE: invalid rules file \/rules\/typo\.json: pointsExpiry\.daysBefore: /],
    ['/rules/broken.json', /^invalid configuration: HUB_RULES_FILE: invalid rules file \/rules\/broken\.json: not JSON$/],
    ['/rules/list.json', /^invalid configuration: HUB_RULES_FILE: invalid rules file \/rules\/list\.json: expected a JSON object$/],
    ['/rules/missing.json', /^invalid configuration: HUB_RULES_FILE: invalid rules file \/rules\/missing\.json: cannot be read \(ENOENT\)$/],
  ])('an invalid rules file %s fails the load naming HUB_RULES_FILE', (file, message) => {
    expect(() => load({ HUB_RULES_FILE: file })).toThrow(message);
  });

  it('an invalid HUB_ENGAGEMENT_POLICY fails the load naming the variable, together with every other problem', () => {
    expect(() => load({ HUB_ENGAGEMENT_POLICY: '{"quietHours":{"start":"24:00","end":"08:00"}}', HUB_COUNTER_SHARDS: '0' })).toThrow(
      /^invalid configuration: HUB_COUNTER_SHARDS: .*; invalid engagement policy: HUB_ENGAGEMENT_POLICY: quietHours\.start: expected HH:MM/,
    );
    expect(() => load({ HUB_ENGAGEMENT_POLICY: 'caps please' })).toThrow(/^invalid configuration: invalid engagement policy: HUB_ENGAGEMENT_POLICY is not JSON$/);
  });

  it('a set-but-empty JSON setting is an error, not the defaults', () => {
    for (const name of ['HUB_RULES_FILE', 'HUB_ENGAGEMENT_POLICY', 'HUB_TIER_THRESHOLDS_FEN', 'HUB_LIFECYCLE_DAYS', 'HUB_RFM_CUTS']) {
      expect(() => load({ [name]: '' })).toThrow(new RegExp(`${name} is set but empty`));
    }
  });

  it('the loaded configuration is frozen all the way down and the banner shows the trees as JSON', () => {
    const cfg = load({ HUB_ENGAGEMENT_POLICY: '{"dailyCap":2}' });
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.policy) && Object.isFrozen(cfg.rules.repurchase.ladder[0])).toBe(true);
    expect(() => {
      (cfg.policy as { dailyCap: number }).dailyCap = 9;
    }).toThrow(TypeError);
    const shown = describeConfig(cfg);
    expect(JSON.parse(shown.policy!)).toMatchObject({ dailyCap: 2, weeklyCap: 3 });
    expect(shown.HUB_ENGAGEMENT_POLICY).toBe('{"dailyCap":2}');
  });
});

describe('settingIssues (stage settings and the secrets script)', () => {
  it('checks each value as the load would, the JSON settings built into their trees', () => {
    expect(settingIssues({ HUB_ENGAGEMENT_POLICY: '{"dailyCap":2}', HUB_LIFECYCLE_DAYS: '{"atRisk":60,"lapsed":120}', HUB_SCAN_DAILY_LIMIT: '10' })).toEqual([]);
    expect(settingIssues({ HUB_ENGAGEMENT_POLICY: '{"quietHours":{"start":"24:00","end":"08:00"}}' })).toEqual([
      expect.stringMatching(/^invalid engagement policy: HUB_ENGAGEMENT_POLICY: quietHours\.start: expected HH:MM/),
    ]);
    expect(settingIssues({ HUB_LIFECYCLE_DAYS: '{"atRisk":200,"lapsed":180}', HUB_RFM_CUTS: 'cuts' })).toEqual([
      'HUB_LIFECYCLE_DAYS: (value): atRisk must be fewer days than lapsed',
      'HUB_RFM_CUTS is not valid JSON',
    ]);
    expect(settingIssues({ HUB_TIER_THRESHOLDS_FEN: '', HUB_NOT_A_NAME: 'x' })).toEqual(['HUB_TIER_THRESHOLDS_FEN is empty', 'HUB_NOT_A_NAME is not a configuration name']);
  });
});
