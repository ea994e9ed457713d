/**
 * Subscription-message credits per person and template (docs/platforms.md#wechat-subscription-messages):
 * a one-time subscription allows one send per acceptance; a long-term one (public-service
 * categories only) allows sends while it is accepted; turning it off in settings (a `reject`
 * change event) ends both. Kept as counts and latest times so the result does not depend on the
 * order the events arrive in (each event counted once by its dedupe marker).
 */

export interface SubscriptionLedger {
  /** Accepted popups. */
  accepts: number;
  /** Subscription messages WeChat reports sent (subscribe_msg_sent_event with ErrorCode 0). */
  sends: number;
  lastAcceptAt?: number;
  lastRejectAt?: number;
}

/** templateId → ledger (MemberRecord.subscriptions). */
export type Subscriptions = Record<string, SubscriptionLedger>;

export type SubscriptionItem = { templateId: string; status: string; errorCode?: string | undefined };

/** Adds one subscription event's items to the ledger. */
export function recordSubscription(subs: Subscriptions, action: 'popup' | 'change' | 'sent', items: readonly SubscriptionItem[], at: number): void {
  for (const i of items) {
    const l = (subs[i.templateId] ??= { accepts: 0, sends: 0 });
    if (action === 'sent') {
      if (i.errorCode === '0' || i.status === 'success') l.sends += 1;
    } else if (i.status === 'accept') {
      l.accepts += 1;
      l.lastAcceptAt = Math.max(l.lastAcceptAt ?? 0, at);
    } else if (i.status === 'reject') {
      l.lastRejectAt = Math.max(l.lastRejectAt ?? 0, at);
    }
  }
}

/** Two records' ledgers in one (a merge): counts add up, the latest times win. */
export function mergeSubscriptions(a: Subscriptions | undefined, b: Subscriptions | undefined): Subscriptions | undefined {
  if (!a || !b) return a ?? b;
  const out: Subscriptions = { ...a };
  for (const [templateId, l] of Object.entries(b)) {
    const o = out[templateId];
    if (!o) {
      out[templateId] = { ...l };
      continue;
    }
    const merged: SubscriptionLedger = { accepts: o.accepts + l.accepts, sends: o.sends + l.sends };
    const acceptAt = Math.max(o.lastAcceptAt ?? -1, l.lastAcceptAt ?? -1);
    const rejectAt = Math.max(o.lastRejectAt ?? -1, l.lastRejectAt ?? -1);
    if (acceptAt >= 0) merged.lastAcceptAt = acceptAt;
    if (rejectAt >= 0) merged.lastRejectAt = rejectAt;
    out[templateId] = merged;
  }
  return out;
}

/** Sends left for the template: a number, or `unlimited` for an accepted long-term subscription. */
export function subscriptionCredits(l: SubscriptionLedger | undefined, longTerm: boolean): number | 'unlimited' {
  if (!l || l.lastAcceptAt === undefined) return 0;
  if (l.lastRejectAt !== undefined && l.lastRejectAt >= l.lastAcceptAt) return 0;
  if (longTerm) return 'unlimited';
  return Math.max(0, l.accepts - l.sends);
}
