/**
 * A campaign's lift: the lift report (GET /insight/lift, lib/insight/lift.ts) for the campaign's
 * rule id `campaign:<campaignId>`, over the local days from the campaign's creation to today
 * (at most the report's 366 days: the latest ones). The sender records eligibility for campaign
 * rows as for any marketing rule, so the arms are the campaign's treated and held-out members.
 */
import type { ApplyDeps } from '../port.ts';
import { BadRequestError } from '../errors.ts';
import { liftReport, type LiftReport } from '../insight/lift.ts';
import { MAX_RANGE_DAYS } from '../attribution/query.ts';
import { addDays, localDay } from '../time.ts';

/** The lift object of GET /insight/lift for the campaign's rule, or why there is none. */
export type CampaignLift = LiftReport | { error: string; message: string };

/** The report's range for a campaign created at `since`: its creation day to today, the latest 366 days at most. */
export function campaignLiftRange(since: number, now: number, tz: string): { from: string; to: string } {
  const to = localDay(now, tz);
  const created = localDay(Math.min(since, now), tz);
  const earliest = addDays(to, -(MAX_RANGE_DAYS - 1));
  return { from: created < earliest ? earliest : created, to };
}

/** The campaign's lift since it was created. A campaign with too many eligibility records for one report says so instead. */
export async function campaignLift(deps: ApplyDeps, ruleId: string, since: number): Promise<CampaignLift> {
  const now = deps.now();
  const range = campaignLiftRange(since, now, deps.cfg.HUB_TIMEZONE);
  try {
    return (await liftReport({ store: { db: deps.db, table: deps.table }, rules: deps.cfg.rules, now }, { rule: ruleId, ...range })) as LiftReport;
  } catch (e) {
    if (e instanceof BadRequestError && e.code === 'too_many_eligible') return { error: e.code, message: e.message };
    throw e;
  }
}
