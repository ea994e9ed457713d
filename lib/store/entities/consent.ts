/**
 * Consent records: `MEMBER#<memberId> | CONSENT#<at>#<id>`, one per consent the person gave or
 * withdrew (docs/privacy.md#consent): the privacy-policy version accepted at registration, and
 * the separate marketing consent (`marketing` true or false) with the channel it came through.
 * Written in the transaction of the event that changed the consent (member.register,
 * member.consent), so the profile's `consent` and its history never disagree. No TTL: the
 * history is what proves the consent; it goes with the member (erasure).
 */
import { memberTimedKeys } from './member-timed.ts';
import type { Tx } from '../tx.ts';

export const CONSENT_PREFIX = 'CONSENT#' as const;

const KEYS = memberTimedKeys(CONSENT_PREFIX, 'consent');
export const consentKey = KEYS.build;
export const parseConsentKey = KEYS.parse;

export interface ConsentRecord {
  memberId: string;
  /** When the person gave or withdrew it (the event's time, epoch ms). */
  at: number;
  /** The event that carried it (a redelivery writes the same row). */
  id: string;
  /** The privacy-policy version accepted, when this record accepts one. */
  policyVersion?: string;
  /** The separate marketing consent after this record. */
  marketing: boolean;
  /** Where it was given: `register` (the member centre form), `me` (POST /me/consent), `tmall_mei`. */
  channel: string;
  /** The WeChat app the person used. */
  appId?: string;
}

export const consents = {
  /** Writes the record in the event's transaction (a put: a re-plan of the same event writes the same row). */
  record(tx: Tx, r: ConsentRecord): void {
    const { memberId, at, id, ...rest } = r;
    tx.put('consent', consentKey(memberId, at, id), { memberId, at, ...rest });
  },
};
