/**
 * How a member came through a referral (老带新): one row in the referred member's partition,
 * written with the member's first registration.
 *
 *   MEMBER#<memberId> | REFERRAL#BY     referrerId?, status: credited | capped | ignored, reason?, points, at
 *
 * Created once (tag `referral`): a person is referred at most once. `ignored` rows record a
 * referral that earned nothing (a forged or expired token, the member's own, an unknown
 * referrer) with the reason.
 */
import type { Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, stripKeys } from '../item-ops.ts';
import { memberPartition } from './member.ts';

const SK = 'REFERRAL#BY';

export interface ReferralRow {
  memberId: string;
  referrerId?: string;
  status: 'credited' | 'capped' | 'ignored';
  reason?: 'forged' | 'expired' | 'self' | 'unknown_referrer';
  points: number;
  at: number;
}

export const referralKey = (memberId: string): Key => ({ pk: memberPartition(memberId), sk: SK });

export const referralRows = {
  create(tx: Tx, r: ReferralRow): void {
    tx.create('referral', referralKey(r.memberId), { ...r });
  },

  async get(store: Store, memberId: string): Promise<ReferralRow | undefined> {
    const item = await getItem<Record<string, unknown>>(store, referralKey(memberId), { consistent: true });
    return item ? (stripKeys(item) as unknown as ReferralRow) : undefined;
  },
};
