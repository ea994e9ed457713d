/**
 * Menus and keywords, the pure parts: the keyword matcher (exact / contains / regex, first match
 * wins, RE2's linear-time matching on a pathological pattern), rule validation naming the bad
 * entry, the terms of unanswered messages, what planInsight adds to the push's transaction, and
 * which answers repeat the passive reply — each against hand-written tables.
 */
import { describe, expect, it } from 'vitest';
import { compileRules, KEYWORD_LIMITS, KeywordRulesError, matchKeyword, normaliseText } from '../../lib/insight/keywords.ts';
import { MAX_WORDS, unmatchedTerms } from '../../lib/insight/words.ts';
import { compiledRulesOf, planInsight } from '../../lib/insight/plan.ts';
import { passiveReplyOf } from '../../lib/sources/wechat/source.ts';
import { insightShardOf, type StoredKeywordRules } from '../../lib/store/entities/insight.ts';
import type { ApplyResult } from '../../lib/port.ts';
import type { WechatEvent } from '../../lib/events/hub-event.ts';
import { fakePort } from '../support/fake-port.ts';

const rules = (input: unknown[]) => compileRules({ rules: input }).compiled;
const keywordOf = (rs: ReturnType<typeof rules>, text: string) => matchKeyword(rs, text)?.keyword;

describe('keyword matcher', () => {
  const set = rules([
    { keyword: '会员', match: 'exact' },
    { keyword: 'vip', match: 'exact', pattern: 'VIP卡' },
    { keyword: '积分', match: 'contains' },
    { keyword: '积分商城', match: 'contains' },
    { keyword: '订单号', match: 'regex', pattern: '^订单\\s*\\d{6,}$' },
    { keyword: 'coupon', match: 'regex', pattern: '(?i)coupon|优惠券' },
  ]);
  // Hand-written: message → the keyword of the first rule that matches (undefined: none).
  const table: [string, string | undefined][] = [
    ['会员', '会员'],
    ['  会员  ', '会员'],
    ['会员中心', undefined], // exact: the whole message only
    ['vip卡', 'vip'], // exact ignores case
    ['ＶＩＰ卡', 'vip'], // full-width letters are NFKC-normalised
    ['我的积分', '积分'],
    ['积分商城在哪', '积分'], // both contain rules match: the earlier wins
    ['订单 123456', '订单号'],
    ['订单 12345', undefined],
    ['我的订单 123456', undefined], // anchored regex
    ['有 COUPON 吗', 'coupon'],
    ['领优惠券', 'coupon'],
    ['', undefined],
    ['   ', undefined],
    ['你好', undefined],
  ];
  it.each(table)('%j → %s', (text, expected) => expect(keywordOf(set, text)).toBe(expected));

  it('first match wins: the same rules in another order answer differently', () => {
    const reversed = rules([
      { keyword: '积分商城', match: 'contains' },
      { keyword: '积分', match: 'contains' },
    ]);
    expect(keywordOf(reversed, '积分商城在哪')).toBe('积分商城');
    expect(keywordOf(reversed, '积分')).toBe('积分');
  });

  it('a regex runs on the normalised text, case kept unless (?i)', () => {
    const set2 = rules([{ keyword: 'abc', match: 'regex', pattern: '^ABC 1$' }]);
    expect(keywordOf(set2, 'ＡＢＣ　 １')).toBe('abc');
    expect(keywordOf(set2, 'abc 1')).toBeUndefined();
  });

  it('a pathological pattern against a long input completes with the right answer (RE2: no backtracking)', () => {
    const set3 = rules([
      { keyword: 'nested', match: 'regex', pattern: '(a+)+$' },
      { keyword: 'alt', match: 'regex', pattern: '^(a|aa)+b$' },
    ]);
    const long = `${'a'.repeat(100_000)}!`;
    // `(a+)+$` needs the a's to reach the end: the trailing `!` forbids it; `^(a|aa)+b$` needs a b.
    expect(keywordOf(set3, long)).toBeUndefined();
    expect(keywordOf(set3, 'a'.repeat(100_000))).toBe('nested');
    expect(keywordOf(set3, `${'a'.repeat(50_001)}b`)).toBe('alt');
  });

  it('normalises NFKC, collapses whitespace, trims', () => {
    expect(normaliseText('  Ａ\u3000B\t\nC  ')).toBe('A B C');
  });
});

describe('rule validation', () => {
  const problems = (input: unknown): string[] => {
    try {
      compileRules(input);
    } catch (err) {
      expect(err).toBeInstanceOf(KeywordRulesError);
      return (err as KeywordRulesError).problems;
    }
    return [];
  };
  it('names each bad entry', () => {
    expect(
      problems({
        rules: [
          { keyword: 'ok', match: 'exact', reply: 'fine' },
          { keyword: 'look', match: 'regex', pattern: '(?<=a)b' },
          { keyword: 'back', match: 'regex', pattern: '(a)\\1' },
          { keyword: 'open', match: 'regex', pattern: '(a' },
          { keyword: 'nopat', match: 'regex' },
          { keyword: 'ok', match: 'contains' },
          { keyword: 'blank', match: 'contains', pattern: '\u3000 ' },
        ],
      }).map((p) => p.split(':')[0]),
    ).toEqual(['rules[1] "look" pattern', 'rules[2] "back" pattern', 'rules[3] "open" pattern', 'rules[4] "nopat"', 'rules[5] "ok"', 'rules[6] "blank"']);
  });
  it('enforces the limits and the shape', () => {
    const many = Array.from({ length: KEYWORD_LIMITS.rules + 1 }, (_, i) => ({ keyword: `k${i}`, match: 'exact' }));
    expect(problems({ rules: many })).toEqual([expect.stringMatching(/^rules: /)]);
    expect(problems({ rules: [{ keyword: 'x', match: 'regex', pattern: 'a'.repeat(KEYWORD_LIMITS.pattern + 1) }] })).toEqual([expect.stringMatching(/^rules\[0\]\.pattern: /)]);
    expect(problems({ rules: [{ keyword: 'x', match: 'exact', reply: 'r'.repeat(KEYWORD_LIMITS.reply + 1) }] })).toEqual([expect.stringMatching(/^rules\[0\]\.reply: /)]);
    expect(problems({ rules: [{ keyword: 'x', match: 'fuzzy' }] })).toEqual([expect.stringMatching(/^rules\[0\]\.match: /)]);
    expect(problems({ rules: [{ keyword: 'x', match: 'exact', extra: 1 }] })).toHaveLength(1);
    expect(problems({ rules: [{ keyword: 'x\u0007', match: 'exact' }] })).toHaveLength(1);
    expect(problems({ rules: [{ keyword: 'x', match: 'exact', reply: '第一行\n第二行' }] })).toEqual([]);
    expect(problems({})).toHaveLength(1);
  });
});

describe('terms of unanswered messages', () => {
  // Hand-written: message → terms (short messages whole; longer ones their words).
  const table: [string, string[]][] = [
    ['狗粮', ['狗粮']],
    ['  狗粮  ', ['狗粮']],
    ['Ｈｅｌｌｏ', ['hello']],
    ['有没有小包装的猫粮', ['有没有小包装的猫粮']], // 9 code points: one phrase
    ['hello there, do you ship puppy food to shanghai', ['hello', 'there', 'ship', 'puppy', 'food']],
    ['what is the price of the large bag of adult food', ['price', 'large', 'bag', 'adult', 'food']],
    ['13812345678', []],
    ['my phone is 13812345678 call me please', ['phone', 'call', 'please']],
    ['write to me at someone@example.com please', ['write', 'please']],
    ['see https://shop.example.cn/p?id=1 or www.example.cn/q thanks', ['see', 'thanks']],
    ['', []],
  ];
  it.each(table)('%j → %j', (text, expected) => expect(unmatchedTerms(text)).toEqual(expected));
  it('at most MAX_WORDS distinct words from one message', () => {
    const terms = unmatchedTerms('alpha beta alpha gamma delta epsilon zeta eta theta');
    expect(terms).toEqual(['alpha', 'beta', 'gamma', 'delta', 'epsilon']);
    expect(terms).toHaveLength(MAX_WORDS);
  });
});

describe('planInsight', () => {
  const appId = 'wx_test_app';
  const at = Date.UTC(2026, 11, 3, 17, 30); // 2026-12-04 01:30 in Asia/Shanghai
  const interaction = (o: { kind: 'click' | 'view' | 'message' | 'location'; msgType: string; detail?: string }, eventId = 'wechat:msg:e1') =>
    ({ eventId, occurredAt: at, source: 'wechat', appId, openid: 'o1', type: 'wechat.interaction', ...o }) as Extract<WechatEvent, { type: 'wechat.interaction' }>;
  const stored: StoredKeywordRules = { appId, version: 3, updatedAt: 1, rules: [{ keyword: '会员', match: 'contains', reply: '欢迎' }, { keyword: '投诉', match: 'contains' }] };
  const updates = (p: ReturnType<typeof fakePort>) =>
    p.tx.build().items.map((i) => {
      const u = (i as unknown as { Update: { Key: { pk: string; sk: string }; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } }).Update;
      const adds: Record<string, unknown> = {};
      for (const [k, name] of Object.entries(u.ExpressionAttributeNames)) if (k.startsWith('#a')) adds[name] = u.ExpressionAttributeValues[`:a${k.slice(2)}`];
      return { ...u.Key, adds };
    });

  it('a menu CLICK / VIEW: one counter on its local day, by key / URL, no reply', async () => {
    for (const [kind, event] of [['click', 'CLICK'], ['view', 'VIEW']] as const) {
      const p = fakePort({ now: at });
      expect(await planInsight(p, interaction({ kind, msgType: 'event', detail: 'https://x.cn/a#b' }), 'store_qr')).toBeUndefined();
      expect(updates(p)).toEqual([{ pk: `INSIGHT#menu#${insightShardOf('wechat:msg:e1')}`, sk: `2026-12-04#${appId}#store_qr#${event}#https://x.cn/a#b`, adds: { n: 1 } }]);
    }
  });
  it('a matched text: the keyword counter with the reply counted, and the reply', async () => {
    const p = fakePort({ now: at, reads: { keywordRules: async () => stored } });
    expect(await planInsight(p, interaction({ kind: 'message', msgType: 'text', detail: '会员卡' }), 'organic')).toBe('欢迎');
    expect(updates(p)).toEqual([{ pk: `INSIGHT#kw#${insightShardOf('wechat:msg:e1')}`, sk: `2026-12-04#${appId}#organic#会员`, adds: { n: 1, replies: 1 } }]);
    const q = fakePort({ now: at, reads: { keywordRules: async () => stored } });
    expect(await planInsight(q, interaction({ kind: 'message', msgType: 'text', detail: '我要投诉' }), 'organic')).toBeUndefined();
    expect(updates(q)).toEqual([{ pk: `INSIGHT#kw#${insightShardOf('wechat:msg:e1')}`, sk: `2026-12-04#${appId}#organic#投诉`, adds: { n: 1 } }]);
  });
  it('an unmatched text: one counter per term; other messages and events add nothing', async () => {
    const p = fakePort({ now: at, reads: { keywordRules: async () => stored } });
    expect(await planInsight(p, interaction({ kind: 'message', msgType: 'text', detail: 'hello there, do you ship puppy food' }), 'organic')).toBeUndefined();
    expect(updates(p).map((u) => u.sk)).toEqual(['hello', 'there', 'ship', 'puppy', 'food'].map((w) => `2026-12-04#${appId}#${w}`));
    for (const o of [{ kind: 'message', msgType: 'image', detail: 'http://x/pic' }, { kind: 'location', msgType: 'event', detail: '1,2' }, { kind: 'click', msgType: 'event' }] as const) {
      const q = fakePort({ now: at, reads: { keywordRules: async () => stored } });
      await planInsight(q, interaction(o), 'organic');
      expect(updates(q)).toEqual([]);
    }
  });
  it('spreads one counter over shards by event id', () => {
    const shards = new Set(Array.from({ length: 200 }, (_, i) => insightShardOf(`wechat:msg:gh|o${i}|${i}`)));
    expect(shards.size).toBeGreaterThan(8);
  });
  it('a stored set that no longer compiles answers nothing (no throw)', () => {
    expect(compiledRulesOf({ appId: 'wx_broken', version: 1, updatedAt: 1, rules: [{ keyword: 'x', match: 'regex', pattern: '(' }] })).toEqual([]);
    expect(compiledRulesOf(undefined)).toEqual([]);
  });
});

describe('passiveReplyOf', () => {
  const result = (status: 'applied' | 'duplicate', r?: Record<string, unknown>): ApplyResult => ({ status, eventId: 'e', enqueued: 0, attempts: 1, writeItems: 0, consumedWcu: 0, ...(r ? { result: r } : {}) });
  it.each([
    ['applied welcome', [result('applied', { passiveReply: 'W' })], 'W'],
    ['retried welcome', [result('duplicate', { passiveReply: 'W' })], undefined],
    ['applied keyword', [result('applied', { passiveReply: 'K', replyOnRetry: true })], 'K'],
    ['retried keyword', [result('duplicate', { passiveReply: 'K', replyOnRetry: true })], 'K'],
    ['nothing', [result('applied')], undefined],
    ['empty text', [result('duplicate', { passiveReply: '', replyOnRetry: true })], undefined],
  ] as const)('%s', (_name, results, expected) => expect(passiveReplyOf(results)).toBe(expected));
});
