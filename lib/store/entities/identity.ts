/**
 * Identity rows: one per platform identity (`wechat_openid` = `<appId>:<openid>`, `unionid`,
 * `phone` = the phone's HMAC, platform buyer ids), pointing at the member it belongs to.
 *
 *   IDENT#<kind>#<value> | #    gsi1: MIDENT#<memberId> | <kind>#<value>
 *
 * Created once (conditional create, tag `identity`); never moved: after a merge the loser's rows
 * still name the loser, whose record points at the survivor (`mergedInto`).
 */
import { ROOT, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryPage, stripKeys } from '../item-ops.ts';
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';

const PREFIX = 'IDENT';
const INDEX_PREFIX = 'MIDENT';

export const identityKey = (kind: string, value: string): Key => ({ pk: `${PREFIX}#${kind}#${value}`, sk: ROOT });

/** `IDENT#<kind>#<value>` → {kind, value} (the value may contain `#` and `:`). */
export function parseIdentityKey(k: { pk: string }): { kind: string; value: string } {
  const [kind, value] = splitKey(k.pk, PREFIX, 2) as [string, string];
  return { kind, value };
}

/** The member's identities index (gsi1) entry. */
export const memberIdentitiesIndex = (memberId: string, kind: string, value: string) => ({
  gsi1pk: memberIdentitiesPartition(memberId),
  gsi1sk: `${kind}#${value}`,
});
export const memberIdentitiesPartition = (memberId: string): string => `${INDEX_PREFIX}#${memberId}`;

/** The map key of an identity in `readMany`'s answer: `<kind>#<value>`. */
export const identityRef = (i: { kind: string; value: string }): string => `${i.kind}#${i.value}`;

/** BatchGetItem takes at most this many keys. */
const BATCH_GET_MAX = 100;

export const identities = {
  /** Reads identity rows (consistent); returns identityRef → memberId for those that exist. */
  async readMany(store: Store, ids: readonly { kind: string; value: string }[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Map(ids.map((i) => [identityRef(i), i])).values()];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      const chunk = unique.slice(i, i + BATCH_GET_MAX);
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
        [store.table]: { Keys: chunk.map((x) => ({ ...identityKey(x.kind, x.value) })), ConsistentRead: true },
      };
      for (let attempt = 0; request && attempt < 5; attempt++) {
        const res: BatchGetCommandOutput = await store.db.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of res.Responses?.[store.table] ?? []) {
          out.set(identityRef(parseIdentityKey(item as Key)), String(item.memberId));
        }
        const rest = res.UnprocessedKeys?.[store.table]?.Keys;
        request = rest?.length ? { [store.table]: { Keys: rest, ConsistentRead: true } } : undefined;
      }
    }
    return out;
  },

  /** Binds an identity to a member (fails the transaction, tag `identity`, if it is bound already). */
  bind(tx: Tx, id: { kind: string; value: string }, memberId: string, now: number): void {
    tx.create('identity', identityKey(id.kind, id.value), {
      memberId,
      kind: id.kind,
      value: id.value,
      at: now,
      ...memberIdentitiesIndex(memberId, id.kind, id.value),
    });
  },

  /** The identities bound to one member record (first page of the index, at most `limit`). */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    const page = await queryPage(store, { index: true, pk: memberIdentitiesPartition(memberId), limit });
    return page.items.map(stripKeys);
  },
};
