/**
 * The code-scan abuse limits as a pure function of one openid's scan-limit row for the local
 * day (lib/store/entities/scan-limit.ts): a daily count, a burst window, and runs of close
 * serials (neighbours at most SERIAL_GAP apart). A first redemption is never limited.
 */
import type { ScanLimit } from '../store/entities/scan-limit.ts';

export type LimitReason = 'daily_limit' | 'burst' | 'sequential_serials';

/**
 * Serials at most this far apart chain into one run: a harvester skipping a code or two (or
 * walking a carton out of order) is still walking the range.
 */
export const SERIAL_GAP = 4;

/** The number of distinct serials in the chain (neighbours ≤ SERIAL_GAP apart) through `serial`. */
export function serialRun(recent: readonly number[], serial: number): number {
  const sorted = [...new Set([...recent, serial])].sort((a, b) => a - b);
  const at = sorted.indexOf(serial);
  let lo = at;
  let hi = at;
  while (lo > 0 && sorted[lo]! - sorted[lo - 1]! <= SERIAL_GAP) lo--;
  while (hi < sorted.length - 1 && sorted[hi + 1]! - sorted[hi]! <= SERIAL_GAP) hi++;
  return hi - lo + 1;
}

export function limitReason(l: ScanLimit | undefined, serial: number, at: number, cfg: { daily: number; burst: number; windowMs: number; sequential: number }): LimitReason | undefined {
  if (!l || l.count === 0) return undefined; // a first redemption is never limited
  if (l.count >= cfg.daily) return 'daily_limit';
  const inWindow = l.recent.filter(([t]) => at - t < cfg.windowMs);
  if (inWindow.length >= cfg.burst) return 'burst';
  if (serialRun(l.recent.map(([, s]) => s), serial) >= cfg.sequential) return 'sequential_serials';
  return undefined;
}
