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
import { queryPage, stripKeys } from '../item-ops.ts';
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

  /**
   * One page of one member partition's ledger, newest first; `after` is the sort key of the last
   * row of the previous page (`next` of that page). A sort key that is not a ledger row's → page one.
   */
  async page(store: Store, memberId: string, limit: number, after?: string): Promise<{ rows: LedgerEntry[]; next?: string }> {
    const valid = after !== undefined && after.startsWith(`${SK_PREFIX}#`) && after.length <= 200;
    const page = await queryPage<Record<string, unknown>>(store, {
      pk: memberPartition(memberId),
      prefix: `${SK_PREFIX}#`,
      newestFirst: true,
      limit,
      ...(valid ? { startKey: { pk: memberPartition(memberId), sk: after } } : {}),
    });
    const next = page.lastKey && typeof page.lastKey.sk === 'string' ? page.lastKey.sk : undefined;
    return { rows: page.items.map((i) => stripKeys(i) as unknown as LedgerEntry), ...(next ? { next } : {}) };
  },

  /** Newest first, keys stripped (the first `limit`). */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    return (await queryMemberPartition(store, memberId, 'LEDGER#', { limit, newestFirst: true })).map(stripKeys);
  },
};
