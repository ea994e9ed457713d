import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { idString, isIdLikeKey, parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { fenToYuan, yuanToFen, yuanToFenOptional, yuanToFenOrZero } from '../../lib/sources/commerce/money.ts';

describe('parseJsonLossless', () => {
  it('keeps two 19-digit ids that collide as JS numbers distinct', () => {
    const a = '2107654321098765432';
    const b = '2107654321098765433';
    expect(Number(a)).toBe(Number(b)); // the hazard
    expect(JSON.parse(`[${a},${b}]`)[0]).toBe(JSON.parse(`[${a},${b}]`)[1]);
    const parsed = parseJsonLossless(`{"list":[{"id":${a}},{"id":${b}}],"count":${a}}`) as {
      list: Array<{ id: string }>;
      count: string;
    };
    expect(parsed.list[0]!.id).toBe(a);
    expect(parsed.list[1]!.id).toBe(b);
    expect(parsed.list[0]!.id).not.toBe(parsed.list[1]!.id);
    expect(parsed.count).toBe(a); // unsafe integer under a non-id key: exact string
  });

  it('returns safe integers as numbers and decimals as their original text', () => {
    expect(parseJsonLossless('{"num":1,"version":1731254500,"neg":-5,"fee":276.92,"zero":0.50,"exp":1e3,"big":1.5E+400}')).toEqual({
      num: 1,
      version: 1731254500,
      neg: -5,
      fee: '276.92',
      zero: '0.50',
      exp: '1e3',
      big: '1.5E+400',
    });
  });

  it('makes every number under an id-like key a string, arrays included', () => {
    expect(
      parseJsonLossless(
        '{"id":1,"tid":2,"oid":3,"num_iid":4,"kdt_id":12345678,"user_id":2207512345678,"orderId":5,"skuId":6,"s_message_ids":[7,8],"alipay_no":9,"tid_str":"10","paid":11}',
      ),
    ).toEqual({
      id: '1',
      tid: '2',
      oid: '3',
      num_iid: '4',
      kdt_id: '12345678',
      user_id: '2207512345678',
      orderId: '5',
      skuId: '6',
      s_message_ids: ['7', '8'],
      alipay_no: '9',
      tid_str: '10',
      paid: 11,
    });
  });

  it('classifies id-like keys', () => {
    for (const k of ['id', 'tid', 'oid', 'refund_id', 'orderId', 'venderId', 'msg_id', 'dataid', 'userid', 'message_ids']) expect(isIdLikeKey(k)).toBe(true);
    for (const k of ['paid', 'payment', 'valid', 'version', 'num', 'status', 'is_paid', undefined]) expect(isIdLikeKey(k)).toBe(false);
  });

  it('keeps strings, booleans, null and nesting unchanged', () => {
    expect(parseJsonLossless('{"a":"x","b":true,"c":null,"d":[{"e":[1,"2"]}]}')).toEqual({ a: 'x', b: true, c: null, d: [{ e: [1, '2'] }] });
  });

  it('does not let a "__proto__" key change the prototype', () => {
    const v = parseJsonLossless('{"__proto__":{"polluted":1},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect((v as { polluted?: number }).polluted).toBeUndefined();
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it.each(['', '{', '{"a":}', "{'a':1}", '{"a":1}x', 'NaN', '{"a":01}', '{"a":1,"a":2}'])('rejects malformed JSON %j', (text) => {
    expect(() => parseJsonLossless(text)).toThrow(BadRequestError);
  });

  it('idString reads ids as strings only when exact', () => {
    expect(idString('  12 ')).toBe('12');
    expect(idString(12)).toBe('12');
    // eslint-disable-next-line no-loss-of-precision -- the point: a number that already lost digits
    expect(idString(2107654321098765432)).toBeUndefined(); // already corrupted: refuse it
    expect(idString(1.5)).toBeUndefined();
    expect(idString('')).toBeUndefined();
    expect(idString(null)).toBeUndefined();
  });
});

describe('yuanToFen', () => {
  it.each([
    ['200.07', 20007],
    ['0.5', 50],
    ['0.05', 5],
    ['478', 47800],
    ['478.00', 47800],
    ['0', 0],
    ['0.00', 0],
    ['007.10', 710],
    [' 1.20 ', 120],
    ['0.29', 29], // 0.29 * 100 = 28.999999999999996 as floats
    ['1.15', 115], // 114.99999999999999
    ['4.35', 435], // 434.99999999999994
    ['9999999999999.99', 999999999999999],
  ] as const)('%j → %d', (text, fen) => {
    expect(yuanToFen(text)).toBe(fen);
  });

  it('accepts whole-yuan safe integers', () => {
    expect(yuanToFen(12)).toBe(1200);
    expect(yuanToFen(0)).toBe(0);
  });

  it.each(['1.005', '0.001', '-1', '-0.5', '-0', '+1', '1e3', '1.', '.5', '', ' ', 'abc', '1,000.00', '12 3', '0x10', '１２', '10000000000000.00', 'NaN', 'Infinity'])(
    'rejects %j',
    (text) => {
      expect(() => yuanToFen(text)).toThrow(BadRequestError);
    },
  );

  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('rejects the number %d', (n) => {
    expect(() => yuanToFen(n)).toThrow(BadRequestError);
  });

  it('rejects non-string non-number values', () => {
    expect(() => yuanToFen(null as unknown as string)).toThrow(BadRequestError);
    expect(() => yuanToFenOrZero({})).toThrow(BadRequestError);
    expect(() => yuanToFenOrZero(true)).toThrow(BadRequestError);
  });

  it('treats absent amounts as 0 or undefined', () => {
    expect(yuanToFenOrZero(undefined)).toBe(0);
    expect(yuanToFenOrZero(null)).toBe(0);
    expect(yuanToFenOrZero('')).toBe(0);
    expect(yuanToFenOrZero('3.30')).toBe(330);
    expect(yuanToFenOptional(undefined)).toBeUndefined();
    expect(yuanToFenOptional('3.3')).toBe(330);
  });

  it('carries a 400 with a reason', () => {
    try {
      yuanToFen('1.234');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).status).toBe(400);
      expect((err as BadRequestError).message).toMatch(/at most 2 decimals/);
    }
  });

  it('fenToYuan formats back', () => {
    expect(fenToYuan(20007)).toBe('200.07');
    expect(fenToYuan(5)).toBe('0.05');
    expect(fenToYuan(0)).toBe('0.00');
    expect(fenToYuan(47800)).toBe('478.00');
    expect(() => fenToYuan(-1)).toThrow(BadRequestError);
    expect(() => fenToYuan(1.5)).toThrow(BadRequestError);
    for (const fen of [1, 99, 100, 12345, 999999999999999]) expect(yuanToFen(fenToYuan(fen))).toBe(fen);
  });
});
