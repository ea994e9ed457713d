/**
 * Typed keys of category templates (lib/wechat/template-keys.ts) against the limits listed in
 * docs/platforms.md#wechat-template-messages, and a template rendered through its field mapping
 * (lib/engagement/send/render.ts). Expected strings are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { fillPlaceholders, fitValue, keyTypeOf } from '../../lib/wechat/template-keys.ts';
import { renderTemplate } from '../../lib/engagement/send/render.ts';
import { BadRequestError } from '../../lib/errors.ts';

describe('key types by prefix', () => {
  it.each([
    ['thing1', 'thing'],
    ['character_string12', 'character_string'],
    ['amount3', 'amount'],
    ['time4', 'time'],
    ['phrase5', 'phrase'],
    ['phone_number6', 'phone_number'],
    ['keyword1', undefined],
    ['first', undefined],
    ['thing', undefined],
    ['thingx1', undefined],
  ])('%s → %s', (key, type) => {
    expect(keyTypeOf(key)).toBe(type);
  });
});

describe('values fitted to their key', () => {
  it('thing: 20 characters fit; 21 are cut to 19 and an ellipsis', () => {
    const twenty = '一二三四五六七八九十一二三四五六七八九十';
    expect(fitValue('thing1', twenty)).toEqual({ ok: true, value: twenty, truncated: false });
    expect(fitValue('thing1', `${twenty}多`)).toEqual({ ok: true, value: '一二三四五六七八九十一二三四五六七八九…', truncated: true });
  });

  it('thing counts characters, not UTF-16 units: 20 emoji-free astral characters fit', () => {
    const astral = '𠀀'.repeat(20); // U+20000, two UTF-16 units each
    expect(fitValue('thing2', astral)).toEqual({ ok: true, value: astral, truncated: false });
  });

  it('line breaks become spaces (category templates show none)', () => {
    expect(fitValue('thing1', '第一行\n第二行')).toEqual({ ok: true, value: '第一行 第二行', truncated: false });
  });

  it('character_string: Chinese dropped, cut at 32', () => {
    expect(fitValue('character_string2', '订单A1B2')).toEqual({ ok: true, value: 'A1B2', truncated: true });
    expect(fitValue('character_string2', 'x'.repeat(33))).toEqual({ ok: true, value: 'x'.repeat(32), truncated: true });
    expect(fitValue('character_string2', '积分').ok).toBe(false);
  });

  it('phrase: Chinese only, at most 5', () => {
    expect(fitValue('phrase5', '已到账')).toEqual({ ok: true, value: '已到账', truncated: false });
    expect(fitValue('phrase5', '积分已经到账了')).toEqual({ ok: true, value: '积分已经到', truncated: true });
    expect(fitValue('phrase5', 'OK').ok).toBe(false);
  });

  it('name: 10 with Chinese, 20 without', () => {
    expect(fitValue('name1', '欧阳一二三四五六七八九')).toEqual({ ok: true, value: '欧阳一二三四五六七…', truncated: true });
    expect(fitValue('name1', 'Alexandra Konstantinova')).toEqual({ ok: true, value: 'Alexandra Konstanti…', truncated: true });
  });

  it('values that a cut would falsify are refused: number, amount, time, date, phone, car, const', () => {
    expect(fitValue('number1', '120')).toEqual({ ok: true, value: '120', truncated: false });
    expect(fitValue('number1', '120 分').ok).toBe(false);
    expect(fitValue('amount3', '¥12.50')).toEqual({ ok: true, value: '¥12.50', truncated: false });
    expect(fitValue('amount3', '12元')).toEqual({ ok: true, value: '12元', truncated: false });
    expect(fitValue('amount3', '12345678901').ok).toBe(false);
    expect(fitValue('time4', '15:01')).toEqual({ ok: true, value: '15:01', truncated: false });
    expect(fitValue('time4', '2019年10月1日 15:01')).toEqual({ ok: true, value: '2019年10月1日 15:01', truncated: false });
    expect(fitValue('time4', '2019年10月1日 15:01~2019年10月1日 16:00').ok).toBe(true);
    expect(fitValue('time4', '下午三点').ok).toBe(false);
    expect(fitValue('date6', '2026年12月3日')).toEqual({ ok: true, value: '2026年12月3日', truncated: false });
    expect(fitValue('date6', '昨天').ok).toBe(false);
    expect(fitValue('phone_number7', '+86-0766-66888866')).toEqual({ ok: true, value: '+86-0766-66888866', truncated: false });
    expect(fitValue('phone_number7', '+86-0766-668888661').ok).toBe(false);
    expect(fitValue('car_number8', '粤A12345')).toEqual({ ok: true, value: '粤A12345', truncated: false });
    expect(fitValue('car_number8', '粤A1234567').ok).toBe(false);
    expect(fitValue('const9', 'x'.repeat(21)).ok).toBe(false);
  });

  it('an empty typed value is refused; an untyped key passes unchanged', () => {
    expect(fitValue('thing1', '  ')).toEqual({ ok: false, reason: 'thing1: empty' });
    expect(fitValue('keyword1', 'x'.repeat(50))).toEqual({ ok: true, value: 'x'.repeat(50), truncated: false });
  });
});

describe('placeholders', () => {
  it('fills {{name}} from the payload; a missing one is named', () => {
    expect(fillPlaceholders('{{points}} 积分，余额 {{ balance }}', { points: 50, balance: 120 })).toEqual({ ok: true, value: '50 积分，余额 120' });
    expect(fillPlaceholders('{{sku}}', { points: 1 })).toEqual({ ok: false, missing: 'sku' });
  });
});

describe('a category template rendered through its mapping', () => {
  const mappings = { TPL_POINTS_CHANGE: { thing1: '{{product}}扫码积分', number2: '{{points}}', number3: '{{balance}}', phrase4: '已到账' } };

  it('typed keys only, within limits; a too-long product name is cut by the thing rule', () => {
    const payload = { templateId: 'TPL_POINTS_CHANGE', points: 50, balance: 120, product: '臻萃焕颜紧致修护精华面霜礼盒限定版' };
    const msg = renderTemplate(payload, 'o1', 'mid-1', mappings);
    expect(msg).toEqual({
      touser: 'o1',
      templateId: 'TPL_POINTS_CHANGE',
      clientMsgId: 'mid-1',
      data: {
        // 17 + 4 = 21 characters: the first 19 and an ellipsis.
        thing1: { value: '臻萃焕颜紧致修护精华面霜礼盒限定版扫码…' },
        number2: { value: '50' },
        number3: { value: '120' },
        phrase4: { value: '已到账' },
      },
    });
  });

  it('a value that cannot fit its key fails before sending, naming the key', () => {
    const bad = { TPL_X: { amount1: '{{points}} 积分' } };
    let err: unknown;
    try {
      renderTemplate({ templateId: 'TPL_X', points: 5 }, 'o1', 'mid-2', bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('template_data_invalid');
    expect((err as Error).message).toContain('amount1');
  });

  it('a template without a mapping keeps the payload fields (old-style keyword templates)', () => {
    expect(renderTemplate({ templateId: 'TPL_OLD', points: 5 }, 'o1', 'mid-3', mappings).data).toEqual({ points: { value: '5' } });
  });
});
