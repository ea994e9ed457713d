/**
 * member.consent: the member gives or withdraws the separate marketing consent (POST /me/consent,
 * docs/privacy.md#consent). The profile's `consent` and a consent record are written in one
 * transaction; the sender reads the profile when it sends (lib/engagement/guardrails.ts
 * `no_consent`), so a withdrawal holds back every marketing message already queued.
 *
 * Consent changes are decided by time, not arrival: a change older than the one on the profile
 * still gets its record (the history is complete) but does not overturn the newer state.
 */
import type { HubEventOf } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { NotFoundError } from '../../errors.ts';
import { consents } from '../../store/entities/consent.ts';
import { stableId } from '../../ids.ts';
import type { StoredMember } from '../../members/record.ts';
import { resolveMember, saveMember, wechatIdentity } from '../../members/identity.ts';

/** Sets the profile's consent (when `at` is not older than what it holds) and writes the consent record. */
export function recordConsent(
  p: Port,
  m: StoredMember,
  e: { eventId: string; occurredAt: number; appId: string },
  c: { marketing: boolean; channel: string; policyVersion?: string },
): void {
  const at = e.occurredAt;
  const prev = m.consent;
  if (!prev || at >= prev.marketingAt) {
    m.consent = {
      ...(prev?.policyVersion !== undefined ? { policyVersion: prev.policyVersion, policyAcceptedAt: prev.policyAcceptedAt! } : {}),
      marketing: c.marketing,
      marketingAt: at,
      marketingChannel: c.channel,
    };
  }
  if (c.policyVersion !== undefined && m.consent && (m.consent.policyAcceptedAt === undefined || at >= m.consent.policyAcceptedAt)) {
    m.consent.policyVersion = c.policyVersion;
    m.consent.policyAcceptedAt = at;
  }
  consents.record(p.tx, {
    memberId: m.memberId,
    at,
    id: stableId('consent', e.eventId),
    marketing: c.marketing,
    channel: c.channel,
    appId: e.appId,
    ...(c.policyVersion !== undefined ? { policyVersion: c.policyVersion } : {}),
  });
}

/** The consent change's planner (POST /me/consent, lib/privacy/requests.ts). */
export const CONSENT_PLANNERS: Planners<HubEventOf<'member.consent'>> = { 'member.consent': planConsent };

export async function planConsent(e: HubEventOf<'member.consent'>, p: Port): Promise<PlanOutput> {
  const resolved = await resolveMember(p, e, [wechatIdentity(e.appId, e.openid)], { createAs: 'fan', create: false });
  if (!resolved || resolved.member.status !== 'member') throw new NotFoundError('no member record for this WeChat user: register first');
  recordConsent(p, resolved.member, e, { marketing: e.marketing, channel: 'me' });
  saveMember(p, e, resolved);
  return { memberId: resolved.member.memberId, result: { memberId: resolved.member.memberId, marketing: resolved.member.consent!.marketing } };
}
