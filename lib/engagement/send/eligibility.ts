/**
 * Eligibility for the lift report (docs/design.md#lift), recorded by the sender when it decides
 * on a marketing message for the first time, whatever the decision: sent, deferred (quiet
 * hours), capped, held back as holdout, outside the window. The unit is the planned message (the
 * outbox row's `messageId`: one per rule, member and step), recorded once however often it is
 * decided (lib/store/entities/eligibility.ts).
 *
 * Outside both arms: a message to someone who cannot be marketed to at all — unfollowed, a member
 * without marketing consent — and anything not decided by the guardrails (member not found, no
 * address, an erased person). These checks come before the holdout in decide() and treat both
 * arms alike, so leaving them out keeps the arms comparable; counting them would add people no
 * message could reach to both arms and only dilute the lift.
 */
import type { OutboxRow } from '../../events/messages.ts';
import type { EngagementPolicy } from '../../config/engagement.ts';
import { eligibility, type Arm } from '../../store/entities/eligibility.ts';
import type { Store } from '../../store/client.ts';
import { localDay } from '../../time.ts';
import { isHoldout, type Decision, type SuppressReason } from '../guardrails.ts';

/** Suppressions that take a message out of both arms. */
const OUTSIDE_ARMS: ReadonlySet<SuppressReason> = new Set(['wrong_queue', 'unfollowed', 'no_consent']);

/** Default retention of eligibility records when the sender is given none (HUB_MESSAGE_RETENTION_DAYS' default). */
export const DEFAULT_ELIGIBILITY_RETENTION_DAYS = 180;

/** The arm a decided message counts in, or null when it counts in neither (transactional, staff, not marketable). */
export function armOf(row: Pick<OutboxRow, 'class' | 'destination'>, memberId: string, d: Decision, policy: Pick<EngagementPolicy, 'holdout'>): Arm | null {
  if (row.class !== 'marketing' || row.destination !== 'member') return null;
  if (d.action === 'suppress' && OUTSIDE_ARMS.has(d.reason)) return null;
  return isHoldout(memberId, policy) ? 'holdout' : 'treated';
}

export interface EligibilityDeps extends Store {
  policy: EngagementPolicy;
  tz: string;
  messageRetentionDays?: number;
}

/** Records the message's eligibility (first decision only); false when it counts in no arm or was recorded before. */
export async function recordEligibility(deps: EligibilityDeps, row: OutboxRow, memberId: string, d: Decision, now: number): Promise<boolean> {
  const arm = armOf(row, memberId, d, deps.policy);
  if (arm === null) return false;
  return eligibility.record(
    deps,
    { messageId: row.messageId, memberId, ruleId: row.ruleId, step: row.step, arm, eligibleAt: now, day: localDay(now, deps.tz), decision: d.action === 'suppress' ? d.reason : d.action },
    deps.messageRetentionDays ?? DEFAULT_ELIGIBILITY_RETENTION_DAYS,
  );
}
