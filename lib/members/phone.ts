/**
 * Phone numbers are never stored in clear: an HMAC (keyed by PHONE_HASH_SECRET) for matching
 * across platforms, and a masked form for display.
 */
import { createHmac } from 'node:crypto';
import { BadRequestError } from '../errors.ts';

/** Mainland China mobile: 11 digits starting 1[3-9], optional +86 / 86 prefix, spaces or dashes. */
export function normalisePhone(input: string): string {
  const digits = input.replace(/[\s-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
  if (!/^1[3-9]\d{9}$/.test(digits)) throw new BadRequestError('phone must be a mainland China mobile number (11 digits, starting 13–19)', undefined, 'invalid_phone');
  return digits;
}

export function hashPhone(normalised: string, secret: string): string {
  return createHmac('sha256', secret).update(`phone:${normalised}`).digest('hex');
}

export function maskPhone(normalised: string): string {
  return `${normalised.slice(0, 3)}****${normalised.slice(7)}`;
}
