/**
 * Menus and keywords through the real signed WeChat door (safe mode: encrypted pushes and
 * encrypted passive replies) and the admin routes, on DynamoDB Local:
 *   - keyword rules written with PUT /keywords/{appId} (validated: a pattern RE2 refuses is a 400
 *     naming the entry), first match wins;
 *   - a keyword message gets its reply as the passive reply in the HTTP answer; WeChat's retry of
 *     the push gets the same reply and counts nothing twice;
 *   - menu CLICK / VIEW pushes, with duplicates, in a shuffled order, counted once each;
 *   - unanswered messages' terms listed;
 *   - a hot keyword: pushes and their retries all at once still count exactly once each.
 * Every number is compared with a tally the test computes itself from what it sent.
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { configuredAccount, postPush, signedPush, type PushSpec } from '../support/wechat-client.ts';
import { shuffle } from '../support/random.ts';
import { hubConfig } from '../support/env.ts';
import { decrypt } from '../../lib/sources/wechat/crypto.ts';
import { parseWechatXml } from '../../lib/sources/wechat/xml.ts';

const hub = useTestHub({ queuePrefix: 'wxkw', functions: ['wechat', 'keywords'] });
const ADMIN = { authorization: 'Bearer local-admin-token', 'content-type': 'application/json' };

const appId = () => configuredAccount().appId;
const push = (spec: PushSpec) => postPush(hub.url, signedPush(spec, configuredAccount(), 'safe'));
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: hubConfig().HUB_TIMEZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

/** The decrypted text of a safe-mode passive reply; undefined for `success`. */
function replyText(body: string): string | undefined {
  if (body === 'success') return undefined;
  const { aesKey } = configuredAccount();
  const inner = parseWechatXml(decrypt(parseWechatXml(body).Encrypt!, { aesKey: aesKey!, appId: appId() }));
  expect(inner.MsgType).toBe('text');
  return inner.Content;
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(hub.url + path, { method, headers: ADMIN, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const RULES = [
  { keyword: '会员中心', match: 'exact', reply: '会员中心入口：点击菜单「我的」' },
  { keyword: '积分', match: 'contains', reply: '积分可在会员中心兑换好礼' },
  // Also contains 积分: never reached for those, the rule above wins.
  { keyword: '积分兑换', match: 'contains', reply: 'unreachable' },
  { keyword: '抽奖', match: 'regex', pattern: '(?i)^(抽奖|lucky ?draw)[!！]?$', reply: '抽奖活动每周五开奖' },
  { keyword: '投诉', match: 'contains' },
] as const;

describe('keyword rules (PUT /keywords/{appId})', () => {
  it('refuses what it cannot use, naming the entry; stores a valid set and answers it back', async () => {
    const bad = await admin('PUT', `/keywords/${appId()}`, { rules: [{ keyword: 'ok', match: 'exact' }, { keyword: '回看', match: 'regex', pattern: '(?<=a)b' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('bad_keyword_rules');
    expect(String(bad.json.message)).toContain('rules[1] "回看" pattern');
    const noPattern = await admin('PUT', `/keywords/${appId()}`, { rules: [{ keyword: 'x', match: 'regex' }] });
    expect(noPattern.status).toBe(400);
    expect(String(noPattern.json.message)).toContain('rules[0] "x": a regex rule needs a pattern');
    expect((await admin('PUT', `/keywords/${appId()}`, { rules: [{ keyword: 'x', match: 'fuzzy' }] })).status).toBe(400);
    expect((await admin('PUT', '/keywords/wxunknown000000000', { rules: [] })).status).toBe(404);
    expect((await fetch(`${hub.url}/keywords/${appId()}`, { method: 'PUT', body: JSON.stringify({ rules: [] }) })).status).toBe(401);
    // Nothing was written by the refused requests.
    expect((await admin('GET', `/keywords/${appId()}`)).json).toMatchObject({ rules: [], version: 0, updatedAt: null });

    const ok = await admin('PUT', `/keywords/${appId()}`, { rules: RULES, version: 0 });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ appId: appId(), rules: RULES, version: 1 });
    expect((await admin('PUT', `/keywords/${appId()}`, { rules: RULES, version: 0 })).status).toBe(409);
    expect((await admin('GET', `/keywords/${appId()}`)).json).toMatchObject({ rules: RULES, version: 1 });
  });
});

describe('menus and keywords through the push', () => {
  it('replies within the push, answers a retry alike, counts each push once; the insight routes agree with an independent tally', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    let seq = 0;
    const text = (from: string, content: string): PushSpec => ({ from, createTime: t0 - 60 + (seq++ % 50), msgType: 'text', content, msgId: String(24_000_000_000_000_000n + BigInt(seq)) });
    const menu = (from: string, event: 'CLICK' | 'VIEW', key: string): PushSpec => ({ from, createTime: t0 - 120 + (seq++ % 50), msgType: 'event', event, eventKey: key });

    // What the test sends, and what it expects each message to be answered.
    const texts: { spec: PushSpec; reply?: string; keyword?: string; terms?: string[] }[] = [
      { spec: text('oKw_1', '会员中心'), keyword: '会员中心', reply: RULES[0].reply },
      { spec: text('oKw_2', ' 会员中心 '), keyword: '会员中心', reply: RULES[0].reply },
      { spec: text('oKw_3', '我的积分兑换'), keyword: '积分', reply: RULES[1].reply },
      { spec: text('oKw_1', 'LUCKY DRAW！'), keyword: '抽奖', reply: RULES[3].reply },
      { spec: text('oKw_4', '抽奖'), keyword: '抽奖', reply: RULES[3].reply },
      { spec: text('oKw_5', '我要投诉快递'), keyword: '投诉' },
      { spec: text('oKw_2', '狗粮'), terms: ['狗粮'] },
      { spec: text('oKw_6', '狗粮'), terms: ['狗粮'] },
      { spec: text('oKw_10', '狗粮 '), terms: ['狗粮'] },
      { spec: text('oKw_7', 'Ｈｅｌｌｏ'), terms: ['hello'] },
      // Longer than 16 code points: its words (stop words, short words and digits left out).
      { spec: text('oKw_8', 'hello there, do you ship puppy food to shanghai'), terms: ['hello', 'there', 'ship', 'puppy', 'food'] },
      // A phone number is never counted.
      { spec: text('oKw_9', '13812345678'), terms: [] },
    ];
    const menus: { spec: PushSpec; event: 'CLICK' | 'VIEW'; key: string }[] = [];
    for (const [from, event, key] of [
      ['oMn_1', 'CLICK', 'MEMBER_CENTRE'],
      ['oMn_2', 'CLICK', 'MEMBER_CENTRE'],
      ['oMn_3', 'CLICK', 'MEMBER_CENTRE'],
      ['oMn_1', 'CLICK', 'OFFERS'],
      ['oMn_4', 'VIEW', 'https://shop.example.cn/puppy#feeding'],
      ['oMn_5', 'VIEW', 'https://shop.example.cn/puppy#feeding'],
    ] as const) menus.push({ spec: menu(from, event, key), event, key });

    // Every push once, a third of them again (WeChat's retries), in a shuffled order.
    const sends = [...texts.map((t) => ({ kind: 'text' as const, t })), ...menus.map((m) => ({ kind: 'menu' as const, m }))];
    const all = [...sends, ...sends.filter((_, i) => i % 3 === 0)];
    shuffle(all, 23);
    for (const s of all) {
      const res = await push(s.kind === 'text' ? s.t.spec : s.m.spec);
      expect(res.status).toBe(200);
      // The first answer and every retry's: the rule's reply, or success.
      expect(replyText(res.body), s.kind === 'text' ? s.t.spec.content : s.m.key).toBe(s.kind === 'text' ? s.t.reply : undefined);
    }

    // The independent tally: each distinct push once.
    const menuTally = new Map<string, number>();
    for (const m of menus) menuTally.set(JSON.stringify([m.event, m.key]), (menuTally.get(JSON.stringify([m.event, m.key])) ?? 0) + 1);
    const kwTally = new Map<string, { count: number; replies: number }>();
    const termTally = new Map<string, number>();
    for (const t of texts) {
      if (t.keyword) {
        const row = kwTally.get(t.keyword) ?? { count: 0, replies: 0 };
        row.count++;
        if (t.reply) row.replies++;
        kwTally.set(t.keyword, row);
      }
      for (const w of t.terms ?? []) termTally.set(w, (termTally.get(w) ?? 0) + 1);
    }

    const day = today();
    const menusRes = await admin('GET', `/insight/menus?from=${day}&to=${day}&appId=${appId()}`);
    expect(menusRes.status).toBe(200);
    const gotMenus = new Map((menusRes.json.rows as { appId: string; event: string; key: string; count: number }[]).map((r) => [JSON.stringify([r.event, r.key]), r.count]));
    expect(gotMenus).toEqual(menuTally);
    expect((menusRes.json.rows as { appId: string }[]).every((r) => r.appId === appId())).toBe(true);
    // Everyone here came without a channel: their first touch is organic.
    expect((await admin('GET', `/insight/menus?from=${day}&to=${day}&channel=organic`)).json.rows).toEqual(menusRes.json.rows);
    expect((await admin('GET', `/insight/menus?from=${day}&to=${day}&channel=store_qr`)).json.rows).toEqual([]);

    const kwRes = await admin('GET', `/insight/keywords?from=${day}&to=${day}&appId=${appId()}&limit=100`);
    expect(kwRes.status).toBe(200);
    const matched = kwRes.json.matched as { appId: string; keyword: string; replies: number; count: number }[];
    expect(new Map(matched.map((r) => [r.keyword, { count: r.count, replies: r.replies }]))).toEqual(kwTally);
    const unmatched = kwRes.json.unmatched as { word: string; count: number }[];
    expect(new Map(unmatched.map((w) => [w.word, w.count]))).toEqual(termTally);
    // Most frequent first.
    expect(unmatched[0]).toEqual({ word: '狗粮', count: 3 });
    expect((await admin('GET', `/insight/keywords?from=${day}&to=${day}&limit=1`)).json.unmatched).toEqual([{ word: '狗粮', count: 3 }]);
  });

  it('a hot keyword: concurrent pushes and their concurrent retries count exactly once each', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const day = today();
    const before = await admin('GET', `/insight/keywords?from=${day}&to=${day}&appId=${appId()}`);
    const countOf = (json: Record<string, unknown>) => (json.matched as { keyword: string; count: number }[]).find((r) => r.keyword === '抽奖')?.count ?? 0;
    const specs: PushSpec[] = Array.from({ length: 24 }, (_, i) => ({ from: `oHot_${i}`, createTime: t0 - (i % 20), msgType: 'text', content: '抽奖', msgId: String(25_000_000_000_000_000n + BigInt(i)) }));
    // Each push twice at once (WeChat's retry racing the first delivery), all of them together.
    const answers = await Promise.all([...specs, ...specs].map((s) => push(s)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(replyText(a.body)).toBe(RULES[3].reply);
    }
    const after = await admin('GET', `/insight/keywords?from=${day}&to=${day}&appId=${appId()}`);
    expect(countOf(after.json) - countOf(before.json)).toBe(specs.length);
  });

  it('validates the query: 400 with the reason', async () => {
    const day = today();
    for (const [q, reason] of [
      ['', 'bad_date'],
      [`from=${day}`, 'bad_date'],
      [`from=2026-02-30&to=2026-03-01`, 'bad_date'],
      [`from=${day}&to=2020-01-01`, 'bad_range'],
      ['from=2020-01-01&to=2021-06-01', 'range_too_long'],
      [`from=${day}&to=${day}&appId=a%23b`, 'bad_app_id'],
      [`from=${day}&to=${day}&channel=a%23b`, 'bad_channel'],
      [`from=${day}&to=${day}&model=first`, 'bad_query'],
    ] as const) {
      for (const route of ['/insight/menus', '/insight/keywords']) {
        const res = await admin('GET', `${route}?${q}`);
        expect(res.status, `${route}?${q}`).toBe(400);
        expect(res.json.error, `${route}?${q}`).toBe(reason);
      }
    }
    for (const limit of ['0', '501', 'ten', '-1']) expect((await admin('GET', `/insight/keywords?from=${day}&to=${day}&limit=${limit}`)).json.error).toBe('bad_limit');
    expect((await admin('GET', `/insight/menus?from=${day}&to=${day}&limit=5`)).json.error).toBe('bad_query');
  });
});
