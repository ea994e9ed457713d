/**
 * The privacy routes (docs/privacy.md):
 *
 *   GET    /me/data                      the member's own data (lib/privacy/export.ts), audited
 *   POST   /me/consent {marketing}       gives or withdraws the separate marketing consent
 *   DELETE /me                           requests the member's erasure → 202 with its state
 *   GET    /members/{id}/export?reason   (admin, members:export) the same export for a verified
 *                                        request; `reason` names it (a ticket) — audited
 *   POST   /members/{id}/erase {reason}  (admin, members:erase) requests the erasure → 202, audited
 *
 * An erasure is carried out by the `privacy` function (lib/privacy/erase.ts); repeating a request
 * answers the job already there.
 */
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isPathId } from '../store/keys.ts';
import type { ApplyDeps } from '../port.ts';
import type { Store } from '../store/client.ts';
import type { ErasureJob } from '../store/entities/erasure.ts';
import { applyWith } from '../apply/apply-with.ts';
import { CONSENT_PLANNERS } from '../apply/planners/consent.ts';
import { issues } from '../members/caller.ts';
import { sessionMember } from '../members/session.ts';
import { maskPhone } from '../members/phone.ts';
import { exportMember } from './export.ts';
import { audit, requestErasure } from './erase.ts';

export interface PrivacyDeps {
  cfg: HubConfig;
  store: Store;
  now: number;
}

/**
 * The reason an operator gives names the verified request (a ticket), never the person: it goes
 * into the audit entry and log line, so any mainland mobile typed into it is masked first.
 */
const MOBILE = /(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)/g;
const Reason = z
  .string()
  .trim()
  .min(3)
  .max(200)
  .transform((r) => r.replace(MOBILE, (_m, mobile: string) => maskPhone(mobile)));
const ConsentRequest = z.strictObject({ marketing: z.boolean() });
const EraseRequest = z.strictObject({ reason: Reason });

/** What a caller sees of an erasure: its state, never the identifiers it is erasing. */
export function erasureView(job: ErasureJob) {
  return {
    memberId: job.memberId,
    status: job.status,
    requestedAt: job.requestedAt,
    ...(job.completedAt !== undefined ? { completedAt: job.completedAt } : {}),
  };
}

/** GET /me/data */
export async function myData(authorization: string | undefined, deps: PrivacyDeps) {
  const { member } = await sessionMember(authorization, deps);
  const data = await exportMember(deps.store, member.memberId, deps.now);
  await audit(deps.store, deps.cfg, { action: 'export', memberId: member.memberId, actor: 'member', reason: 'access request (GET /me/data)' }, deps.now);
  return data;
}

/** POST /me/consent: one member.consent event through apply (archived, deduplicated like every event). */
export async function changeConsent(authorization: string | undefined, body: unknown, deps: PrivacyDeps & { apply: ApplyDeps }) {
  const parsed = ConsentRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('body must be {"marketing": true|false}', issues(parsed.error));
  const { appId, openid, member } = await sessionMember(authorization, deps);
  const r = await applyWith(
    CONSENT_PLANNERS,
    {
      type: 'member.consent',
      source: 'members',
      eventId: `members:consent:${member.memberId}:${deps.now}:${parsed.data.marketing ? 1 : 0}`,
      occurredAt: deps.now,
      appId,
      openid,
      marketing: parsed.data.marketing,
    },
    deps.apply,
  );
  return { memberId: r.memberId ?? member.memberId, marketing: parsed.data.marketing, at: deps.now };
}

/** DELETE /me */
export async function eraseMe(authorization: string | undefined, deps: PrivacyDeps) {
  const { member } = await sessionMember(authorization, deps);
  return erasureView(await requestErasure(deps.store, deps.cfg, { memberId: member.memberId, actor: 'member', reason: 'erasure request (DELETE /me)' }, deps.now));
}

function knownId(memberId: string): string {
  if (!isPathId(memberId)) throw new NotFoundError('no such member');
  return memberId;
}

function reasonOf(value: unknown): string {
  const parsed = Reason.safeParse(value);
  if (!parsed.success) throw new BadRequestError('a reason naming the verified request (3-200 characters) is required', ['reason: required'], 'reason_required');
  return parsed.data;
}

/** GET /members/{id}/export?reason= */
export async function adminExport(memberId: string, reason: unknown, actor: string, deps: PrivacyDeps) {
  const why = reasonOf(reason);
  const data = await exportMember(deps.store, knownId(memberId), deps.now);
  await audit(deps.store, deps.cfg, { action: 'export', memberId: data.memberId, actor, reason: why }, deps.now);
  return data;
}

/** POST /members/{id}/erase {reason} */
export async function adminErase(memberId: string, body: unknown, actor: string, deps: PrivacyDeps) {
  const parsed = EraseRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('body must be {"reason": "<the verified request>"}', issues(parsed.error), 'reason_required');
  return erasureView(await requestErasure(deps.store, deps.cfg, { memberId: knownId(memberId), actor, reason: parsed.data.reason }, deps.now));
}
