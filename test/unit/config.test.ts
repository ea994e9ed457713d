import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, LOCAL_DEFAULTS } from '../../lib/config/index.ts';

describe('configuration', () => {
  it('runs locally on embedded defaults, with the stand-in as the WeChat API', () => {
    const cfg = loadConfig({});
    expect(cfg.PORT).toBe(3000);
    expect(cfg.WECHAT_TOKEN).toBe(LOCAL_DEFAULTS.WECHAT_TOKEN);
    expect(cfg.WECHAT_API_BASE).toBe('http://127.0.0.1:3001');
    expect(loadConfig({ WECHAT_STANDIN_PORT: '4555' }).WECHAT_API_BASE).toBe('http://127.0.0.1:4555');
  });

  it('in Lambda uses no local secret, and a secret this function was not granted throws when read', () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: 'hub-dashboard', WECHAT_APP_ID: 'wxprod', TMALL_APP_KEY: 'k', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y' };
    const cfg = loadConfig(env);
    expect(cfg.HUB_TIMEZONE).toBe('Asia/Shanghai');
    expect(cfg.WECHAT_API_BASE).toBe('https://api.weixin.qq.com');
    expect(cfg.TOP_API_BASE).toBe('https://eco.taobao.com/router/rest');
    expect(() => cfg.WECHAT_TOKEN).toThrow(/not available to this function/);
    expect(describeConfig(cfg).WECHAT_TOKEN).toBe('(not available)');
  });

  it('in Lambda validates the secrets it was given', () => {
    const base = { AWS_LAMBDA_FUNCTION_NAME: 'hub-wechat', WECHAT_APP_ID: 'wxprod', TMALL_APP_KEY: 'k', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y' };
    const cfg = loadConfig({ ...base, WECHAT_TOKEN: 'prodtoken', WECHAT_AES_KEY: 'a'.repeat(43) });
    expect(cfg.WECHAT_TOKEN).toBe('prodtoken');
    expect(() => loadConfig({ ...base, WECHAT_AES_KEY: 'short' })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'x' })).toThrow(/WECHAT_APP_ID/);
  });

  it('masks every secret in the printed configuration', () => {
    const shown = describeConfig(loadConfig({}));
    expect(shown.HUB_ADMIN_TOKEN).not.toBe(LOCAL_DEFAULTS.HUB_ADMIN_TOKEN);
    expect(shown.HUB_ADMIN_TOKEN).toMatch(/^lo\*+en$/);
    expect(Object.values(shown).join(' ')).not.toContain(LOCAL_DEFAULTS.WECHAT_AES_KEY);
  });

  it('rejects an unknown time zone', () => {
    expect(() => loadConfig({ HUB_TIMEZONE: 'Mars/Olympus' })).toThrow(/HUB_TIMEZONE/);
  });
});
