/**
 * The seam between a campaign's report and the lift report (GET /insight/lift, keyed by rule id;
 * a campaign's rule id is `campaign:<campaignId>`). The lift module computes treated vs holdout
 * conversion from the eligibility the sender records; until it is part of the build a campaign
 * reports `lift: null`. Joining them is this one function's body:
 *
 *   return liftReport(deps, { rule: ruleId, from: since });
 */
import type { ApplyDeps } from '../port.ts';

/** The lift object of GET /insight/lift for one rule (treated, holdout, absolute and relative lift, ci95, verdict). */
export type CampaignLift = Record<string, unknown>;

/** The campaign's lift since it was created; null while no lift report exists. */
export async function campaignLift(_deps: ApplyDeps, _ruleId: string, _since: number): Promise<CampaignLift | null> {
  return null;
}
