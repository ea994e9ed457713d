/**
 * The WeCom outbound pieces without a network: the client's wire format and error classes
 * (lib/wecom/client.ts) against a fake fetch that answers as WeCom does, and the staff-alert
 * helpers (lib/wecom/staff-alerts.ts). Expected values are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { clipUtf8, createWecomApi } from '../../lib/wecom/client.ts';
import { alertLine, guideOf, packLines, recipientsOf } from '../../lib/wecom/staff-alerts.ts';
import { UpstreamApiError } from '../../lib/errors.ts';

type Call = { path: string; query: URLSearchParams; body?: Record<string, unknown> };

/** A fetch answering gettoken with `tok<n>` and every other path with `answers[path]` in turn. */
function fakeWecom(answers: Record<string, Record<string, unknown>[]>) {
  const calls: Call[] = [];
  let tokens = 0;
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    calls.push({ path: url.pathname, query: url.searchParams, ...(body ? { body } : {}) });
    const json = url.pathname === '/cgi-bin/gettoken' ? { errcode: 0, errmsg: 'ok', access_token: `tok${++tokens}`, expires_in: 7200 } : (answers[url.pathname]?.shift() ?? { errcode: -1, errmsg: 'system busy' });
    return new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { calls, api: createWecomApi({ corpId: 'wwcorp', secret: 's3cret', baseUrl: 'http://wecom.test/', fetch }) };
}

describe('WeCom client', () => {
  it('creates a contact way: type 1 for one member, 2 for several; scene 2 (QR) with the state', async () => {
    const ok = { errcode: 0, errmsg: 'ok', config_id: 'cfg1', qr_code: 'https://wework.qpic.cn/x' };
    const w = fakeWecom({ '/cgi-bin/externalcontact/add_contact_way': [ok, { ...ok, config_id: 'cfg2' }] });
    expect(await w.api.addContactWay({ state: 'cw_store', users: ['li'] })).toEqual({ configId: 'cfg1', qrCode: 'https://wework.qpic.cn/x' });
    expect(await w.api.addContactWay({ state: 'cw_pair', users: ['li', 'wang'], remark: '门店' })).toEqual({ configId: 'cfg2', qrCode: 'https://wework.qpic.cn/x' });
    const adds = w.calls.filter((c) => c.path === '/cgi-bin/externalcontact/add_contact_way');
    expect(adds.map((c) => c.body)).toEqual([
      { type: 1, scene: 2, state: 'cw_store', user: ['li'], skip_verify: true },
      { type: 2, scene: 2, state: 'cw_pair', user: ['li', 'wang'], skip_verify: true, remark: '门店' },
    ]);
    // One token for both calls, sent as access_token; the secret only to gettoken.
    expect(w.calls.filter((c) => c.path === '/cgi-bin/gettoken')).toHaveLength(1);
    expect(adds.map((c) => c.query.get('access_token'))).toEqual(['tok1', 'tok1']);
  });

  it('sends a welcome once: 41051 is permanent, 41096 and -1 retryable; an expired token is refreshed once', async () => {
    const w = fakeWecom({
      '/cgi-bin/externalcontact/send_welcome_msg': [
        { errcode: 42001, errmsg: 'access_token expired' },
        { errcode: 0, errmsg: 'ok' },
        { errcode: 41051, errmsg: 'externaluser has started chatting' },
        { errcode: 41096, errmsg: 'welcome msg is being distributed' },
      ],
    });
    await w.api.sendWelcome('WC1', '欢迎');
    const sends = w.calls.filter((c) => c.path === '/cgi-bin/externalcontact/send_welcome_msg');
    expect(sends.map((c) => c.query.get('access_token'))).toEqual(['tok1', 'tok2']);
    expect(sends[1]!.body).toEqual({ welcome_code: 'WC1', text: { content: '欢迎' } });
    const used = await w.api.sendWelcome('WC1', '欢迎').catch((e: unknown) => e);
    expect(used).toBeInstanceOf(UpstreamApiError);
    expect(used).toMatchObject({ errcode: 41051, retryable: false });
    await expect(w.api.sendWelcome('WC2', '欢迎')).rejects.toMatchObject({ errcode: 41096, retryable: true });
    await expect(w.api.sendWelcome('WC3', '欢迎')).rejects.toMatchObject({ errcode: -1, retryable: true });
  });

  it('sends an app text to staff as `a|b` with the numeric agentid, cut to 2,048 bytes on a character boundary', async () => {
    const w = fakeWecom({ '/cgi-bin/message/send': [{ errcode: 0, errmsg: 'ok', invaliduser: 'gone', msgid: 'm1' }] });
    // 700 × '流' = 2,100 bytes: 682 characters (2,046 bytes) fit, the 683rd would make 2,049.
    const r = await w.api.sendAppText('1000002', ['li', 'gone'], '流'.repeat(700));
    expect(r).toEqual({ invalidUsers: ['gone'], msgid: 'm1' });
    const body = w.calls.find((c) => c.path === '/cgi-bin/message/send')!.body!;
    expect(body).toMatchObject({ touser: 'li|gone', msgtype: 'text', agentid: 1000002, safe: 0 });
    expect((body.text as { content: string }).content).toBe('流'.repeat(682));
    expect(clipUtf8('ab流', 4)).toBe('ab');
    expect(clipUtf8('ab流', 5)).toBe('ab流');
  });
});

describe('staff alerts', () => {
  it("the guide is the current contact added last; ended contacts don't count", () => {
    const guides = {
      a: { addedAt: 1, removedAt: 2, removedBy: 'customer' as const },
      b: { addedAt: 3 },
      c: { addedAt: 5, removedAt: 4, removedBy: 'staff' as const },
      d: { removedAt: 9, removedBy: 'staff' as const },
    };
    expect(guideOf({ wecom: { corpId: 'w', externalUserId: 'x', guides } })).toBe('c');
    expect(guideOf({ wecom: { corpId: 'w', externalUserId: 'x', guides: { a: guides.a } } })).toBeUndefined();
    expect(guideOf({})).toBeUndefined();
  });

  it('without a guide the alert goes to the fallback list (each once), or to nobody', () => {
    expect(recipientsOf({ wecom: { corpId: 'w', externalUserId: 'x', guides: { li: { addedAt: 1 } } } }, 'ops')).toEqual(['li']);
    expect(recipientsOf({}, 'ops_wang,ops_zhou,ops_wang')).toEqual(['ops_wang', 'ops_zhou']);
    expect(recipientsOf(undefined, 'ops')).toEqual(['ops']);
    expect(recipientsOf({}, undefined)).toEqual([]);
  });

  it('packs lines into messages of at most 2,048 bytes (newline separators counted)', () => {
    const k = (n: number, c: string) => c.repeat(n);
    // 1,000 + 1 + 1,000 = 2,001 fits; a third line would make 3,002. 1,047 + 1 + 1,000 = 2,048 fits exactly; 2,049 does not.
    expect(packLines([k(1000, 'a'), k(1000, 'b'), k(1000, 'c')], (x) => x).map((m) => m.map((x) => x[0]))).toEqual([['a', 'b'], ['c']]);
    expect(packLines([k(1047, 'a'), k(1000, 'b')], (x) => x)).toHaveLength(1);
    expect(packLines([k(1048, 'a'), k(1000, 'b')], (x) => x)).toHaveLength(2);
    // A line longer than a message is a message of its own.
    expect(packLines([k(3000, 'a'), 'b'], (x) => x).map((m) => m.length)).toEqual([1, 1]);
    expect(packLines([], (x: string) => x)).toEqual([]);
  });

  it('words a lapse alert with tier, days, last order day (local) and GMV in yuan', () => {
    // 2025-06-01 02:00 UTC = 10:00 in Shanghai, the same local day.
    const row = { ruleId: 'lapse_alert', memberId: 'm0', payload: { tier: 'gold', lastOrderAt: Date.UTC(2025, 5, 1, 2), gmvFen: 600_000, days: 180 } };
    expect(alertLine(row, { name: '小陈', memberId: 'm1' }, 'Asia/Shanghai')).toBe('【流失预警】金卡小陈（m1）已 180 天未下单，最近下单 2025-06-01，累计消费 ¥6000.00');
    expect(alertLine({ ...row, ruleId: 'other_rule' }, undefined, 'Asia/Shanghai')).toBe('【会员提醒】会员（m0）：other_rule');
  });
});
