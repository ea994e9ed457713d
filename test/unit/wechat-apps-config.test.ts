import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, requiredSecrets } from '../../lib/config/index.ts';

const A = { appId: 'wxa1a1a1a1a1a1a1a1', kind: 'official', name: 'A', token: 'TokenOfAccountA0123', aesKey: 'k'.repeat(43), appSecret: 'secret-a' };
const B = { appId: 'wxb2b2b2b2b2b2b2b2', kind: 'official', name: 'B', token: 'TokenOfAccountB0123', appSecret: 'secret-b' };
const M = { appId: 'wxm3m3m3m3m3m3m3m3', kind: 'miniprogram', name: 'M', appSecret: 'secret-m' };
const apps = (...xs: unknown[]) => ({ HUB_WECHAT_APPS: JSON.stringify(xs) });

describe('HUB_WECHAT_APPS', () => {
  it('locally replaces the embedded example account; the first official entry is the default', () => {
    const cfg = loadConfig({ env: apps(M, A, B), local: true });
    expect(cfg.wechatApps.map((a) => a.appId)).toEqual([A.appId, M.appId, B.appId]);
    expect(cfg.WECHAT_APP_ID).toBe(A.appId);
    expect(cfg.WECHAT_TOKEN).toBe(A.token);
    expect(cfg.WECHAT_APP_SECRET).toBe('secret-a');
    expect(cfg.WECHAT_AES_KEY).toBe(A.aesKey);
  });

  it('merges the single-account names in as the default account', () => {
    const cfg = loadConfig({ env: { ...apps(B, M), WECHAT_APP_ID: 'wxshorthand000001', WECHAT_TOKEN: 'ShorthandToken0123', WECHAT_APP_SECRET: 's', WECHAT_MESSAGE_MODE: 'plain' }, local: true });
    expect(cfg.wechatApps.map((a) => [a.appId, a.kind])).toEqual([['wxshorthand000001', 'official'], [B.appId, 'official'], [M.appId, 'miniprogram']]);
    expect(cfg.wechatApps[0]!.aesKey).toBeUndefined();
  });

  it('without it, the one configured account is the estate (single-account hubs unchanged)', () => {
    const cfg = loadConfig({ env: {}, local: true });
    expect(cfg.wechatApps).toHaveLength(1);
    expect(cfg.wechatApps[0]).toMatchObject({ appId: cfg.WECHAT_APP_ID, kind: 'official', token: cfg.WECHAT_TOKEN });
  });

  it('stops the start naming the entry: a missing field, a duplicate appId, a malformed key or token', () => {
    const { token: _t, ...noToken } = B;
    expect(() => loadConfig({ env: apps(A, noToken), local: true })).toThrow(/HUB_WECHAT_APPS\[1\] \(wxb2b2b2b2b2b2b2b2\): an official account needs token/);
    expect(() => loadConfig({ env: apps(A, { ...B, appId: A.appId }), local: true })).toThrow(/HUB_WECHAT_APPS\[1\] \(wxa1a1a1a1a1a1a1a1\): duplicate appId/);
    expect(() => loadConfig({ env: apps(A, { ...B, aesKey: 'short' }), local: true })).toThrow(/HUB_WECHAT_APPS\[1\] \(wxb2b2b2b2b2b2b2b2\): aesKey: aesKey must be 43/);
    expect(() => loadConfig({ env: apps({ ...A, token: 'short' }), local: true })).toThrow(/HUB_WECHAT_APPS\[0\] \(wxa1a1a1a1a1a1a1a1\): token: token must be 16-32/);
    const { appSecret: _s, ...noSecret } = M;
    expect(() => loadConfig({ env: apps(A, noSecret), local: true })).toThrow(/HUB_WECHAT_APPS\[1\] \(wxm3m3m3m3m3m3m3m3\): appSecret/);
    expect(() => loadConfig({ env: apps(A, { ...M, token: B.token }), local: true })).toThrow(/HUB_WECHAT_APPS\[1\].*a mini program has no server token/);
    expect(() => loadConfig({ env: apps(A, { ...B, extra: 1 }), local: true })).toThrow(/HUB_WECHAT_APPS\[1\]/);
    expect(() => loadConfig({ env: { HUB_WECHAT_APPS: '{' }, local: true })).toThrow(/HUB_WECHAT_APPS is not JSON/);
    expect(() => loadConfig({ env: { HUB_WECHAT_APPS: '[]' }, local: true })).toThrow(/non-empty JSON array/);
    expect(() => loadConfig({ env: { ...apps(M), WECHAT_APP_ID: M.appId }, local: true })).toThrow(/not a mini program/);
  });

  it('in Lambda: the stage app ids must match the configured apps; the shorthand secrets are not needed when an entry carries the default', () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: 'hub-wechat', HUB_SECRET_ARNS: JSON.stringify({ wechat: 'arn:w' }), WECHAT_APP_ID: A.appId, TMALL_APP_KEY: 'k', JD_APP_KEY: 'j', YOUZAN_CLIENT_ID: 'y', ...apps(A, B) };
    expect(loadConfig({ env: { ...env, HUB_WECHAT_APP_IDS: `${A.appId},${B.appId}` } }).wechatApps).toHaveLength(2);
    expect(() => loadConfig({ env: { ...env, HUB_WECHAT_APP_IDS: `${A.appId},${B.appId},${M.appId}` } })).toThrow(/no secrets for wxm3m3m3m3m3m3m3m3/);
    expect(requiredSecrets({ WECHAT_APP_ID: A.appId, HUB_WECHAT_APPS: JSON.stringify([A]) })).not.toContain('WECHAT_TOKEN');
    expect(requiredSecrets({ WECHAT_APP_ID: 'wxother', HUB_WECHAT_APPS: JSON.stringify([A]) })).toContain('WECHAT_TOKEN');
  });

  it('shows every app secret in the banner as a fingerprint only', () => {
    const shown = JSON.stringify(describeConfig(loadConfig({ env: apps(A, B, M), local: true })));
    for (const secret of [A.token, A.aesKey, A.appSecret, B.token, B.appSecret, M.appSecret]) expect(shown).not.toContain(secret);
    expect(describeConfig(loadConfig({ env: apps(A, B, M), local: true })).wechatApps).toMatch(/wxb2b2b2b2b2b2b2b2 official "B" token \(19 chars, sha256 [0-9a-f]{8}\)/);
  });
});
