/**
 * Merge records: the survivor's partition keeps one row per record merged into it.
 *
 *   MEMBER#<survivorId> | MERGE#<at, padded>#<loserId>
 */
import { pad, splitKey, unpad, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { stripKeys } from '../item-ops.ts';
import { memberPartition, parseMemberPartition, queryMemberPartition } from './member.ts';

const SK_PREFIX = 'MERGE';

export interface MergeRecord {
  survivor: string;
  loser: string;
  /** The event type that linked the two records. */
  cause: string;
  eventId: string;
  at: number;
}

export const mergeKey = (survivorId: string, at: number, loserId: string): Key => ({
  pk: memberPartition(survivorId),
  sk: `${SK_PREFIX}#${pad(at)}#${loserId}`,
});

export function parseMergeKey(k: Key): { survivorId: string; at: number; loserId: string } {
  const [at, loserId] = splitKey(k.sk, SK_PREFIX, 2) as [string, string];
  return { survivorId: parseMemberPartition(k.pk), at: unpad(at, k.sk, SK_PREFIX), loserId };
}

export const merges = {
  record(tx: Tx, r: MergeRecord): void {
    tx.create(`merge:${r.loser}`, mergeKey(r.survivor, r.at, r.loser), { ...r });
  },

  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    return (await queryMemberPartition(store, memberId, 'MERGE#', { limit })).map(stripKeys);
  },
};
