/**
 * code.scan: a verified one-code-per-item scan. Redemption is one conditional write (the code
 * row), so of any number of concurrent scans exactly one wins; the others re-read and answer
 * `already_redeemed` / `already_redeemed_by_you`. Abuse limits (per openid per local day, a
 * burst window, runs of close serials, gaps up to SERIAL_GAP) refuse with `limited`, record the refusal with its
 * reason for review, and never block a person's first redemption.
 */
import type { HubEventOf } from '../events/hub-event.ts';
import { batchFromItem, batchKey, type Batch } from '../store/entities/batch.ts';
import { codeKey, codes, redemptionFromItem } from '../store/entities/code.ts';
import { refusals } from '../store/entities/refusal.ts';
import { scanLimitFromItem, scanLimitKey, scanLimits, type ScanLimit } from '../store/entities/scan-limit.ts';
import { earn } from '../members/points.ts';
import { planPointsNotice } from '../engagement/rules.ts';
import { localDay } from '../time.ts';
import type { PlanContext, PlanOutput } from './context.ts';
import { wechatIdentity } from './wechat.ts';

/** A code batch (lib/store/entities/batch.ts). */
export type BatchItem = Batch;

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

export async function planCodeScan(e: HubEventOf<'code.scan'>, ctx: PlanContext): Promise<PlanOutput> {
  const batchItem = await ctx.get(batchKey(e.batchId));
  if (!batchItem) return { result: { result: 'invalid' } };
  const batch = batchFromItem(batchItem);
  const product = { sku: batch.sku, name: batch.name };
  if (!batch.active) return { result: { result: 'inactive', product } };
  const redeemedItem = await ctx.get(codeKey(e.code));
  if (redeemedItem) {
    const redeemed = redemptionFromItem(redeemedItem);
    const mine = redeemed.openid === `${e.appId}:${e.openid}`;
    return { result: { result: mine ? 'already_redeemed_by_you' : 'already_redeemed', redeemedAt: redeemed.at, product } };
  }
  const cfg = ctx.deps.cfg;
  const day = localDay(e.occurredAt, ctx.tz);
  const limitKey = scanLimitKey(e.appId, e.openid, day);
  const limitItem = await ctx.get(limitKey);
  const limits = limitItem ? scanLimitFromItem(limitItem) : undefined;
  const reason = limitReason(limits, e.serial, e.occurredAt, {
    daily: cfg.HUB_SCAN_DAILY_LIMIT,
    burst: cfg.HUB_SCAN_BURST_LIMIT,
    windowMs: cfg.HUB_SCAN_BURST_WINDOW_SECONDS * 1000,
    sequential: cfg.HUB_SCAN_SEQUENTIAL_LIMIT,
  });
  if (reason) {
    refusals.record(
      ctx.tx,
      day,
      e.eventId,
      { kind: 'scan', reason, code: e.code, serial: e.serial, batchId: e.batchId, openid: `${e.appId}:${e.openid}`, at: e.occurredAt },
      e.occurredAt,
    );
    return { result: { result: 'limited', reason, product } };
  }
  const r = await ctx.resolveMember([wechatIdentity(e.appId, e.openid)], {
    createAs: 'fan',
    seenChannel: batch.channel,
    wechat: { appId: e.appId, openid: e.openid },
  });
  const m = r!.member;
  codes.redeem(ctx.tx, {
    code: e.code,
    batchId: e.batchId,
    serial: e.serial,
    memberId: m.memberId,
    openid: `${e.appId}:${e.openid}`,
    at: e.occurredAt,
  });
  const next: ScanLimit = {
    count: (limits?.count ?? 0) + 1,
    recent: [...(limits?.recent ?? []), [e.occurredAt, e.serial] as [number, number]].slice(-50),
    version: (limits?.version ?? 0) + 1,
  };
  scanLimits.write(ctx.tx, limitKey, next, limits?.version, Math.floor(e.occurredAt / 1000) + 3 * 86_400);
  m.history.codeScans.push({ at: e.occurredAt, channel: batch.channel });
  earn(ctx, m, batch.points, 'scan', e.code, e.occurredAt);
  planPointsNotice(ctx, m, { kind: 'scan', ref: e.code, points: batch.points, at: e.occurredAt });
  ctx.saveMember();
  return { memberId: m.memberId, result: { result: 'redeemed', points: batch.points, balance: m.points, product } };
}
