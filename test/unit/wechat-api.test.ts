/**
 * The WeChat API client against the local stand-in over real HTTP (ephemeral port).
 * Both share an injected clock so token lifetimes can be stepped through exactly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, UpstreamApiError } from '../../lib/errors.ts';
import { createWechatApi } from '../../lib/wechat/client.ts';
import {
  classifyErrcode,
  classifyWechatError,
  isOutsideWindow,
  isRecipientUnreachable,
  isTokenError,
  WECHAT_ERROR_TABLE,
} from '../../lib/wechat/errors.ts';
import { parseJsonKeepingBigInts, type WechatApiOptions } from '../../lib/wechat/wire.ts';
import { memoryTokenCache } from '../../lib/wechat/token-cache.ts';
import { startWechatStandin, type WechatStandin } from '../../local/wechat-standin.ts';

const APP = 'wx5823bf96d3bd56c7';
const SECRET = 'unit-test-secret';
const T0 = Date.UTC(2025, 0, 1, 2, 0, 0);
const TOKEN1 = `standin-token-${APP}-1`;
const TOKEN2 = `standin-token-${APP}-2`;
const TOKEN3 = `standin-token-${APP}-3`;
const STABLE = '/cgi-bin/stable_token';
const TEMPLATE = '/cgi-bin/message/template/send';
const CUSTOM = '/cgi-bin/message/custom/send';
const OAUTH = '/sns/oauth2/access_token';

let clock = T0;
let standin: WechatStandin;

beforeAll(async () => {
  standin = await startWechatStandin({ port: 0, apps: { [APP]: SECRET }, now: () => clock });
});
afterAll(async () => {
  await standin.close();
});
beforeEach(() => {
  clock = T0;
  standin.reset();
});

function client(overrides: Partial<WechatApiOptions> = {}) {
  return createWechatApi({
    appId: APP,
    appSecret: SECRET,
    baseUrl: standin.url,
    tokenCache: memoryTokenCache(),
    now: () => clock,
    timeoutMs: 1000,
    ...overrides,
  });
}

const template = (touser = 'o123') => ({
  touser,
  templateId: 'tpl-points',
  url: 'https://hub.example.com/member',
  data: { keyword1: { value: '巧克力' }, keyword2: { value: '39.8元' } },
});

async function failure(p: Promise<unknown>): Promise<UpstreamApiError> {
  const err: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamApiError);
  return err as UpstreamApiError;
}

const forceFlags = () => standin.calls(STABLE).map((c) => (c.body as { force_refresh: boolean }).force_refresh);
const tokensUsed = (path: string) => standin.calls(path).map((c) => c.query.access_token);

describe('access token', () => {
  it('is fetched once from stable_token and shared by two clients through the cache', async () => {
    const cache = memoryTokenCache();
    const a = client({ tokenCache: cache });
    const b = client({ tokenCache: cache });
    expect(await a.getAccessToken()).toBe(TOKEN1);
    expect(await b.getAccessToken()).toBe(TOKEN1);
    expect(await a.getAccessToken()).toBe(TOKEN1);
    expect(standin.calls(STABLE)).toEqual([
      {
        method: 'POST',
        path: STABLE,
        query: {},
        body: { grant_type: 'client_credential', appid: APP, secret: '***', force_refresh: false },
        at: T0,
      },
    ]);
    expect(standin.calls('/cgi-bin/token')).toEqual([]);
    expect(cache.entries().get(APP)).toEqual({ token: TOKEN1, expiresAt: T0 + 7_200_000 });
  });

  it('concurrent callers in one client share one fetch', async () => {
    const a = client();
    expect(await Promise.all([a.getAccessToken(), a.getAccessToken(), a.getAccessToken()])).toEqual([TOKEN1, TOKEN1, TOKEN1]);
    expect(standin.calls(STABLE).length).toBe(1);
  });

  it('is refreshed 5 minutes ahead of expiry', async () => {
    const cache = memoryTokenCache();
    const a = client({ tokenCache: cache });
    expect(await a.getAccessToken()).toBe(TOKEN1);

    clock = T0 + 7_200_000 - 301_000; // 301 s left: still used
    expect(await a.getAccessToken()).toBe(TOKEN1);
    expect(standin.calls(STABLE).length).toBe(1);

    clock = T0 + 7_200_000 - 299_000; // 299 s left: refreshed
    expect(await a.getAccessToken()).toBe(TOKEN2);
    expect(standin.calls(STABLE).length).toBe(2);
    expect(forceFlags()).toEqual([false, false]);
    expect(cache.entries().get(APP)).toEqual({ token: TOKEN2, expiresAt: clock + 7_200_000 });

    // another client sharing the cache takes the new token without a call
    expect(await client({ tokenCache: cache }).getAccessToken()).toBe(TOKEN2);
    expect(standin.calls(STABLE).length).toBe(2);
  });

  it('keeps using the still-valid token when the early refresh fails', async () => {
    const cache = memoryTokenCache();
    const a = client({ tokenCache: cache });
    expect(await a.getAccessToken()).toBe(TOKEN1);
    clock = T0 + 7_200_000 - 200_000;
    standin.setFault(STABLE, { type: 'errcode', errcode: -1 });
    expect(await a.getAccessToken()).toBe(TOKEN1);
    expect(standin.calls(STABLE).length).toBe(2);
    expect(cache.entries().get(APP)).toEqual({ token: TOKEN1, expiresAt: T0 + 7_200_000 });
  });

  it('an expired cached token is not used', async () => {
    const cache = memoryTokenCache();
    await cache.put(APP, 'stale-token', T0 - 1);
    expect(await client({ tokenCache: cache }).getAccessToken()).toBe(TOKEN1);
  });

  it('bad credentials are permanent errors', async () => {
    const wrongSecret = await failure(client({ appSecret: 'nope' }).getAccessToken());
    expect([wrongSecret.api, wrongSecret.errcode, wrongSecret.retryable]).toEqual(['wechat.stable_token', 40125, false]);
    const wrongApp = await failure(client({ appId: 'wx0000000000000000' }).getAccessToken());
    expect([wrongApp.api, wrongApp.errcode, wrongApp.retryable]).toEqual(['wechat.stable_token', 40013, false]);
    expect(wrongSecret.message).not.toContain(SECRET);
  });
});

describe('token rejected by a call (40001/40014/42001)', () => {
  it('re-fetches exactly once and retries the call once', async () => {
    const cache = memoryTokenCache();
    const a = client({ tokenCache: cache });
    expect(await a.getAccessToken()).toBe(TOKEN1);
    standin.revokeTokens(APP); // e.g. another party force-refreshed

    expect(await a.sendTemplate(template())).toEqual({ msgid: '2000000000000000001' });
    expect(standin.calls(STABLE).length).toBe(2);
    expect(forceFlags()).toEqual([false, false]);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2]);
    expect(standin.messages().length).toBe(1);
    expect(cache.entries().get(APP)).toEqual({ token: TOKEN2, expiresAt: T0 + 7_200_000 });
  });

  it('uses force_refresh once when normal mode returns the rejected token', async () => {
    const a = client();
    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 40001, errmsg: 'invalid credential' });
    expect(await a.sendTemplate(template())).toEqual({ msgid: '2000000000000000001' });
    expect(forceFlags()).toEqual([false, false, true]);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2]);
  });

  it('a second rejection is thrown, not looped on; force_refresh is not repeated within 30 s', async () => {
    const a = client();
    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 42001 }, 2);
    const first = await failure(a.sendTemplate(template()));
    expect([first.errcode, first.retryable, isTokenError(first)]).toEqual([42001, true, true]);
    expect(forceFlags()).toEqual([false, false, true]);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2]);

    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 40014 }, 1);
    const second = await failure(a.sendTemplate(template()));
    expect([second.errcode, second.retryable]).toEqual([40014, true]);
    expect(forceFlags()).toEqual([false, false, true, false]);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2, TOKEN2]);
    expect(standin.messages()).toEqual([]);

    clock += 30_000; // force_refresh allowed again
    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 40001 }, 1);
    expect(await a.sendTemplate(template())).toEqual({ msgid: '2000000000000000001' });
    expect(forceFlags()).toEqual([false, false, true, false, false, true]);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2, TOKEN2, TOKEN2, TOKEN3]);
  });

  it('takes a token another instance already renewed from the cache instead of calling WeChat', async () => {
    const cache = memoryTokenCache();
    const a = client({ tokenCache: cache });
    const b = client({ tokenCache: cache });
    expect([await a.getAccessToken(), await b.getAccessToken()]).toEqual([TOKEN1, TOKEN1]);
    standin.revokeTokens(APP);

    expect(await b.sendTemplate(template())).toEqual({ msgid: '2000000000000000001' });
    expect(standin.calls(STABLE).length).toBe(2);
    // a still holds TOKEN1 in memory: rejected, then TOKEN2 comes from the shared cache
    expect(await a.sendTemplate(template())).toEqual({ msgid: '2000000000000000002' });
    expect(standin.calls(STABLE).length).toBe(2);
    expect(tokensUsed(TEMPLATE)).toEqual([TOKEN1, TOKEN2, TOKEN1, TOKEN2]);
  });
});

describe('error classification', () => {
  it.each([
    [{ type: 'errcode', errcode: 45011 } as const, 45011],
    [{ type: 'errcode', errcode: -1 } as const, -1],
    [{ type: 'http', status: 500 } as const, 'http_500'],
    [{ type: 'http', status: 502, body: '<html>bad gateway</html>' } as const, 'http_502'],
  ])('%o → retryable, no retry by the client', async (fault, errcode) => {
    const a = client();
    await a.getAccessToken();
    standin.setFault(TEMPLATE, fault);
    const err = await failure(a.sendTemplate(template()));
    expect([err.api, err.errcode, err.retryable, err.status]).toEqual(['wechat.template_send', errcode, true, 502]);
    expect(standin.calls(TEMPLATE).length).toBe(1);
    expect(standin.messages()).toEqual([]);
  });

  it('a hang past the client timeout → retryable timeout', async () => {
    const a = client({ timeoutMs: 200 });
    await a.getAccessToken();
    standin.setFault(CUSTOM, { type: 'hang', ms: 1500 });
    const err = await failure(a.sendCustom({ touser: 'o123', msgtype: 'text', text: { content: 'hi' } }));
    expect([err.api, err.errcode, err.retryable, err.message]).toEqual([
      'wechat.custom_send',
      'timeout',
      true,
      'wechat.custom_send: no answer within 200 ms',
    ]);
    // The client gave up on its own: the stand-in still holds the request, unanswered.
    expect(standin.held()).toBe(1);
    expect(standin.calls(CUSTOM)).toHaveLength(1);
    await standin.settled();
    expect(standin.held()).toBe(0);
    expect(standin.messages()).toEqual([]);
  });

  it('a refused connection → retryable network error', async () => {
    const err = await failure(client({ baseUrl: 'http://127.0.0.1:1' }).getAccessToken());
    expect([err.api, err.errcode, err.retryable]).toEqual(['wechat.stable_token', 'network', true]);
  });

  it('a non-JSON 200 answer → retryable bad_response', async () => {
    standin.setFault(STABLE, { type: 'http', status: 200, body: '<html>portal</html>' });
    const err = await failure(client().getAccessToken());
    expect([err.errcode, err.retryable]).toEqual(['bad_response', true]);
  });

  it('an answer repeating a key with another value is ambiguous → retryable bad_response', async () => {
    standin.setFault(STABLE, { type: 'http', status: 200, body: '{"access_token":"t-a","access_token":"t-b","expires_in":7200}' });
    const err = await failure(client().getAccessToken());
    expect([err.errcode, err.retryable]).toEqual(['bad_response', true]);
  });

  it('43004 (unsubscribed) is permanent for template and custom sends', async () => {
    const a = client();
    standin.unsubscribe('oGone');
    const t = await failure(a.sendTemplate(template('oGone')));
    expect([t.api, t.errcode, t.retryable, isRecipientUnreachable(t), isOutsideWindow(t)]).toEqual([
      'wechat.template_send',
      43004,
      false,
      true,
      false,
    ]);
    const c = await failure(a.sendCustom({ touser: 'oGone', msgtype: 'text', text: { content: 'hi' } }));
    expect([c.api, c.errcode, c.retryable]).toEqual(['wechat.custom_send', 43004, false]);
    expect(standin.messages()).toEqual([]);
  });

  it('45015 and 45047 are not retryable (wait for the next user action); both are outside the window', async () => {
    const a = client();
    standin.setFault(CUSTOM, { type: 'errcode', errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' });
    const closed = await failure(a.sendCustom({ touser: 'o123', msgtype: 'text', text: { content: 'hi' } }));
    expect([closed.errcode, closed.retryable, isOutsideWindow(closed)]).toEqual([45015, false, true]);
    expect(closed.message).toBe('wechat.custom_send failed: 45015 response out of time limit or subscription is canceled rid: standin');
    standin.setFault(CUSTOM, { type: 'errcode', errcode: 45047 });
    const used = await failure(a.sendCustom({ touser: 'o123', msgtype: 'text', text: { content: 'hi' } }));
    expect([used.errcode, used.retryable, isOutsideWindow(used)]).toEqual([45047, false, true]);
  });

  it('40029 (bad OAuth code) is permanent and needs no access token', async () => {
    const err = await failure(client().oauthExchange('not-a-local-code'));
    expect([err.api, err.errcode, err.retryable, classifyWechatError(err)?.kind]).toEqual([
      'wechat.oauth2_access_token',
      40029,
      false,
      'oauth',
    ]);
    expect(standin.calls(STABLE)).toEqual([]);
  });

  it('the table', () => {
    expect(classifyErrcode(-1)).toEqual({ retryable: true, kind: 'busy', meaning: 'system busy' });
    expect(classifyErrcode('45009')).toMatchObject({ retryable: false, kind: 'quota' });
    expect(classifyErrcode('47003')).toMatchObject({ retryable: false, kind: 'request' });
    expect(classifyErrcode('http_503')).toBe(WECHAT_ERROR_TABLE.http_5xx);
    expect(classifyErrcode('http_404')).toBe(WECHAT_ERROR_TABLE.http_4xx);
    expect(classifyErrcode('http_429').retryable).toBe(true);
    expect(classifyErrcode(99999)).toEqual({ retryable: false, kind: 'unknown', meaning: 'errcode not in the classification table' });
    const permanent = [40003, 43004, 43101, 45009, 45015, 45047, 47003, 40037, 40029, 40163, 48001, 40013, 40125, 40164];
    expect(permanent.map((c) => classifyErrcode(c).retryable)).toEqual(permanent.map(() => false));
    const retryable = [-1, 45011, 40001, 40014, 42001, 'timeout', 'network', 'http_500'];
    expect(retryable.map((c) => classifyErrcode(c).retryable)).toEqual(retryable.map(() => true));
    expect(classifyWechatError(new Error('x'))).toBe(null);
  });
});

describe('calls', () => {
  it('template msgid beyond 2^53 is kept exact as a string', async () => {
    const a = client();
    const first = await a.sendTemplate(template());
    const second = await a.sendTemplate(template());
    expect(first).toEqual({ msgid: '2000000000000000001' });
    expect(second).toEqual({ msgid: '2000000000000000002' });
    expect(String(Number(first.msgid))).not.toBe(first.msgid); // what JSON.parse would have produced
  });

  it('client_msg_id makes a repeated template send return the first msgid', async () => {
    const a = client();
    const first = await a.sendTemplate({ ...template(), clientMsgId: 'welcome-o123' });
    const again = await a.sendTemplate({ ...template(), clientMsgId: 'welcome-o123' });
    expect([first.msgid, again.msgid]).toEqual(['2000000000000000001', '2000000000000000001']);
    expect(standin.messages().length).toBe(1);
    expect(standin.messages()[0]?.clientMsgId).toBe('welcome-o123');
  });

  it('oauth code local:o123 yields openid o123', async () => {
    expect(await client().oauthExchange('local:o123')).toEqual({ openid: 'o123', scope: 'snsapi_base', snapshotUser: false });
    expect(standin.calls(OAUTH)[0]?.query).toEqual({
      appid: APP,
      secret: '***',
      code: 'local:o123',
      grant_type: 'authorization_code',
    });
    standin.setUser('o456', { unionid: 'u456' });
    expect(await client().oauthExchange('local:o456')).toEqual({
      openid: 'o456',
      unionid: 'u456',
      scope: 'snsapi_userinfo',
      snapshotUser: false,
    });
    expect(await client().oauthExchange('local-snapshot:o789')).toEqual({ openid: 'o789', scope: 'snsapi_base', snapshotUser: true });
  });

  it('QR scene longer than 64 characters (or empty) is rejected before any call', async () => {
    const a = client();
    for (const scene of ['c'.repeat(65), '']) {
      const err: unknown = await a.createQrLimitStrScene(scene).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect([(err as BadRequestError).status, (err as BadRequestError).code]).toEqual([400, 'invalid_qr_scene']);
    }
    expect(standin.calls()).toEqual([]);
  });

  it('QR_LIMIT_STR_SCENE with a 64-character scene', async () => {
    const scene = 'ch_'.padEnd(64, 'x');
    const qr = await client().createQrLimitStrScene(scene);
    const ticket = Buffer.from(`standin-qr:${APP}:QR_LIMIT_STR_SCENE:${scene}`).toString('base64');
    expect(qr).toEqual({
      ticket,
      url: `http://weixin.qq.com/q/standin_${Buffer.from(`${APP}:QR_LIMIT_STR_SCENE:${scene}`).toString('base64url')}`,
      qrImageUrl: `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`,
    });
    expect(standin.calls('/cgi-bin/qrcode/create')[0]?.body).toEqual({
      action_name: 'QR_LIMIT_STR_SCENE',
      action_info: { scene: { scene_str: scene } },
    });
    expect(await client().createQrLimitStrScene(scene)).toEqual(qr); // permanent: same ticket again
    expect(standin.qrCodes().length).toBe(1);
  });

  it('user/info', async () => {
    const a = client();
    standin.setUser('oFan', {
      unionid: 'uFan',
      subscribeTime: 1_700_000_000_000,
      subscribeScene: 'ADD_SCENE_QR_CODE',
      qrSceneStr: 'ch_spring',
    });
    expect(await a.userInfo('oFan')).toEqual({
      openid: 'oFan',
      subscribed: true,
      unionid: 'uFan',
      subscribeTime: 1_700_000_000_000,
      subscribeScene: 'ADD_SCENE_QR_CODE',
      qrSceneStr: 'ch_spring',
      tagIds: [],
    });
    standin.unsubscribe('oFan');
    expect(await a.userInfo('oFan')).toEqual({ openid: 'oFan', subscribed: false, unionid: 'uFan', tagIds: [] });
    expect(standin.calls('/cgi-bin/user/info')[0]?.query).toEqual({ access_token: TOKEN1, openid: 'oFan', lang: 'zh_CN' });
  });

  it('invalid input is a BadRequestError before any call', async () => {
    const a = client();
    await expect(a.sendTemplate(template('bad openid!'))).rejects.toBeInstanceOf(BadRequestError);
    // @ts-expect-error msgtype without its payload
    await expect(a.sendCustom({ touser: 'o123', msgtype: 'text' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(a.oauthExchange('')).rejects.toBeInstanceOf(BadRequestError);
    await expect(a.userInfo('')).rejects.toBeInstanceOf(BadRequestError);
    expect(standin.calls()).toEqual([]);
  });
});

describe('stand-in message log', () => {
  it('records template and custom messages and lists / clears them over HTTP', async () => {
    const a = client();
    const { msgid } = await a.sendTemplate(template());
    await a.sendCustom({ touser: 'o123', msgtype: 'news', news: { articles: [{ title: '欢迎', url: 'https://hub.example.com' }] } });
    const expected = [
      {
        kind: 'template',
        appId: APP,
        touser: 'o123',
        msgid,
        templateId: 'tpl-points',
        body: {
          touser: 'o123',
          template_id: 'tpl-points',
          url: 'https://hub.example.com/member',
          data: { keyword1: { value: '巧克力' }, keyword2: { value: '39.8元' } },
        },
        at: T0,
      },
      {
        kind: 'custom',
        appId: APP,
        touser: 'o123',
        msgtype: 'news',
        body: { touser: 'o123', msgtype: 'news', news: { articles: [{ title: '欢迎', url: 'https://hub.example.com' }] } },
        at: T0,
      },
    ];
    expect(standin.messages()).toEqual(expected);

    const listed = await fetch(`${standin.url}/_local/messages`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ messages: expected });

    const cleared = await fetch(`${standin.url}/_local/messages`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ cleared: 2 });
    expect(standin.messages()).toEqual([]);
  });

  it('faults and users can be set over HTTP', async () => {
    const a = client();
    const set = await fetch(`${standin.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ path: TEMPLATE, fault: { type: 'errcode', errcode: -1 }, count: 1 }),
    });
    expect(set.status).toBe(200);
    expect((await failure(a.sendTemplate(template()))).errcode).toBe(-1);
    expect(await a.sendTemplate(template())).toEqual({ msgid: '2000000000000000001' });

    await fetch(`${standin.url}/_local/users/oGone`, { method: 'PUT', body: JSON.stringify({ subscribed: false }) });
    expect((await failure(a.sendTemplate(template('oGone')))).errcode).toBe(43004);
  });
});

describe('parseJsonKeepingBigInts', () => {
  it('turns only unsafe integers outside strings into strings', () => {
    expect(
      parseJsonKeepingBigInts(
        '{"s":"a\\"msgid\\":3717005636572528642","msgid":3717005636572528642,"n":12,"f":1.5e3,"neg":-9007199254740993,"a":[9007199254740991]}',
      ),
    ).toEqual({
      s: 'a"msgid":3717005636572528642',
      msgid: '3717005636572528642',
      n: 12,
      f: 1500,
      neg: '-9007199254740993',
      a: [9007199254740991],
    });
  });

  it('refuses a key repeated with a different value, accepts one repeated with the same value', () => {
    expect(() => parseJsonKeepingBigInts('{"msgid":1,"msgid":2}')).toThrow(SyntaxError);
    expect(parseJsonKeepingBigInts('{"msgid":1,"msgid":1}')).toEqual({ msgid: 1 });
  });
});
