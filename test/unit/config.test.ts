import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, LOCAL_DEFAULTS, requiredSecrets, SECRET_KEYS } from '../../lib/config/index.ts';

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
    const cfg = loadConfig({});
    expect(cfg.PORT).toBe(3000);
    expect(cfg.WECHAT_TOKEN).toBe(LOCAL_DEFAULTS.WECHAT_TOKEN);
    expect(cfg.WECHAT_MESSAGE_MODE).toBe('safe');
    expect(cfg.SMS_PROVIDER).toBe('standin');
    expect(cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS).toBe(300);
    expect(cfg.HUB_ORDER_MAX_FEN).toBe(100_000_000);
    expect(cfg.HUB_SCAN_INVALID_LIMIT).toBe(30);
    expect(cfg.WECHAT_API_BASE).toBe('http://127.0.0.1:3001');
    expect(loadConfig({ WECHAT_STANDIN_PORT: '4555' }).WECHAT_API_BASE).toBe('http://127.0.0.1:4555');
  });

  it('a variable set but empty or blank is an error naming it, never a fallback to the default', () => {
    expect(() => loadConfig({ HUB_ADMIN_TOKEN: '' })).toThrow(/HUB_ADMIN_TOKEN is set but empty/);
    expect(() => loadConfig({ TMALL_APP_SECRET: '   ' })).toThrow(/TMALL_APP_SECRET is set but empty/);
    expect(() => loadConfig({ ...LAMBDA, JD_APP_SECRET: '' })).toThrow(/JD_APP_SECRET is set but empty/);
    // Other variables are not this module's business.
    expect(loadConfig({ SOME_OTHER_VAR: '' }).PORT).toBe(3000);
  });

  it('in Lambda with the secret granted: a missing or placeholder secret fails, naming it', () => {
    expect(loadConfig(LAMBDA).WECHAT_TOKEN).toBe('ProdToken0123456789');
    const { HUB_OTP_SECRET: _o, ...noOtp } = LAMBDA;
    expect(() => loadConfig(noOtp)).toThrow(/HUB_OTP_SECRET is missing from the secret/);
    expect(() => loadConfig({ ...LAMBDA, PHONE_HASH_SECRET: 'REPLACE_ME' })).toThrow(/PHONE_HASH_SECRET still holds the placeholder/);
    // No local default ever applies in Lambda.
    const { HUB_ADMIN_TOKEN: _a, ...noAdmin } = LAMBDA;
    expect(() => loadConfig(noAdmin)).toThrow(/HUB_ADMIN_TOKEN is missing/);
  });

  it('validates every secret by the one schema: the AES key, the token length', () => {
    expect(() => loadConfig({ ...LAMBDA, WECHAT_AES_KEY: 'short' })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ ...LAMBDA, WECHAT_AES_KEY: `${'a'.repeat(42)}+` })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ ...LAMBDA, WECHAT_TOKEN: 'prodtoken' })).toThrow(/WECHAT_TOKEN must be 16-32/);
    // The official example token only as the local default: set explicitly, it is too short.
    expect(() => loadConfig({ WECHAT_TOKEN: LOCAL_DEFAULTS.WECHAT_TOKEN })).toThrow(/WECHAT_TOKEN must be 16-32/);
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'x' })).toThrow(/WECHAT_APP_ID/);
  });

  it('the secrets a setting needs: a plain-mode account has no key; SMS keys only for Tencent', () => {
    expect(requiredSecrets({})).toContain('WECHAT_AES_KEY');
    expect(requiredSecrets({ WECHAT_MESSAGE_MODE: 'plain' })).not.toContain('WECHAT_AES_KEY');
    expect(requiredSecrets({ SMS_PROVIDER: 'tencent' })).toEqual(expect.arrayContaining(['TENCENT_SMS_SECRET_ID', 'TENCENT_SMS_SECRET_KEY']));
    const { WECHAT_AES_KEY: _k, ...plain } = LAMBDA;
    expect(loadConfig({ ...plain, WECHAT_MESSAGE_MODE: 'plain' }).WECHAT_AES_KEY).toBeUndefined();
    expect(loadConfig({ WECHAT_MESSAGE_MODE: 'plain' }).WECHAT_AES_KEY).toBeUndefined();
    expect(() => loadConfig({ WECHAT_MESSAGE_MODE: 'plain', WECHAT_AES_KEY: LOCAL_DEFAULTS.WECHAT_AES_KEY })).toThrow(/WECHAT_MESSAGE_MODE is plain/);
    expect(() => loadConfig({ ...LAMBDA, SMS_PROVIDER: 'tencent' })).toThrow(/TENCENT_SMS_SECRET_ID is missing.*TENCENT_SMS_SDK_APP_ID is required/);
  });

  it('outside the local runtime: no SMS stand-in, no webhook window above an hour', () => {
    expect(loadConfig(LAMBDA).SMS_PROVIDER).toBe('none');
    expect(() => loadConfig({ ...LAMBDA, SMS_PROVIDER: 'standin' })).toThrow(/standin exists only in the local runtime/);
    expect(() => loadConfig({ ...LAMBDA, HUB_WEBHOOK_MAX_SKEW_SECONDS: '3601' })).toThrow(/HUB_WEBHOOK_MAX_SKEW_SECONDS/);
    expect(loadConfig({ HUB_WEBHOOK_MAX_SKEW_SECONDS: '86400' }).HUB_WEBHOOK_MAX_SKEW_SECONDS).toBe(86_400);
  });

  it('in Lambda without the secret granted, a secret throws when read', () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: 'hub-nightly', WECHAT_APP_ID: 'wxprod', TMALL_APP_KEY: 'k', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y' };
    const cfg = loadConfig(env);
    expect(cfg.HUB_TIMEZONE).toBe('Asia/Shanghai');
    expect(cfg.WECHAT_API_BASE).toBe('https://api.weixin.qq.com');
    expect(cfg.TOP_API_BASE).toBe('https://eco.taobao.com/router/rest');
    expect(() => cfg.WECHAT_TOKEN).toThrow(/not available to this function/);
    expect(describeConfig(cfg).WECHAT_TOKEN).toBe('(not available)');
  });

  it('the banner shows a secret as its length and a SHA-256 fingerprint, never its characters', () => {
    const shown = describeConfig(loadConfig({}));
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
    expect(() => loadConfig({ HUB_TIMEZONE: 'Mars/Olympus' })).toThrow(/HUB_TIMEZONE/);
  });
});
