/**
 * code.scan: a verified one-code-per-item scan. Redemption is one conditional write (the code
 * row), so of any number of concurrent scans exactly one wins; the others re-read and answer
 * `already_redeemed` / `already_redeemed_by_you`. Abuse limits (per openid per local day, a
 * burst window, runs of close serials: lib/codes/limits.ts) refuse with `limited`, record the
 * refusal with its reason for review, and never block a person's first redemption.
 */
import type { HubEventOf } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { codes } from '../../store/entities/code.ts';
import { refusals } from '../../store/entities/refusal.ts';
import { scanLimitKey, scanLimits, type ScanLimit } from '../../store/entities/scan-limit.ts';
import { limitReason } from '../../codes/limits.ts';
import { earn } from '../../members/points.ts';
import { resolveMember, saveMember, wechatIdentity } from '../../members/identity.ts';
import { planEngagement } from '../../engagement/rules/plan.ts';
import { localDay } from '../../time.ts';

/** The code-scan function's only planner. */
export const CODE_SCAN_PLANNERS: Planners<HubEventOf<'code.scan'>> = { 'code.scan': planCodeScan };

export async function planCodeScan(e: HubEventOf<'code.scan'>, p: Port): Promise<PlanOutput> {
  const batch = await p.reads.batch(e.batchId);
  if (!batch) return { result: { result: 'invalid' } };
  const product = { sku: batch.sku, name: batch.name };
  if (!batch.active) return { result: { result: 'inactive', product } };
  const redeemed = await p.reads.redemption(e.code);
  if (redeemed) {
    const mine = redeemed.openid === `${e.appId}:${e.openid}`;
    return { result: { result: mine ? 'already_redeemed_by_you' : 'already_redeemed', redeemedAt: redeemed.at, product } };
  }
  const cfg = p.cfg;
  const day = localDay(e.occurredAt, p.tz);
  const limits = await p.reads.scanLimit(e.appId, e.openid, day);
  const reason = limitReason(limits, e.serial, e.occurredAt, {
    daily: cfg.HUB_SCAN_DAILY_LIMIT,
    burst: cfg.HUB_SCAN_BURST_LIMIT,
    windowMs: cfg.HUB_SCAN_BURST_WINDOW_SECONDS * 1000,
    sequential: cfg.HUB_SCAN_SEQUENTIAL_LIMIT,
  });
  if (reason) {
    refusals.record(
      p.tx,
      day,
      e.eventId,
      { kind: 'scan', reason, code: e.code, serial: e.serial, batchId: e.batchId, openid: `${e.appId}:${e.openid}`, at: e.occurredAt },
      e.occurredAt,
      cfg.HUB_REFUSAL_RETENTION_DAYS,
    );
    return { result: { result: 'limited', reason, product } };
  }
  const r = await resolveMember(p, e, [wechatIdentity(e.appId, e.openid)], {
    createAs: 'fan',
    seenChannel: batch.channel,
    wechat: { appId: e.appId, openid: e.openid },
  });
  const m = r!.member;
  codes.redeem(p.tx, {
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
  scanLimits.write(p.tx, scanLimitKey(e.appId, e.openid, day), next, limits?.version, Math.floor(e.occurredAt / 1000) + 3 * 86_400);
  m.history.codeScans.push({ at: e.occurredAt, channel: batch.channel });
  earn(p, m, batch.points, 'scan', e.code, e.occurredAt);
  planEngagement(p, { kind: 'points_earned', cause: 'scan', ref: e.code, points: batch.points, at: e.occurredAt }, m);
  saveMember(p, e, r!);
  return { memberId: m.memberId, result: { result: 'redeemed', points: batch.points, balance: m.points, product } };
}
