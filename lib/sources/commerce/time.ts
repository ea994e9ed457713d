/**
 * China-time parsing for platform timestamps.
 *
 * Taobao, JD and Youzan all send naive `yyyy-MM-dd HH:mm:ss` strings in China time (GMT+8, no
 * daylight saving). JD's own worked example adds milliseconds and an offset
 * (`2021-05-07 09:20:39.683+0800`); TMC websocket frames carry ISO strings with `+08:00`.
 * Everything becomes epoch milliseconds UTC.
 */
import { BadRequestError } from '../../errors.ts';

const CHINA_OFFSET_MS = 8 * 3600_000;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:\s*(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * Parse a platform time. Without an offset the time is GMT+8. Returns undefined when the text is
 * not in that shape or names an impossible date (2024-02-30).
 */
export function tryParseChinaTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = frac ? Number(frac.padEnd(3, '0')) : 0;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  let offsetMs = CHINA_OFFSET_MS;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 14 || om > 59) return undefined;
    offsetMs = sign * (oh * 3600_000 + om * 60_000);
  } else if (zone === 'Z') {
    offsetMs = 0;
  }
  return wall - offsetMs;
}

/** tryParseChinaTime, or BadRequestError naming the field. */
export function parseChinaTime(text: string, field = 'time'): number {
  const ms = typeof text === 'string' ? tryParseChinaTime(text) : undefined;
  if (ms === undefined || ms < 0) {
    throw new BadRequestError(`${field} "${String(text).slice(0, 40)}" is not a yyyy-MM-dd HH:mm:ss China time`, undefined, 'bad_time');
  }
  return ms;
}

/**
 * A "not set" platform time: empty, or JD's `0001-01-01 00:00:00` / `1970-01-01 00:00:00`
 * placeholders.
 */
export function isUnsetTime(text: unknown): boolean {
  if (text === undefined || text === null) return true;
  if (typeof text !== 'string') return false;
  const t = text.trim();
  return t === '' || t.startsWith('0001-01-01') || t.startsWith('1970-01-01');
}

/** Epoch ms → `yyyy-MM-dd HH:mm:ss` in GMT+8 (the TOP / JD request timestamp format). */
export function formatChinaTime(epochMs: number): string {
  const d = new Date(epochMs + CHINA_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
