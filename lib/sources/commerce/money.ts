/**
 * Money: platforms send yuan as decimal strings ("200.07"); the hub stores integer fen.
 * Conversion is string arithmetic only, never a float multiply.
 */
import { BadRequestError } from '../../errors.ts';

const YUAN = /^(\d+)(?:\.(\d{1,2}))?$/;
/** Largest fen amount accepted: far above any order, far below 2^53. */
const MAX_FEN = 1_000_000_000_000_000; // 10^15 fen = 10^13 yuan

/**
 * `"200.07"` → 20007, `"0.5"` → 50, `"478"` → 47800, `12` (a safe integer) → 1200.
 * Rejects (BadRequestError): more than two decimals, a sign (negatives), exponents, blanks,
 * leading/trailing dots, anything that is not a plain decimal, and non-integer JS numbers
 * (a fractional number here means someone used `JSON.parse`; parse with parseJsonLossless).
 */
export function yuanToFen(value: string | number): number {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BadRequestError(`amount ${String(value)} is not a whole non-negative yuan number; pass decimals as strings`, undefined, 'bad_amount');
    }
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    throw new BadRequestError('amount must be a decimal string', undefined, 'bad_amount');
  }
  const m = YUAN.exec(text);
  if (!m) throw new BadRequestError(`amount "${text.slice(0, 40)}" is not a yuan amount with at most 2 decimals`, undefined, 'bad_amount');
  const whole = (m[1] ?? '0').replace(/^0+(?=\d)/, '');
  const frac = (m[2] ?? '').padEnd(2, '0');
  if (whole.length > 13) throw new BadRequestError(`amount "${text.slice(0, 40)}" is too large`, undefined, 'bad_amount');
  const fen = Number(whole) * 100 + Number(frac);
  if (!Number.isSafeInteger(fen) || fen > MAX_FEN) throw new BadRequestError(`amount "${text.slice(0, 40)}" is too large`, undefined, 'bad_amount');
  return fen;
}

/** Like yuanToFen, but absent values (undefined, null, "") are 0 fen. */
export function yuanToFenOrZero(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new BadRequestError('amount must be a decimal string', undefined, 'bad_amount');
  }
  return yuanToFen(value);
}

/** Like yuanToFen, but absent values (undefined, null, "") are undefined. */
export function yuanToFenOptional(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return yuanToFenOrZero(value);
}

/** 20007 → "200.07" (for requests and test data; integers only). */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new BadRequestError(`fen ${String(fen)} is not a non-negative integer`, undefined, 'bad_amount');
  const s = String(fen).padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}
