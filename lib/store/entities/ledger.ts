/**
 * Points ledger rows: one per balance change, in the transaction that changes the balance.
 *
 *   MEMBER#<memberId> | LEDGER#<at, padded>#<entryId>
 *
 * Created once (tag `ledger:<entryId>`): the entry id is stable per change, so one earn or
 * clawback is never applied twice.
 */
import { pad, splitKey, unpad, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { stripKeys } from '../item-ops.ts';
import { memberPartition, parseMemberPartition, queryMemberPartition } from './member.ts';

const SK_PREFIX = 'LEDGER';

export interface LedgerEntry {
  entryId: string;
  memberId: string;
  delta: number;
  balanceAfter: number;
  reason: string;
  ref: string;
  at: number;
}

export const ledgerKey = (memberId: string, at: number, entryId: string): Key => ({
  pk: memberPartition(memberId),
  sk: `${SK_PREFIX}#${pad(at)}#${entryId}`,
});

export function parseLedgerKey(k: Key): { memberId: string; at: number; entryId: string } {
  const [at, entryId] = splitKey(k.sk, SK_PREFIX, 2) as [string, string];
  return { memberId: parseMemberPartition(k.pk), at: unpad(at, k.sk, SK_PREFIX), entryId };
}

export const ledger = {
  append(tx: Tx, e: LedgerEntry): void {
    tx.create(`ledger:${e.entryId}`, ledgerKey(e.memberId, e.at, e.entryId), { ...e });
  },

  /** Newest first, keys stripped (the first `limit`). */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    return (await queryMemberPartition(store, memberId, 'LEDGER#', { limit, newestFirst: true })).map(stripKeys);
  },
};
